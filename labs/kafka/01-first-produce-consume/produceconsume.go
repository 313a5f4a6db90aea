// Package produceconsume writes sensor readings to Kafka and reads them back.
//
// Read the lesson first: delab read kafka/00
// Check your work:       delab check kafka/01
package produceconsume

import (
	"errors"

	_ "github.com/IBM/sarama" // the client library to use
)

// Reading is one sensor reading; records carry it as JSON.
type Reading struct {
	Device string  `json:"device"`
	Seq    int     `json:"seq"`
	Value  float64 `json:"value"`
}

// Produce sends each reading to topic as JSON, keyed by its device id, and
// returns once the broker has acknowledged every one.
func Produce(brokers []string, topic string, readings []Reading) error {
	// TODO: create a SyncProducer (set cfg.Version and Producer.Return.Successes)
	// and send one message per reading.
	return errors.New("Produce is not implemented yet (lesson section \"Producing from Go\")")
}

// Consume returns every reading currently in topic: each partition read
// from its oldest offset up to its high-water mark.
func Consume(brokers []string, topic string) ([]Reading, error) {
	// TODO: read every partition from the beginning to its high-water mark.
	return nil, errors.New("Consume is not implemented yet (lesson section \"Consuming from Go\")")
}
