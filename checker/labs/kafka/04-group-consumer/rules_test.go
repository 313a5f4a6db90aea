package groupconsumer

import (
	"encoding/json"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/kafka/04-group-consumer/solution"
)

// The inputs of every check place the boundary table's cases whatever the
// seed: every meter, one seen once, one first seen in the last reading, an
// empty partition and readings at offset 0 of every other, read back as
// the learner's consumer sees them.
func TestInputExercisesTheRules(t *testing.T) {
	hash := sarama.NewHashPartitioner("readings")
	partitionOf := map[string]int32{}
	for _, m := range meterNames {
		p, err := hash.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(m)}, partitions)
		require.NoError(t, err)
		partitionOf[m] = p
	}
	require.Len(t, meterNames, devices)
	for seed := uint64(0); seed < 200; seed++ {
		// from-the-start, no-double-count, no-loss: one call of 4000;
		// rebalance: 1000, 1000, 2000 on the same seq.
		for _, calls := range [][]int{{readings}, {readings / 4, readings / 4, readings / 2}} {
			seq := map[string]int{}
			s := &scenario{seq: seq, want: map[string]reference.Total{}}
			offsets := map[int32]int{}
			for c, n := range calls {
				rs := Readings(seed+uint64(s.produced), n, seq)
				s.produced += n
				require.Len(t, rs, n)
				count := map[string]int{}
				for i, r := range rs {
					v, _ := json.Marshal(r)
					var back reference.Reading
					require.NoError(t, json.Unmarshal(v, &back))
					require.Equal(t, r, back)
					p := partitionOf[back.Device]
					assert.NotEqual(t, int32(emptyPartition), p, "seed %d: %s on the empty partition", seed, back.Device)
					offsets[p]++
					count[back.Device]++
					prev := s.want[back.Device]
					assert.Equal(t, prev.LastSeq+1, back.Seq, "seed %d: %s's seq rises by one", seed, back.Device)
					s.want[back.Device] = reference.Total{Watts: prev.Watts + int64(back.Watts), Readings: prev.Readings + 1, LastSeq: back.Seq}
					if c == 0 && back.Device == meterNames[lateMeter] {
						assert.Equal(t, n-1, i, "seed %d: the late meter first appears in the last reading", seed)
					}
				}
				assert.Len(t, count, devices, "seed %d call %d: every meter", seed, c)
				if c == 0 {
					assert.Equal(t, 1, count[meterNames[singleMeter]], "seed %d: a meter seen once", seed)
					assert.Equal(t, 1, count[meterNames[lateMeter]])
				}
			}
			for p := int32(0); p < partitions; p++ {
				if p == emptyPartition {
					assert.Zero(t, offsets[p])
				} else {
					assert.Positive(t, offsets[p], "seed %d: partition %d has records", seed, p)
				}
			}
			// The grader's own totals (produce's bookkeeping) agree with
			// the reference's rule: count a reading once, if its Seq is
			// above the row's LastSeq, replays included.
			total := 0
			for _, w := range s.want {
				total += w.Readings
			}
			assert.Equal(t, readings, total)
		}
	}
}

// verify's truth: every field of every row; the reason names the field.
func TestShowNamesEveryField(t *testing.T) {
	assert.Equal(t, "3 readings, 4500 W, last seq 3", show(reference.Total{Watts: 4500, Readings: 3, LastSeq: 3}))
}
