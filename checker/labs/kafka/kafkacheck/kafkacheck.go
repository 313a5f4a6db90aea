// Package kafkacheck is what the Kafka graders share: the grader's own
// client configuration, and reading a whole topic back with the grader's
// own consumer, the evidence every Kafka check is judged on.
package kafkacheck

import (
	"fmt"
	"time"

	"github.com/IBM/sarama"
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

// CreateTopic creates topic with the grader's admin client: the given
// number of partitions, one replica.
func CreateTopic(brokers []string, topic string, partitions int32) error {
	a, err := Admin(brokers)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
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
// those high-water marks.
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
