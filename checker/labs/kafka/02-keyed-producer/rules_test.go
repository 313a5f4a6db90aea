package keyedproducer

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/kafka/02-keyed-producer/solution"
)

// The events of once, keyed and headers place the boundary table's cases
// whatever the seed, read back from the file the harness hands Produce.
func TestInputExercisesTheRules(t *testing.T) {
	hash := sarama.NewHashPartitioner("events")
	partitionOf := map[string]int32{}
	partition := func(d string) int32 {
		if p, ok := partitionOf[d]; ok {
			return p
		}
		p, err := hash.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(d)}, reference.Partitions)
		require.NoError(t, err)
		partitionOf[d] = p
		return p
	}
	for seed := uint64(0); seed < 200; seed++ {
		for _, c := range []struct{ n, devices int }{{3000, 40}, {500, 10}} {
			data, err := json.Marshal(Events(seed, c.n, c.devices))
			require.NoError(t, err)
			var events []reference.Event
			require.NoError(t, json.Unmarshal(data, &events))
			require.Len(t, events, c.n)
			ids := map[string]bool{}
			count, first := map[string]int{}, map[string]int{}
			kindsSeen := map[string]bool{}
			parts := map[int32]bool{}
			for i, e := range events {
				id := show(e)
				assert.False(t, ids[id], "seed %d: %s twice", seed, id)
				ids[id] = true
				count[e.Device]++
				if _, ok := first[e.Device]; !ok {
					first[e.Device] = i
				}
				assert.Equal(t, count[e.Device], e.Seq, "seed %d: %s's seq rises by one from 1", seed, e.Device)
				kindsSeen[e.Kind] = true
				parts[partition(e.Device)] = true
			}
			assert.Len(t, count, c.devices, "seed %d: every device", seed)
			late := fmt.Sprintf("sensor-%02d", c.devices)
			assert.GreaterOrEqual(t, first[late], c.n-lateTail, "seed %d: %s first seen late", seed, late)
			assert.GreaterOrEqual(t, count[late], 3, "seed %d: %s has events whose order counts", seed, late)
			assert.Equal(t, 1, count[fmt.Sprintf("sensor-%02d", c.devices-1)], "seed %d: a device seen once", seed)
			assert.Len(t, kindsSeen, 3, "seed %d: every kind", seed)
			if c.devices == 40 {
				assert.Len(t, parts, reference.Partitions, "seed %d: devices on every partition", seed)
			}
		}
	}
}
