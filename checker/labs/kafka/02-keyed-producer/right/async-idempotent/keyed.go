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

var errNotReady = errors.New("topic has no partitions yet")

// CreateTopic creates topic with Partitions partitions and one replica. A
// topic that already exists with Partitions partitions is fine (setup can
// run twice); one with another number of partitions is an error.
func CreateTopic(brokers []string, topic string) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return err
	}
	// Closing the admin also closes the client; Close twice is harmless.
	defer admin.Close()

	want := &sarama.TopicDetail{NumPartitions: Partitions, ReplicationFactor: 1}
	if err := admin.CreateTopic(topic, want, false); err == nil {
		return nil
	} else if !errors.Is(err, sarama.ErrTopicAlreadyExists) {
		return err
	}

	count := func() (int, error) {
		meta, err := admin.DescribeTopics([]string{topic})
		if err != nil {
			return 0, err
		}
		for _, m := range meta {
			if m.Name != topic {
				continue
			}
			if errors.Is(m.Err, sarama.ErrLeaderNotAvailable) {
				return 0, errNotReady
			}
			if m.Err != sarama.ErrNoError {
				return 0, m.Err
			}
			return len(m.Partitions), nil
		}
		return 0, errNotReady
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := count()
		if err == nil {
			if n == Partitions {
				return nil
			}
			return fmt.Errorf("topic %q already exists with %d partitions (want %d)", topic, n, Partitions)
		}
		if !errors.Is(err, errNotReady) || time.Now().After(deadline) {
			return fmt.Errorf("describe %q: %w", topic, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Produce sends each event as JSON, keyed by its device, with the headers
// kind (the event's kind) and content-type (application/json), and returns
// once the broker has acknowledged every one.
func Produce(brokers []string, topic string, events []Event) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true // keeps per-partition order through retries
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true

	p, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		var first error
		for acked := 0; acked < len(events); acked++ {
			select {
			case <-p.Successes():
			case perr := <-p.Errors():
				if first == nil {
					first = perr
				}
			}
		}
		done <- first
	}()

	for _, e := range events {
		var buf []byte
		buf, err = json.Marshal(&e)
		if err != nil {
			break
		}
		hdr := make([]sarama.RecordHeader, 0, 2)
		hdr = append(hdr, sarama.RecordHeader{Key: []byte("kind"), Value: []byte(e.Kind)})
		hdr = append(hdr, sarama.RecordHeader{Key: []byte("content-type"), Value: []byte("application/json")})
		p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.ByteEncoder(e.Device), Value: sarama.ByteEncoder(buf), Headers: hdr}
	}
	if err != nil {
		p.AsyncClose()
		return err
	}
	ackErr := <-done
	closeErr := p.Close()
	if ackErr != nil {
		return ackErr
	}
	return closeErr
}
