// Package produceconsume is a wrong solution of kafka/01-first-produce-consume.
//
// Mistake: starts every partition at offset 0 instead of sarama.OffsetOldest.
// Once a partition's oldest records are deleted (retention, DeleteRecords)
// its log starts later, and offset 0 is out of range.
package produceconsume

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// Reading is one sensor reading; records carry it as JSON.
type Reading struct {
	Device string  `json:"device"`
	Seq    int     `json:"seq"`
	Value  float64 `json:"value"`
}

func config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.Return.Successes = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Consumer.MaxWaitTime = 100 * time.Millisecond // don't linger on a topic we read to its end
	return cfg
}

// Produce sends each reading to topic as JSON, keyed by its device id, and
// returns once the broker has acknowledged every one.
func Produce(brokers []string, topic string, readings []Reading) error {
	p, err := sarama.NewSyncProducer(brokers, config())
	if err != nil {
		return err
	}
	for _, r := range readings {
		value, err := json.Marshal(r)
		if err != nil {
			p.Close()
			return err
		}
		msg := &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(value)}
		if _, _, err := p.SendMessage(msg); err != nil {
			p.Close()
			return fmt.Errorf("send %s #%d: %w", r.Device, r.Seq, err)
		}
	}
	return p.Close()
}

// Consume returns every reading currently in topic: each partition read
// from its oldest offset up to its high-water mark.
func Consume(brokers []string, topic string) ([]Reading, error) {
	client, err := sarama.NewClient(brokers, config())
	if err != nil {
		return nil, err
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	parts, err := client.Partitions(topic)
	if err != nil {
		return nil, err
	}
	var out []Reading
	for _, p := range parts {
		hwm, err := client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, err
		}
		if hwm == 0 {
			continue
		}
		pc, err := consumer.ConsumePartition(topic, p, 0) // offset 0, not the oldest retained
		if err != nil {
			return nil, err
		}
		for done := false; !done; {
			select {
			case m := <-pc.Messages():
				var r Reading
				if err := json.Unmarshal(m.Value, &r); err != nil {
					pc.Close()
					return nil, fmt.Errorf("partition %d offset %d: %w", p, m.Offset, err)
				}
				out = append(out, r)
				done = m.Offset >= hwm-1
			case <-time.After(10 * time.Second):
				pc.AsyncClose()
				return nil, fmt.Errorf("partition %d: nothing to read before offset %d", p, hwm)
			}
		}
		pc.AsyncClose()
	}
	return out, nil
}
