package exactlyonce

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/kafka/05-exactly-once/solution"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

// inputPartition is where the grader's producer (sarama's default
// partitioner) puts a reading keyed by meter.
func inputPartition(t *testing.T, meter string) int32 {
	if p, ok := partitionCache[meter]; ok {
		return p
	}
	p, err := sarama.NewConfig().Producer.Partitioner("t").Partition(&sarama.ProducerMessage{Topic: "t", Key: sarama.StringEncoder(meter)}, partitions)
	require.NoError(t, err)
	partitionCache[meter] = p
	return p
}

var partitionCache = map[string]int32{}

// asLearnerSees round-trips a reading through the record value the
// grader writes (message) and the learner decodes.
func asLearnerSees(t *testing.T, r reference.Reading) reference.Reading {
	m := message("in", r)
	v, err := m.Value.Encode()
	require.NoError(t, err)
	k, err := m.Key.Encode()
	require.NoError(t, err)
	var back reference.Reading
	require.NoError(t, json.Unmarshal(v, &back))
	require.Equal(t, back.Device, string(k))
	return back
}

// Every produce call of every check places the boundary table's inputs,
// whatever the seed; committed-input's aborted transactions are the
// first, two in a row and the last, each on every input partition.
func TestInputExercisesTheRules(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		for _, c := range []struct {
			n, batch int
			abort    map[int]bool
		}{{2000, 2000, nil}, {3000, 250, abortedTxns}, {4000, 4000, nil}} {
			r := rand.New(rand.NewPCG(seed, 83))
			seq := map[string]int{}
			rs := Readings(r, c.n, seq)
			require.Len(t, rs, c.n)
			count := map[string]int{}
			first := map[string]int{}
			watts := map[int]bool{}
			bands := map[string]bool{}
			parts := map[int32]bool{}
			for i, x := range rs {
				x = asLearnerSees(t, x)
				count[x.Device]++
				if _, ok := first[x.Device]; !ok {
					first[x.Device] = i
				}
				assert.Equal(t, count[x.Device], x.Seq, "seed %d: %s's seq rises from 1", seed, x.Device)
				watts[x.Watts] = true
				bands[Transform(x).Band] = true
				parts[inputPartition(t, x.Device)] = true
				assert.True(t, x.Watts >= 100 && x.Watts <= 2999)
			}
			assert.Len(t, count, devices, "seed %d: every meter", seed)
			late := fmt.Sprintf("meter-%02d", lateMeter+1)
			assert.Equal(t, c.n-1, first[late], "seed %d: %s first seen in the last reading", seed, late)
			assert.Equal(t, 1, count[late])
			assert.Equal(t, 1, count[fmt.Sprintf("meter-%02d", singleMeter+1)], "seed %d: a meter seen once", seed)
			for _, w := range bandEdges {
				assert.True(t, watts[w], "seed %d: watts %d", seed, w)
			}
			assert.Len(t, bands, 3, "seed %d", seed)
			assert.Len(t, parts, partitions, "seed %d: meters on every partition", seed)
			txns := (c.n + c.batch - 1) / c.batch
			aborted := 0
			for i := 0; i < txns; i++ {
				txParts := map[int32]bool{}
				for _, x := range rs[i*c.batch : min(c.n, (i+1)*c.batch)] {
					txParts[inputPartition(t, x.Device)] = true
				}
				assert.Len(t, txParts, partitions, "seed %d: transaction %d spans every input partition", seed, i)
				if c.abort[i] {
					aborted++
				}
			}
			if c.abort != nil {
				assert.Equal(t, 12, txns)
				assert.Equal(t, 4, aborted)
				assert.True(t, c.abort[0] && c.abort[txns-1], "the first and the last transaction are aborted")
				assert.True(t, c.abort[5] && c.abort[6], "two aborted in a row")
			}
		}
	}
	// The band edges: the grader's Transform agrees with the lesson's rule.
	for w, band := range map[int]string{100: "low", 999: "low", 1000: "mid", 1999: "mid", 2000: "high", 2999: "high"} {
		assert.Equal(t, band, Transform(reference.Reading{Device: "m", Seq: 1, Watts: w}).Band, "watts %d", w)
	}
}

// judgeResults names the first reading, in produce order, whose result
// is wrong, unkeyed, in a second partition, or out of order.
func TestJudgeResults(t *testing.T) {
	in := []reference.Reading{{Device: "m1", Seq: 1, Watts: 999}, {Device: "m2", Seq: 1, Watts: 2000}, {Device: "m1", Seq: 2, Watts: 1000}}
	res := func(p int32, off int64, key string, r reference.Reading) result {
		return result{Record: kafkacheck.Record{Partition: p, Offset: off, Key: key}, Usage: Transform(r)}
	}
	good := []result{res(0, 0, "m1", in[0]), res(0, 1, "m1", in[2]), res(1, 0, "m2", in[1])}
	assert.NoError(t, judgeResults(in, good))
	bad := append([]result{}, good...)
	bad[0].Usage.Band = "mid"
	assert.ErrorContains(t, judgeResults(in, bad), "the result of reading m1 #1 is not transform's output")
	bad = append([]result{}, good...)
	bad[2].Key = ""
	assert.ErrorContains(t, judgeResults(in, bad), "m2 #1 is not keyed by its meter")
	bad = []result{res(0, 0, "m1", in[0]), res(1, 0, "m1", in[2]), res(1, 1, "m2", in[1])}
	assert.ErrorContains(t, judgeResults(in, bad), "m1's results are in partitions 0 and 1")
	bad = []result{res(0, 0, "m1", in[2]), res(0, 1, "m1", in[0]), res(1, 0, "m2", in[1])}
	assert.ErrorContains(t, judgeResults(in, bad), "m1's results are out of order in output partition 0")
}
