package firstproduceconsume

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/IBM/sarama"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// asLearnerSees writes rs as runProduce does and decodes the file as the
// harness does for the learner's Produce.
func asLearnerSees(t *testing.T, rs []reading) []reading {
	t.Helper()
	data, err := json.Marshal(rs)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "readings.json")
	require.NoError(t, os.WriteFile(file, data, 0o644))
	back, err := os.ReadFile(file)
	require.NoError(t, err)
	var out []reading
	require.NoError(t, json.Unmarshal(back, &out))
	return out
}

// hashPartition is the partition sarama's default partitioner picks.
func hashPartition(t *testing.T, key string) int32 {
	p, err := sarama.NewConfig().Producer.Partitioner("t").Partition(&sarama.ProducerMessage{Topic: "t", Key: sarama.StringEncoder(key)}, partitions)
	require.NoError(t, err)
	return p
}

// The inputs of produce-all and keyed-by-device place every edge of the
// boundary table in every run, as the learner's Produce reads them.
func TestInputExercisesTheRules(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		for _, c := range []struct{ n, devices int }{{300, 12}, {240, 9}} {
			rs := asLearnerSees(t, readings(seed, c.n, c.devices))
			require.Len(t, rs, c.n)
			ids := map[readingID]bool{}
			count := map[string]int{}
			last := map[string]int{}
			values := map[float64]bool{}
			for _, r := range rs {
				assert.False(t, ids[r.id()], "seed %d: %s twice", seed, r)
				ids[r.id()] = true
				count[r.Device]++
				assert.Equal(t, last[r.Device]+1, r.Seq, "seed %d: %s's seq rises from 1", seed, r.Device)
				last[r.Device] = r.Seq
				values[r.Value] = true
			}
			assert.Len(t, count, c.devices, "seed %d: every device appears", seed)
			for _, d := range edgeDevices {
				assert.Positive(t, count[d], "seed %d: edge device %q", seed, d)
			}
			assert.Equal(t, 1, count[edgeDevices[len(edgeDevices)-1]], "seed %d: a device with one reading", seed)
			for _, v := range edgeValues {
				assert.True(t, values[v], "seed %d: edge value %v", seed, v)
			}
			// sarama's default partitioner sends some device to each partition.
			hit := map[int32]bool{}
			for d := range count {
				hit[hashPartition(t, d)] = true
			}
			assert.Len(t, hit, partitions, "seed %d, %d devices: every partition gets a device", seed, c.devices)
		}
		// The values a hand-built JSON changes are in the input and differ
		// from what %.2f would carry.
		for _, v := range edgeValues[2:] {
			var back float64
			require.NoError(t, json.Unmarshal([]byte(fmt.Sprintf("%.2f", v)), &back))
			if v != 1e21 && v != 123456.789 {
				assert.NotEqual(t, v, back, "%v survives %%.2f", v)
			}
		}
	}
}

// consume-all's topic: an empty partition between two full ones, a log
// that starts past 0, key-less records, an edge value at partition 2
// offset 0, and the grader's truth is every retained record exactly once.
func TestConsumeInputExercisesTheRules(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		in := consumeInput(seed)
		next := map[int32]int64{}
		keyless, deleted := 0, 0
		partOf := map[string]int32{}
		lastSeq := map[string]int{}
		for i, x := range in {
			require.Equal(t, next[x.partition], x.offset, "seed %d record %d: offsets dense in send order", seed, i)
			next[x.partition]++
			assert.Equal(t, x.keyless, x.r.Device == noKeyDevice, "seed %d: only %s is key-less", seed, noKeyDevice)
			if x.keyless {
				keyless++
				assert.Equal(t, int32(2), x.partition)
			}
			if x.deleted {
				deleted++
				assert.Equal(t, int32(0), x.partition)
			}
			if p, ok := partOf[x.r.Device]; ok {
				assert.Equal(t, p, x.partition, "seed %d: %s in one partition", seed, x.r.Device)
			}
			partOf[x.r.Device] = x.partition
			assert.Equal(t, lastSeq[x.r.Device]+1, x.r.Seq, "seed %d: %s in order", seed, x.r.Device)
			lastSeq[x.r.Device] = x.r.Seq
			if x.partition == 2 && x.offset == 0 {
				assert.False(t, x.keyless, "seed %d: partition 2 offset 0 is keyed", seed)
				assert.Contains(t, edgeValues, x.r.Value, "seed %d: partition 2 offset 0 has an edge value", seed)
			}
		}
		assert.Zero(t, next[1], "seed %d: partition 1 is empty", seed)
		assert.Greater(t, next[0], int64(deleted), "seed %d: partition 0 keeps records after the deleted ones", seed)
		assert.Positive(t, next[2], "seed %d", seed)
		assert.GreaterOrEqual(t, deleted, 1, "seed %d: partition 0's log starts past 0", seed)
		assert.Equal(t, int64(deleted), logStart(in))
		assert.GreaterOrEqual(t, keyless, 3, "seed %d: key-less readings", seed)
		for _, d := range edgeDevices {
			assert.Contains(t, partOf, d, "seed %d: edge device %q", seed, d)
		}
		assert.Len(t, in, 240+keyless)
	}
}

// compareReadings names the smallest evidence for each way to go wrong.
func TestCompareReadings(t *testing.T) {
	want := []reading{{"a", 1, 0.30000000000000004}, {"a", 2, 0}, {"b", 1, 1e21}}
	where := func(i int) string { return fmt.Sprintf("record %d", i) }
	missing := func(r reading) string { return r.String() }
	assert.NoError(t, compareReadings(want, []reading{want[2], want[0], want[1]}, where, missing))
	err := compareReadings(want, []reading{want[0], {"a", 2, 0}, {"b", 1, 1e21}, want[0]}, where, missing)
	assert.ErrorContains(t, err, "record 3 holds \"a\" #1 (value 0.30000000000000004) a second time (first at record 0)")
	err = compareReadings(want, []reading{{"a", 1, 0.3}, want[1], want[2]}, where, missing)
	assert.ErrorContains(t, err, "record 0 holds \"a\" #1 with a value that changed")
	err = compareReadings(want, []reading{want[0], want[2]}, where, missing)
	assert.ErrorContains(t, err, "1 of 3 readings are missing, the first \"a\" #2 (value 0)")
	err = compareReadings(want, []reading{want[0], want[1], want[2], {"c", 1, 0}}, where, missing)
	assert.ErrorContains(t, err, "record 3 is a reading that was never produced")
	var r reading
	assert.Error(t, decodeStrict([]byte(`null`), &r))
	assert.Error(t, decodeStrict([]byte(``), &r))
	assert.Error(t, decodeStrict([]byte(`{device:"a"}`), &r))
	assert.NoError(t, decodeStrict([]byte(`{"Device":"a","seq":1}`), &r))
	assert.Equal(t, reading{"a", 1, 0}, r)
}
