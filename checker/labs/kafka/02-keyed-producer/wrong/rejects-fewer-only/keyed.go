// Package keyedproducer is a wrong solution of kafka/02-keyed-producer:
// it rejects an existing topic only when it has fewer partitions than
// asked (n < Partitions), so a topic with more partitions is accepted and
// the keys land on other partitions than the lesson's code expects.
package keyedproducer

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Partitions is the number of partitions of the events topic.
const Partitions = 6

// Event is one device event. Seq rises by one per device.
type Event struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"`
	Kind   string `json:"kind"`
	At     int64  `json:"at"` // milliseconds since the epoch
}

func config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	return cfg
}

// CreateTopic creates topic with Partitions partitions and one replica. A
// topic that already exists with Partitions partitions is fine (setup can
// run twice); one with another number of partitions is an error.
func CreateTopic(brokers []string, topic string) error {
	admin, err := sarama.NewClusterAdmin(brokers, config())
	if err != nil {
		return err
	}
	defer admin.Close()
	err = admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: Partitions, ReplicationFactor: 1}, false)
	if !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return err
	}
	// A topic created a moment ago may still report LEADER_NOT_AVAILABLE
	// while its partitions get leaders: ask again for a few seconds.
	for attempt := 0; ; attempt++ {
		meta, err := admin.DescribeTopics([]string{topic})
		if err != nil {
			return err
		}
		if len(meta) != 1 {
			return fmt.Errorf("describe topic %s: %d answers", topic, len(meta))
		}
		switch {
		case meta[0].Err == sarama.ErrNoError:
			if n := len(meta[0].Partitions); n < Partitions {
				return fmt.Errorf("topic %s already exists with %d partitions, not %d", topic, n, Partitions)
			}
			return nil
		case meta[0].Err == sarama.ErrLeaderNotAvailable && attempt < 50:
			time.Sleep(100 * time.Millisecond)
		default:
			return fmt.Errorf("describe topic %s: %w", topic, meta[0].Err)
		}
	}
}

// Produce sends each event as JSON, keyed by its device, with the headers
// kind (the event's kind) and content-type (application/json), and returns
// once the broker has acknowledged every one.
func Produce(brokers []string, topic string, events []Event) error {
	p, err := sarama.NewSyncProducer(brokers, config())
	if err != nil {
		return err
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, 0, len(events))
	for _, e := range events {
		v, err := json.Marshal(e)
		if err != nil {
			return err
		}
		msgs = append(msgs, &sarama.ProducerMessage{
			Topic: topic,
			Key:   sarama.StringEncoder(e.Device),
			Value: sarama.ByteEncoder(v),
			Headers: []sarama.RecordHeader{
				{Key: []byte("kind"), Value: []byte(e.Kind)},
				{Key: []byte("content-type"), Value: []byte("application/json")},
			},
		})
	}
	// One call, many batches: SendMessages keeps each partition's records
	// in the order given.
	return p.SendMessages(msgs)
}
