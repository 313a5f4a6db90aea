package services

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"

	"github.com/delab-dev/delab/checker/catalog"
)

func TestImagesPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DELAB_IMAGE_CACHE", dir)
	t.Setenv("DELAB_KAFKA_IMAGE", "")
	t.Setenv("DELAB_HDFS_IMAGE", "")
	t.Setenv("DELAB_SPARK_IMAGE", "")
	assert.Equal(t, Images{catalog.Kafka: DefaultKafkaImage, catalog.HDFS: DefaultHDFSImage, catalog.Spark: DefaultSparkImage}, ImagesFromEnv(), "official images by default")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "images.env"), []byte("export DELAB_KAFKA_IMAGE=delab/kafka-standin:4.2.0-abc\nexport DELAB_HDFS_IMAGE=delab/hadoop-standin:3.4.3-def\n"), 0o644))
	got := ImagesFromEnv()
	assert.Equal(t, "delab/kafka-standin:4.2.0-abc", got.Of(catalog.Kafka), "stand-ins that make images built are used")
	assert.Equal(t, "delab/hadoop-standin:3.4.3-def", got.Of(catalog.HDFS))
	assert.Equal(t, DefaultSparkImage, got.Of(catalog.Spark))
	assert.Equal(t, "delab/hadoop-standin:3.4.3-def", Lookup(catalog.HDFS).Image(), "a service started without WithImage runs the same image")

	t.Setenv("DELAB_KAFKA_IMAGE", "my/kafka:1")
	assert.Equal(t, "my/kafka:1", ImagesFromEnv().Of(catalog.Kafka), "the variable wins")
	assert.Equal(t, "my/kafka:1", newConfig(kafkaImageEnv, DefaultKafkaImage, "", 0, nil).image)

	chosen := ResolveImages(map[catalog.Service]string{catalog.Kafka: "flag/kafka:2"})
	assert.Equal(t, "flag/kafka:2", chosen.Of(catalog.Kafka), "a flag wins over the variable")
	assert.Equal(t, "delab/hadoop-standin:3.4.3-def", chosen.Of(catalog.HDFS), "a flag for one service leaves the others")
	assert.Equal(t, "flag/kafka:2", newConfig(kafkaImageEnv, DefaultKafkaImage, "", 0, []Option{WithImage("flag/kafka:2")}).image, "WithImage wins")
}

// The service table and the catalog name the same services, so that every
// service a lab.yaml may ask for can be started, listed and diagnosed.
func TestEveryCatalogServiceHasOneDefinition(t *testing.T) {
	assert.ElementsMatch(t, catalog.Services, Names())
	seen := map[string]bool{}
	for _, d := range Definitions() {
		assert.Same(t, d, Lookup(d.Name))
		for _, v := range []string{d.Title, d.DefaultImage, d.ImageEnv, d.ImageFlag} {
			assert.NotEmpty(t, v, "%s", d.Name)
			assert.False(t, seen[v], "%s: %q is another service's too", d.Name, v)
			seen[v] = true
		}
		assert.NotNil(t, d.start, d.Name)
		assert.NotNil(t, d.summary, d.Name)
	}
	assert.Nil(t, Lookup("cassandra"))
	assert.Equal(t, []catalog.Service{catalog.Kafka, catalog.HDFS, catalog.Spark}, Names(), "the order delab lists them in")
}

// Warm containers are found again by name: the name of a service's warm
// container must only change when its definition does.
func TestWarmNameIsStable(t *testing.T) {
	assert.Equal(t, "delab-warm-kafka-8b9376a151", WarmName(catalog.Kafka, "apache/kafka:4.2.0"))
	assert.NotEqual(t, WarmName(catalog.Kafka, "apache/kafka:4.2.0"), WarmName(catalog.Kafka, "apache/kafka:4.2.1"))
}

// fakeService stands in for a started service.
type fakeService struct{ brokers []string }

func (fakeService) container() *testcontainers.DockerContainer {
	return &testcontainers.DockerContainer{}
}
func (f fakeService) addEndpoints(e *Endpoints) { e.KafkaBrokers = f.brokers }

func TestStackEndpointsAndRestartComeFromItsServices(t *testing.T) {
	st := &Stack{Network: "net", running: map[catalog.Service]service{catalog.Kafka: fakeService{brokers: []string{"127.0.0.1:9"}}}}
	assert.Equal(t, Endpoints{KafkaBrokers: []string{"127.0.0.1:9"}, Network: "net"}, st.Endpoints())
	assert.True(t, st.Has(catalog.Kafka))
	assert.False(t, st.Has(catalog.HDFS))

	err := st.Restart(context.Background(), catalog.HDFS, time.Second)
	assert.EqualError(t, err, "restart hdfs: not supported")
	err = (&Stack{}).Restart(context.Background(), catalog.Kafka, time.Second)
	assert.EqualError(t, err, "restart kafka: not part of this stack")
}

func TestSummaries(t *testing.T) {
	e := Endpoints{
		KafkaBrokers: []string{"127.0.0.1:1"},
		HDFSNameNode: "127.0.0.1:2", HDFSWebUI: "http://127.0.0.1:3", HDFSDataNodes: map[int]string{9876: "127.0.0.1:5", 9866: "127.0.0.1:4"},
		SparkThrift: "127.0.0.1:6", SparkConnect: "sc://127.0.0.1:8", SparkUI: "http://127.0.0.1:7",
	}
	assert.Equal(t, "brokers 127.0.0.1:1 (from containers: kafka:19092)", Lookup(catalog.Kafka).Summary(e))
	assert.Equal(t, "namenode 127.0.0.1:2 (from containers: hdfs://hdfs:8020), web UI http://127.0.0.1:3, datanodes 9866→127.0.0.1:4 9876→127.0.0.1:5", Lookup(catalog.HDFS).Summary(e))
	assert.Equal(t, "thrift (HiveServer2) 127.0.0.1:6, connect sc://127.0.0.1:8, UI and REST API http://127.0.0.1:7", Lookup(catalog.Spark).Summary(e))
}
