// Package kafkacheck is what the Kafka graders share: the grader's own
// client configuration, and reading a whole topic back with the grader's
// own consumer, the evidence every Kafka check is judged on.
package kafkacheck

import (
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/grader"
)

// Config is the configuration of the grader's clients.
func Config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	// The grader reads topics that are complete: no reason to let a fetch
	// (and so closing a partition consumer) wait the default 500ms.
	cfg.Consumer.MaxWaitTime = 50 * time.Millisecond
	cfg.Consumer.Fetch.Default = 4 << 20
	// A broker the grader has just restarted may take a few seconds to
	// answer metadata requests again.
	cfg.Metadata.Retry.Max = 60
	cfg.Metadata.Retry.Backoff = 500 * time.Millisecond
	return cfg
}

// Admin is the grader's own admin client.
func Admin(brokers []string) (sarama.ClusterAdmin, error) {
	a, err := sarama.NewClusterAdmin(brokers, Config())
	if err != nil {
		return nil, fmt.Errorf("grader's Kafka admin: %w", err)
	}
	return a, nil
}

// CreateTopic creates topic for the check h is running with the grader's
// admin client: the given number of partitions, one replica. The topic is
// deleted when the check ends (see DeleteWhenDone). It returns once the
// leader of every partition answers for it, so the learner's code, run
// next, meets a topic that is ready. A broker takes a moment to become the
// leader of a new partition; until then it answers NOT_LEADER_OR_FOLLOWER
// or does not know the topic, and on a loaded machine that moment can
// outlast a producer's default retries (seen in repeated runs of the
// proofs).
func CreateTopic(h *grader.Harness, topic string, partitions int32) error {
	brokers := h.Endpoints.KafkaBrokers
	a, err := Admin(brokers)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	DeleteWhenDone(h, topic)
	return waitReady(brokers, topic, partitions, 30*time.Second)
}

// DeleteWhenDone deletes topics when the check h is running ends, after
// the learner's processes are stopped. A warm broker serves check after
// check, and one that kept every topic would slow down for good: after a
// crash it recovers every log it holds before it serves again, and
// repeated runs of kafka/03 saw that restart grow past two minutes once
// two hundred partitions had piled up. The verdict never depends on the
// deletion, so a broker that does not answer (one a check left down) only
// costs a few seconds.
func DeleteWhenDone(h *grader.Harness, topics ...string) {
	brokers := h.Endpoints.KafkaBrokers
	h.Cleanup(func() { _ = DeleteTopics(brokers, topics...) })
}

// DeleteTopics deletes topics; one that does not exist is not an error.
// It gives a broker that does not answer a few seconds, not the grader's
// usual patience.
func DeleteTopics(brokers []string, topics ...string) error {
	cfg := Config()
	cfg.Metadata.Retry.Max = 3
	cfg.Net.DialTimeout = 5 * time.Second
	a, err := sarama.NewClusterAdmin(brokers, cfg)
	if err != nil {
		return fmt.Errorf("grader's Kafka admin: %w", err)
	}
	defer a.Close()
	var errs []error
	for _, t := range topics {
		if err := a.DeleteTopic(t); err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", t, err))
		}
	}
	return errors.Join(errs...)
}

