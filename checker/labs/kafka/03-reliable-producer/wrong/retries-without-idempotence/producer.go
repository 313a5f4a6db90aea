// Package reliableproducer is a wrong solution of
// kafka/03-reliable-producer: it retries for long enough to outlast the
// crash, with acks=all, but without idempotence, so a batch the broker
// wrote whose acknowledgement was lost is written again by the retry.
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
	// The mistake: no idempotence (and sarama's default of five requests
	// in flight), so the broker cannot tell a retried batch from a new one.
	// Survive a broker that is away for seconds, not milliseconds: the
	// defaults (3 retries, 100ms apart) give up after a third of a second.
	// Here retrying lasts about a minute.
	cfg.Producer.Retry.Max = 240
	cfg.Producer.Retry.Backoff = 250 * time.Millisecond
	cfg.Metadata.Retry.Max = 240
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
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
