// Package reliableproducer sends device events to Kafka without losing or
// duplicating any, even while a broker restarts, and fast.
//
// Read the lesson first: delab read kafka/02
// Check your work:       delab check kafka/03
package reliableproducer

import (
	"errors"

	_ "github.com/IBM/sarama" // the client library to use
)

// Event is one device event. Seq rises by one per device.
type Event struct {
	Device string `json:"device"`
	Seq    int    `json:"seq"`
	Kind   string `json:"kind"`
	At     int64  `json:"at"` // milliseconds since the epoch
}

// Produce sends every event to topic as JSON, keyed by its device, and
// returns nil only when the broker has acknowledged every one of them.
func Produce(brokers []string, topic string, events []Event) error {
	// TODO: configure acknowledgements, retries, idempotence and batching
	// (see the lesson), then send with an AsyncProducer.
	return errors.New("Produce is not implemented yet (lesson section \"Your lab: survive a crash\")")
}
