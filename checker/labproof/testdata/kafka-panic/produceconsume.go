// Package produceconsume is a test fixture: a learner whose Produce panics.
package produceconsume

import "time"

// Reading is one sensor reading.
type Reading struct {
	Device string  `json:"device"`
	Seq    int     `json:"seq"`
	Value  float64 `json:"value"`
}

// Produce panics.
func Produce(brokers []string, topic string, readings []Reading) error {
	if "panic" == "panic" {
		var m map[string]int
		m[topic]++
	}
	for {
		time.Sleep(time.Second)
	}
}

// Consume is not reached.
func Consume(brokers []string, topic string) ([]Reading, error) { return nil, nil }
