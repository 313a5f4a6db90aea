package services

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestImagesPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DELAB_IMAGE_CACHE", dir)
	t.Setenv("DELAB_KAFKA_IMAGE", "")
	t.Setenv("DELAB_HDFS_IMAGE", "")
	t.Setenv("DELAB_SPARK_IMAGE", "")
	assert.Equal(t, Images{DefaultKafkaImage, DefaultHDFSImage, DefaultSparkImage}, ImagesFromEnv(), "official images by default")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "images.env"), []byte("export DELAB_KAFKA_IMAGE=delab/kafka-standin:4.2.0-abc\nexport DELAB_HDFS_IMAGE=delab/hadoop-standin:3.4.3-def\n"), 0o644))
	got := ImagesFromEnv()
	assert.Equal(t, "delab/kafka-standin:4.2.0-abc", got.Kafka, "stand-ins that make images built are used")
	assert.Equal(t, "delab/hadoop-standin:3.4.3-def", got.HDFS)
	assert.Equal(t, DefaultSparkImage, got.Spark)

	t.Setenv("DELAB_KAFKA_IMAGE", "my/kafka:1")
	assert.Equal(t, "my/kafka:1", ImagesFromEnv().Kafka, "the variable wins")
}
