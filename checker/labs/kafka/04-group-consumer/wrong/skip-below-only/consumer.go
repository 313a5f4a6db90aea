// Package groupconsumer is a wrong solution of kafka/04-group-consumer:
// its replay rule is off by one. It skips a reading whose Seq is below the
// row's LastSeq, but counts one whose Seq equals it: after a crash right
// after a write, the replay starts with exactly that reading, and it is
// counted twice.
package groupconsumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/IBM/sarama"
)

// Reading is one record of the topic: JSON, keyed by Device.
type Reading struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"` // rises by one per device, from 1
	Watts  int    `json:"watts"`
}

// Total is the sink's row for one device.
type Total struct {
	Watts    int64 `json:"watts"`
	Readings int   `json:"readings"`
	LastSeq  int   `json:"last_seq"` // the Seq of the last reading counted
}

// Sink is the table the totals live in, one row per device. The checker
// provides it: each Put is atomic and durable, like a committed UPDATE.
type Sink interface {
	Get(device string) (Total, bool, error)
	Put(device string, t Total) error
}

// Consume joins the consumer group group, reads topic and keeps each
// device's total in sink, until ctx is cancelled.
func Consume(ctx context.Context, brokers []string, group, topic string, sink Sink) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	// A group with no committed offset starts at the oldest record, not
	// at the end of the log (sarama's default is OffsetNewest).
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Offsets marked below are committed every second (the default).
	cg, err := sarama.NewConsumerGroup(brokers, group, cfg)
	if err != nil {
		return err
	}
	defer cg.Close()
	h := handler{sink: sink}
	// Consume returns at every rebalance: join again until told to stop.
	for {
		if err := cg.Consume(ctx, []string{topic}, h); err != nil {
			if errors.Is(err, sarama.ErrClosedConsumerGroup) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

type handler struct{ sink Sink }

func (handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

// ConsumeClaim applies each record to its device's row, then marks it:
// the offset is committed only after the write, so a crash replays
// records, never skips them, and LastSeq makes the replay harmless.
func (h handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		var msg *sarama.ConsumerMessage
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			msg = m
		case <-sess.Context().Done():
			// A rebalance: give the partition back promptly.
			return nil
		}
		var r Reading
		if err := json.Unmarshal(msg.Value, &r); err != nil {
			return fmt.Errorf("partition %d offset %d: %w", msg.Partition, msg.Offset, err)
		}
		t, _, err := h.sink.Get(r.Device)
		if err != nil {
			return err
		}
		if r.Seq >= t.LastSeq { // off by one: Seq == LastSeq was counted already
			t.Watts += int64(r.Watts)
			t.Readings++
			t.LastSeq = r.Seq
			if err := h.sink.Put(r.Device, t); err != nil {
				return err
			}
		}
		sess.MarkMessage(msg, "")
	}
}
