package kafkacheck_test

import (
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

// A learner's producer can fill a topic faster than the grader should
// read it; past MaxTopicBytes, reading it is the learner's failure.
func TestTopicBudgetFailsTheLearnerPastItsBytes(t *testing.T) {
	b := kafkacheck.NewTopicBudget("events-u1")
	value := make([]byte, 1<<20)
	m := &sarama.ConsumerMessage{Key: []byte("sensor-01"), Value: value, Headers: []*sarama.RecordHeader{{Key: []byte("kind"), Value: []byte("reading")}, nil}}
	for range kafkacheck.MaxTopicBytes>>20 - 1 {
		require.NoError(t, b.Take(m))
	}
	err := b.Take(m)
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, "topic events-u1 holds more than 256 MiB of records; the checker reads at most that much of a topic", f.Message)
}
