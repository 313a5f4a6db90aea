// Package exactlyonce is a wrong solution of kafka/05-exactly-once:
// it reads the input at sarama's default isolation level, read
// uncommitted, so readings of aborted transactions become results.
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

// batch is how many records one transaction carries at most; an idle
// partition commits what it has after idle.
const (
	batch = 200
	idle  = 20 * time.Millisecond
)

// Process reads topic in as consumer group group, turns each reading into
// a Usage with transform, and writes it to topic out, keyed by device,
// until ctx is cancelled. Each result and the input offset it consumed
// are committed in one transaction.
func Process(ctx context.Context, brokers []string, group, in, out string, transform func(Reading) Usage) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Offsets are committed by the transactions, never on a timer.
	cfg.Consumer.Offsets.AutoCommit.Enable = false
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

// producer is a transactional producer for one input partition. Its
// transactional id is the same after a restart, so the new producer fences
// the crashed one and aborts whatever transaction it left open.
func (h *handler) producer(topic string, partition int32) (sarama.AsyncProducer, error) {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Transaction.ID = fmt.Sprintf("%s-%s-%d", h.group, topic, partition)
	// A transaction a crash leaves open is aborted after this long, at the
	// latest (sooner when a new producer with the same id fences it).
	cfg.Producer.Transaction.Timeout = 10 * time.Second
	cfg.Producer.Retry.Max = 20
	return sarama.NewAsyncProducer(h.brokers, cfg)
}

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	p, err := h.producer(claim.Topic(), claim.Partition())
	if err != nil {
		return err
	}
	defer p.Close()
	go func() {
		for range p.Errors() { // a failed send fails the transaction's commit
		}
	}()
	n := 0
	commit := func() error {
		if n == 0 {
			return nil
		}
		n = 0
		if err := p.CommitTxn(); err != nil {
			_ = p.AbortTxn()
			return fmt.Errorf("commit a transaction: %w", err)
		}
		return nil
	}
	tick := time.NewTicker(idle)
	defer tick.Stop()
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return commit()
			}
			var r Reading
			if err := json.Unmarshal(msg.Value, &r); err != nil {
				return fmt.Errorf("partition %d offset %d: %w", msg.Partition, msg.Offset, err)
			}
			if n == 0 {
				if err := p.BeginTxn(); err != nil {
					return err
				}
			}
			v, _ := json.Marshal(h.transform(r))
			p.Input() <- &sarama.ProducerMessage{Topic: h.out, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}
			// The input offset joins the same transaction.
			if err := p.AddMessageToTxn(msg, h.group, nil); err != nil {
				_ = p.AbortTxn()
				return err
			}
			if n++; n >= batch {
				if err := commit(); err != nil {
					return err
				}
			}
		case <-tick.C:
			if err := commit(); err != nil {
				return err
			}
		case <-sess.Context().Done():
			// A rebalance: finish the transaction, give the partition back.
			return commit()
		}
	}
}