// waitReady asks until topic is ready (see ready), for at most limit.
func waitReady(brokers []string, topic string, partitions int32, limit time.Duration) error {
	client, err := sarama.NewClient(brokers, Config())
	if err != nil {
		return fmt.Errorf("grader's Kafka client: %w", err)
	}
	defer client.Close()
	deadline := time.Now().Add(limit)
	for {
		err := ready(client, topic, partitions)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s was created but is not ready after %s: %w", topic, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready reports whether the broker describes every partition of topic
// and each partition's leader answers a ListOffsets request for it: the
// leader of a partition answers those only once it leads it.
func ready(client sarama.Client, topic string, partitions int32) error {
	if err := client.RefreshMetadata(topic); err != nil {
		return err
	}
	parts, err := client.Partitions(topic)
	if err != nil {
		return err
	}
	if len(parts) != int(partitions) {
		return fmt.Errorf("the broker describes %d of %d partitions", len(parts), partitions)
	}
	for _, p := range parts {
		if _, err := client.GetOffset(topic, p, sarama.OffsetNewest); err != nil {
			return fmt.Errorf("partition %d: %w", p, err)
		}
	}
	return nil
}

// Record is one record as the grader's consumer saw it.
type Record struct {
	Partition int32
	Offset    int64
	Key       string
	Value     []byte
	Headers   map[string]string
}

// MaxTopicBytes bounds how much the grader reads of a topic the learner's
// code wrote: the keys, values and headers of its records. The largest
// topic a check reads holds 200,000 events of about 100 bytes; what goes
// far past that is no answer to any lab, only a way to fill the checker's
// memory.
const MaxTopicBytes = 256 << 20

// TopicBudget counts the bytes of the records the grader reads from a
// topic the learner's code wrote, up to MaxTopicBytes.
type TopicBudget struct {
	topic string
	used  int64
}

// NewTopicBudget returns the budget for reading topic.
func NewTopicBudget(topic string) *TopicBudget { return &TopicBudget{topic: topic} }

// Take counts m's bytes. Once the topic has given more than MaxTopicBytes
// it returns a *grader.Failure: the learner's code wrote too much.
func (b *TopicBudget) Take(m *sarama.ConsumerMessage) error {
	b.used += int64(len(m.Key) + len(m.Value))
	for _, h := range m.Headers {
		if h != nil {
			b.used += int64(len(h.Key) + len(h.Value))
		}
	}
	if b.used > MaxTopicBytes {
		return grader.Failf("topic %s holds more than %d MiB of records; the checker reads at most that much of a topic", b.topic, MaxTopicBytes>>20)
	}
	return nil
}

// Offsets returns the high-water mark of each of the topic's partitions.
func Offsets(client sarama.Client, topic string) ([]int64, error) {
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(parts))
	for _, p := range parts {
		if int(p) >= len(out) {
			return nil, fmt.Errorf("topic %s: unexpected partition %d", topic, p)
		}
		hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, err
		}
		out[p] = hwm
	}
	return out, nil
}

// Sum adds up high-water marks: the number of records in a topic that
// never deleted any.
func Sum(hwms []int64) int64 {
	var s int64
	for _, x := range hwms {
		s += x
	}
	return s
}

// ReadTopic returns every record of every partition, from the oldest up to
// the high-water mark it finds first, ordered by partition and offset, and
// those high-water marks. The topic is the learner's: past MaxTopicBytes
// it returns a *grader.Failure.
func ReadTopic(brokers []string, topic string) ([]Record, []int64, error) {
	client, err := sarama.NewClient(brokers, Config())
	if err != nil {
		return nil, nil, err
	}
	defer client.Close()
	hwms, err := Offsets(client, topic)
	if err != nil {
		return nil, nil, err
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, nil, err
	}
	defer consumer.Close()
	var out []Record
	budget := NewTopicBudget(topic)
	for p, hwm := range hwms {
		if hwm == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, int32(p), sarama.OffsetOldest)
		if err != nil {
			return nil, nil, err
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				if err := budget.Take(m); err != nil {
					pc.AsyncClose()
					return nil, nil, err
				}
				r := Record{Partition: int32(p), Offset: m.Offset, Key: string(m.Key), Value: m.Value, Headers: map[string]string{}}
				for _, h := range m.Headers {
					r.Headers[string(h.Key)] = string(h.Value)
				}
				out = append(out, r)
				done = m.Offset >= hwm-1
			case <-time.After(20 * time.Second):
				pc.AsyncClose()
				return nil, nil, fmt.Errorf("partition %d: no record for 20s before the high-water mark %d", p, hwm)
			}
		}
		pc.AsyncClose()
	}
	return out, hwms, nil
}
