// Package exactlyonce turns meter readings into usage records with Kafka
// transactions: every reading has exactly one result, even after a crash.
//
// Read the lesson first: delab read kafka/04
// Check your work:       delab check kafka/05
package exactlyonce

import (
	"context"
	"errors"

	_ "github.com/IBM/sarama" // the client library to use
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
	// TODO: a consumer group reading committed data only, a transactional
	// producer per claimed partition, and BeginTxn / AddMessageToTxn /
	// CommitTxn around each batch (see the lesson).
	return errors.New("Process is not implemented yet (lesson section \"Your lab: a transactional pipeline\")")
}
