// Package exactlyonce is a wrong solution of kafka/05-exactly-once: it
// produces each result, waits for its acknowledgement, then marks the input
// offset for auto-commit. That is at-least-once: after a crash the input
// read since the last commit is processed, and its results written, again.
package exactlyonce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Reading is one record of the input topic: JSON, keyed by Device.
type Reading struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"`
	Watts  int    `json:"watts"`
}

// Usage is one record of the output topic: JSON, keyed by Device.
type Usage struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"`
	Watts  int    `json:"watts"`
	Band   string `json:"band"` // "low", "mid" or "high"
}

// Process reads topic in as consumer group group, turns each reading into
// a Usage with transform, and writes it to topic out, keyed by device,
// until ctx is cancelled. Each result and the input offset it consumed
// are committed in one transaction.
func Process(ctx context.Context, brokers []string, group, in, out string, transform func(Reading) Usage) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Read only what committed transactions wrote: an aborted reading
	// must not become a result.
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	cg, err := sarama.NewConsumerGroup(brokers, group, cfg)
	if err != nil {
		return err
	}
	defer cg.Close()
	h := &handler{brokers: brokers, group: group, out: out, transform: transform}
	for {
		err := cg.Consume(ctx, []string{in}, h)
		switch {
		case errors.Is(err, sarama.ErrClosedConsumerGroup) || ctx.Err() != nil:
			return nil
		case errors.Is(err, sarama.ErrUnstableOffsetCommit):
			// A crashed run left a transaction with offsets in it open:
			// the group's offsets are unknown until it is aborted.
			time.Sleep(500 * time.Millisecond)
		case err != nil:
			return err
		}
	}
}

type handler struct {
	brokers    []string
	group, out string
	transform  func(Reading) Usage
}

func (*handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Return.Successes = true
	p, err := sarama.NewSyncProducer(h.brokers, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			var r Reading
			if err := json.Unmarshal(msg.Value, &r); err != nil {
				return fmt.Errorf("partition %d offset %d: %w", msg.Partition, msg.Offset, err)
			}
			v, _ := json.Marshal(h.transform(r))
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: h.out, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}); err != nil {
				return err
			}
			sess.MarkMessage(msg, "") // committed within a second
		case <-sess.Context().Done():
			return nil
		}
	}
}
