// Package keyedproducer creates a partitioned topic and produces device
// events to it, keyed by device, with headers.
//
// Read the lesson first: delab read kafka/01
// Check your work:       delab check kafka/02
package keyedproducer

import (
	"errors"

	_ "github.com/IBM/sarama" // the client library to use
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

// CreateTopic creates topic with Partitions partitions and one replica. A
// topic that already exists with Partitions partitions is fine (setup can
// run twice); one with another number of partitions is an error.
func CreateTopic(brokers []string, topic string) error {
	return errors.New("CreateTopic is not implemented yet (lesson section \"Creating topics from code\")")
}

// Produce sends each event as JSON, keyed by its device, with the headers
// kind (the event's kind) and content-type (application/json), and returns
// once the broker has acknowledged every one.
func Produce(brokers []string, topic string, events []Event) error {
	return errors.New("Produce is not implemented yet (lesson section \"Your lab: a keyed producer\")")
}
