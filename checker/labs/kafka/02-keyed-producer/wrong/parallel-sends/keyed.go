// Package keyedproducer creates a partitioned topic and produces device
// events to it, keyed by device, with headers.
//
// Read the lesson first: delab read kafka/01
// Check your work:       delab check kafka/02
package keyedproducer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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

func newConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	// one request in flight per broker: a retry cannot overtake a later batch
	cfg.Net.MaxOpenRequests = 1
	return cfg
}

// CreateTopic creates topic with Partitions partitions and one replica. A
// topic that already exists with Partitions partitions is fine (setup can
// run twice); one with another number of partitions is an error.
func CreateTopic(brokers []string, topic string) error {
	admin, err := sarama.NewClusterAdmin(brokers, newConfig())
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	defer admin.Close()

	err = admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: Partitions, ReplicationFactor: 1}, false)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, sarama.ErrTopicAlreadyExists):
		return fmt.Errorf("create topic %s: %w", topic, err)
	}

	// It exists: is it the topic we wanted?
	var lastErr error
	for attempt := 0; attempt < 30; attempt++ {
		meta, err := admin.DescribeTopics([]string{topic})
		if err != nil {
			return fmt.Errorf("describe topic %s: %w", topic, err)
		}
		if len(meta) != 1 {
			return fmt.Errorf("describe topic %s: %d answers", topic, len(meta))
		}
		switch meta[0].Err {
		case sarama.ErrNoError:
			if n := len(meta[0].Partitions); n != Partitions {
				return fmt.Errorf("topic %s exists with %d partitions, want %d: leaving it alone", topic, n, Partitions)
			}
			return nil
		case sarama.ErrLeaderNotAvailable:
			lastErr = meta[0].Err
			time.Sleep(250 * time.Millisecond)
		default:
			return fmt.Errorf("describe topic %s: %w", topic, meta[0].Err)
		}
	}
	return fmt.Errorf("describe topic %s: still %v", topic, lastErr)
}

// Produce sends each event as JSON, keyed by its device, with the headers
// kind (the event's kind) and content-type (application/json), and returns
// once the broker has acknowledged every one.
func Produce(brokers []string, topic string, events []Event) error {
	p, err := sarama.NewSyncProducer(brokers, newConfig())
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer p.Close()

	// Fan out: one goroutine per event, so a slow ack does not hold up
	// the others; wait for all of them before returning.
	var wg sync.WaitGroup
	errs := make(chan error, len(events))
	for _, e := range events {
		wg.Add(1)
		go func(e Event) {
			defer wg.Done()
			body, err := json.Marshal(e)
			if err != nil {
				errs <- err
				return
			}
			_, _, err = p.SendMessage(&sarama.ProducerMessage{
				Topic: topic,
				Key:   sarama.StringEncoder(e.Device),
				Value: sarama.ByteEncoder(body),
				Headers: []sarama.RecordHeader{
					{Key: []byte("kind"), Value: []byte(e.Kind)},
					{Key: []byte("content-type"), Value: []byte("application/json")},
				},
			})
			if err != nil {
				errs <- err
			}
		}(e)
	}
	wg.Wait()
	close(errs)
	return <-errs
}
