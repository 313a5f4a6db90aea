package kafkacheck

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
)

// TestSaramaDefaultsTheLessonsState pins every sarama default the Kafka
// lessons state as a fact (lessons/kafka/*.md), against the version in
// go.mod: an upgrade that changes one fails here, not in a learner's lab.
func TestSaramaDefaultsTheLessonsState(t *testing.T) {
	c := sarama.NewConfig()
	// 00-kafka-first-contact: "A fetch waits up to Consumer.MaxWaitTime (500 ms by default)".
	assert.Equal(t, 500*time.Millisecond, c.Consumer.MaxWaitTime)
	// 02-producer-guarantees: "Sarama's defaults retry 3 times, 100 ms apart", and acks=1.
	assert.Equal(t, 3, c.Producer.Retry.Max)
	assert.Equal(t, 100*time.Millisecond, c.Producer.Retry.Backoff)
	assert.Equal(t, sarama.WaitForLocal, c.Producer.RequiredAcks)
	assert.False(t, c.Producer.Idempotent)
	// 03-consumer-groups: marks are committed every second, auto-commit on;
	// a new group starts at OffsetNewest; a session times out after 10 s.
	assert.True(t, c.Consumer.Offsets.AutoCommit.Enable)
	assert.Equal(t, time.Second, c.Consumer.Offsets.AutoCommit.Interval)
	assert.Equal(t, sarama.OffsetNewest, c.Consumer.Offsets.Initial)
	assert.Equal(t, 10*time.Second, c.Consumer.Group.Session.Timeout)
	// 04-exactly-once: "sarama's default is read uncommitted".
	assert.Equal(t, sarama.ReadUncommitted, c.Consumer.IsolationLevel)
}

// TestSaramaIdempotenceNeedsWhatTheLessonSays pins 02-producer-guarantees'
// "Sarama requires RequiredAcks = WaitForAll, Net.MaxOpenRequests = 1 and
// a Version of at least 0.11 for it".
func TestSaramaIdempotenceNeedsWhatTheLessonSays(t *testing.T) {
	ok := func() *sarama.Config {
		c := sarama.NewConfig()
		c.Producer.Idempotent = true
		c.Producer.RequiredAcks = sarama.WaitForAll
		c.Net.MaxOpenRequests = 1
		c.Version = sarama.V0_11_0_0
		return c
	}
	assert.NoError(t, ok().Validate())
	acks := ok()
	acks.Producer.RequiredAcks = sarama.WaitForLocal
	assert.Error(t, acks.Validate())
	open := ok()
	open.Net.MaxOpenRequests = 5
	assert.Error(t, open.Validate())
	old := ok()
	old.Version = sarama.V0_10_2_0
	assert.Error(t, old.Validate())
}
