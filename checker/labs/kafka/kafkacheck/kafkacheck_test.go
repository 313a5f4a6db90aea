package kafkacheck_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
	"github.com/delab-dev/delab/checker/services"
)

// A topic the grader creates must be usable at once by the learner's
// code, run next: a producer that does not retry at all sends to every
// partition of it without an error. When the check ends, its topics are
// gone from the (warm) broker, and soon after from its disk.
func TestCreatedTopicIsReadyForAProducerThatDoesNotRetry(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a Kafka broker")
	}
	if err := services.CheckDocker(context.Background()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("service tests must run in CI: %v", err)
		}
		t.Skipf("skipping service test: %v", err)
	}
	k, err := services.Kafka(context.Background())
	testcontainers.CleanupContainer(t, k.DockerContainer)
	require.NoError(t, err)

	h := grader.NewHarness(nil, nil, nil, t.TempDir(), 1, services.Endpoints{KafkaBrokers: k.Brokers})
	cfg := kafkacheck.Config()
	cfg.Producer.Retry.Max = 0
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	for i := range 15 {
		topic := fmt.Sprintf("ready-%d", i)
		start := time.Now()
		require.NoError(t, kafkacheck.CreateTopic(h, topic, 6))
		t.Logf("%s: CreateTopic returned after %s", topic, time.Since(start).Round(time.Millisecond))
		p, err := sarama.NewSyncProducer(k.Brokers, cfg)
		require.NoError(t, err)
		for part := range int32(6) {
			_, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: part, Value: sarama.StringEncoder("x")})
			require.NoError(t, err, "topic %s partition %d, right after CreateTopic returned", topic, part)
		}
		require.NoError(t, p.Close())
	}
	recs, hwms, err := kafkacheck.ReadTopic(k.Brokers, "ready-14")
	require.NoError(t, err)
	require.Len(t, recs, 6)
	require.Equal(t, []int64{1, 1, 1, 1, 1, 1}, hwms)

	admin, err := kafkacheck.Admin(k.Brokers)
	require.NoError(t, err)
	defer admin.Close()
	before, err := admin.ListTopics()
	require.NoError(t, err)
	require.Contains(t, before, "ready-0")
	h.RunCleanups()
	after, err := admin.ListTopics()
	require.NoError(t, err)
	for name := range after {
		require.NotContains(t, name, "ready-", "a topic the check created outlived it")
	}
	// And their files leave the broker's disk soon after, so that a broker
	// crashed by the next check does not load them again. The service sets
	// log.segment.delete.delay.ms to 1s: the broker's first pass over
	// deleted logs comes 30s after it started, then one every second.
	// With Kafka's default, files stay at least 60s after the deletion.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, out, err := k.Exec(context.Background(), []string{"ls", services.KafkaLogDir}, tcexec.Multiplexed())
		require.NoError(c, err)
		require.Zero(c, code)
		b, err := io.ReadAll(out)
		require.NoError(c, err)
		var left []string
		for _, name := range strings.Fields(string(b)) {
			if strings.HasPrefix(name, "ready-") {
				left = append(left, name)
			}
		}
		assert.Empty(c, left, "deleted topics' files still on the broker's disk")
	}, 45*time.Second, 250*time.Millisecond)
	// Deleting again (a cleanup run twice, a topic the learner never
	// created) is not an error.
	require.NoError(t, kafkacheck.DeleteTopics(k.Brokers, "ready-0", "never-created"))
}
