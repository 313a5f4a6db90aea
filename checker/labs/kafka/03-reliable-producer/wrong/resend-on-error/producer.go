// Package reliableproducer is a wrong solution of
// kafka/03-reliable-producer: on an error it sends every event again, so what the
// broker already had is written twice.
package reliableproducer

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Event is one device event. Seq rises by one per device.
type Event struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"`
	Kind   string `json:"kind"`
	At     int64  `json:"at"` // milliseconds since the epoch
}

// Config is the producer's configuration: no loss, no duplicates, order
// kept per key, and batches large enough to be fast.
func Config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	// Durability: a record counts only once the broker has it.
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	// No duplicates when a retry follows a lost acknowledgement: the broker
	// drops a batch whose sequence number it has already written. Sarama
	// needs one request in flight per broker for it.
	// Speed: fill batches instead of sending one record per request.
	cfg.Producer.Flush.Bytes = 512 << 10
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	cfg.Producer.Compression = sarama.CompressionLZ4
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	return cfg
}

// Produce sends every event to topic keyed by its device, and returns nil
// only when the broker has acknowledged every one of them.
func Produce(brokers []string, topic string, events []Event) error {
	var err error
	for range 60 {
		if err = produceOnce(brokers, topic, events); err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return err
}

func produceOnce(brokers []string, topic string, events []Event) error {
	p, err := sarama.NewAsyncProducer(brokers, Config())
	if err != nil {
		return err
	}
	// Count outcomes as they come, and close only once every event has
	// one: closing earlier fails the batches still being retried
	// ("producer in process of shutting down").
	done := make(chan struct{})
	var acked, failed int
	var first error
	go func() {
		defer close(done)
		succ, errs := p.Successes(), p.Errors()
		for acked+failed < len(events) {
			select {
			case <-succ:
				acked++
			case e := <-errs:
				if first == nil {
					first = e.Err
				}
				failed++
			}
		}
	}()
	for _, e := range events {
		v, err := json.Marshal(e)
		if err != nil {
			p.AsyncClose()
			return err
		}
		p.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(e.Device), Value: sarama.ByteEncoder(v)}
	}
	<-done
	if err := p.Close(); err != nil && first == nil {
		first = err
	}
	if first != nil {
		return fmt.Errorf("%d of %d events were not acknowledged: %w", failed, len(events), first)
	}
	return nil
}
