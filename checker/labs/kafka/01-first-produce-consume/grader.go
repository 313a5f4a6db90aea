// Package firstproduceconsume grades the lab "First produce and consume":
// for each check it creates its own topic on a real broker, runs the
// learner's code, and reads the topic back with its own consumer.
package firstproduceconsume

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/kafka/01-first-produce-consume.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"produce-all":     produceAll,
		"keyed-by-device": keyedByDevice,
		"consume-all":     consumeAll,
	},
}

// Boundary table: every rule the lesson (kafka/00) and lab.yaml state, the
// input that exercises it in every run whatever the seed, and the check
// that judges it. TestInputExercisesTheRules proves the inputs, over 200
// seeds, as the learner's code sees them.
//
//	rule                          | input placed in every run                        | check
//	------------------------------+--------------------------------------------------+-----------------------------------------
//	each reading on the topic     | 300 readings, every (device, seq) distinct       | produce-all: by (device, seq), each once,
//	  exactly once, none extra    |                                                  |   nothing else, count
//	the value is the reading's    | device ids with é, Cyrillic, a quote and a       | produce-all: decode each value, compare
//	  JSON, every field exact     |   backslash; values 0, -40.25,                   |   every field to the reading written
//	                              |   0.30000000000000004, 1e21, 1e-7, 123456.789    |
//	the key is the device id,     | the same unicode/quoted ids; a device with a     | keyed-by-device: key == device on every
//	  byte for byte               |   single reading                                 |   record
//	a device stays in one         | devices that sarama's default partitioner sends  | keyed-by-device: one partition per
//	  partition, in order         |   to each of the 3 partitions; every device      |   device, seq rising with the offset
//	Consume reads every partition,| records on partitions 0 and 2, partition 1 empty | consume-all: every retained record
//	  an empty one included       |   between them                                   |   returned
//	from the OLDEST retained      | partition 0's first 1-5 records deleted: its log | consume-all: reading from offset 0
//	  offset                      |   starts past 0                                  |   errors; deleted ones must not return
//	up to the high-water mark,    | the records the grader produced, nothing more    | consume-all: by (device, seq), each
//	  each record once            |                                                  |   once, nothing else, count
//	values decoded in full        | edge devices and values; one at partition 2      | consume-all: every field compared
//	                              |   offset 0                                       |
//	a key-less record is still a  | sensor-nokey's records on partition 2 have no key| consume-all: they must come back
//	  reading                     |                                                  |
//	per-device order              | each device in one partition, seq rising         | consume-all: seq rising per device
//
// No record is ever empty: every value the grader writes is a Reading's
// JSON, and an empty value the learner's Produce writes fails produce-all
// as "not the JSON of a Reading".

const partitions = 3

type reading struct {
	Device string  `json:"device"`
	Seq    int     `json:"seq"`
	Value  float64 `json:"value"`
}

type readingID struct {
	Device string
	Seq    int
}

func (r reading) id() readingID { return readingID{r.Device, r.Seq} }

func (r reading) String() string {
	return fmt.Sprintf("%s #%d (value %v)", strconv.Quote(r.Device), r.Seq, r.Value)
}

// edgeDevices are device ids that JSON or a key built by hand gets wrong:
// non-ASCII letters, a quote and a backslash. The last has one reading.
var edgeDevices = []string{"capteur-é", "датчик-7", `sensor-"q"\1`}

// edgeValues are values that a JSON built by hand (%.2f, %f, float32)
// changes: zero, negative, not representable in two decimals, huge, tiny.
var edgeValues = []float64{0, -40.25, 0.30000000000000004, 1e21, 1e-7, 123456.789}

// readings generates n readings over devices device ids (the three
// edgeDevices among them), each device's Seq rising from 1. Every device
// appears; the last edge device exactly once; every edge value once.
func readings(seed uint64, n, devices int) []reading {
	r := rand.New(rand.NewPCG(seed, 11))
	names := make([]string, 0, devices)
	for i := 1; i <= devices-len(edgeDevices); i++ {
		names = append(names, fmt.Sprintf("sensor-%02d", i))
	}
	names = append(names, edgeDevices...)
	single := len(names) - 1
	picks := make([]int, n)
	for i := range picks {
		if i < len(names) {
			picks[i] = i
		} else {
			picks[i] = r.IntN(single) // never the single-reading device
		}
	}
	r.Shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })
	seq := map[string]int{}
	out := make([]reading, n)
	for i, p := range picks {
		d := names[p]
		seq[d]++
		out[i] = reading{Device: d, Seq: seq[d], Value: float64(r.IntN(10000)) / 100}
	}
	for i, at := range r.Perm(n)[:len(edgeValues)] {
		out[at].Value = edgeValues[i]
	}
	return out
}

func createTopic(h *grader.Harness) (string, error) {
	topic := h.Unique("readings")
	if err := kafkacheck.CreateTopic(h, topic, partitions); err != nil {
		return "", err
	}
	h.Logf("created topic %s with %d partitions", topic, partitions)
	return topic, nil
}

// runProduce writes readings to a file, runs the learner's Produce, and
// returns what the topic then holds.
func runProduce(ctx context.Context, h *grader.Harness, rs []reading) (string, []kafkacheck.Record, error) {
	topic, err := createTopic(h)
	if err != nil {
		return "", nil, err
	}
	data, _ := json.Marshal(rs)
	file := h.Path("readings.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return "", nil, err
	}
	h.Logf("running Produce(brokers, %q, %d readings from %d devices)", topic, len(rs), countDevices(rs))
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"produce", topic, file}}); err != nil {
		return "", nil, err
	}
	recs, _, err := kafkacheck.ReadTopic(h.Endpoints.KafkaBrokers, topic)
	if err != nil {
		return "", nil, fmt.Errorf("grader reading the topic: %w", err)
	}
	// Per-partition counts are not logged: without keys they depend on a random partitioner.
	h.Logf("read the topic back with the grader's own consumer: %d records", len(recs))
	return topic, recs, nil
}

// compareReadings judges got (what the topic or Consume holds, where[i]
// saying where got[i] came from) against want, by (device, seq): each
// wanted reading exactly once, every field equal, nothing else. missing
// names a wanted reading that is absent.
func compareReadings(want []reading, got []reading, where func(i int) string, missing func(r reading) string) error {
	byID := map[readingID]reading{}
	for _, r := range want {
		byID[r.id()] = r
	}
	seen := map[readingID]string{}
	for i, g := range got {
		w, ok := byID[g.id()]
		if !ok {
			return grader.Mismatch(fmt.Sprintf("%s is a reading that was never produced: %s", where(i), g), "only the readings produced, each once", g)
		}
		if at, dup := seen[g.id()]; dup {
			return grader.Mismatch(fmt.Sprintf("%s holds %s a second time (first at %s)", where(i), g, at), "each reading exactly once", "twice")
		}
		seen[g.id()] = where(i)
		if g != w {
			return grader.Mismatch(fmt.Sprintf("%s holds %s #%d with a value that changed on the way", where(i), strconv.Quote(w.Device), w.Seq), w.Value, g.Value)
		}
	}
	absent := 0
	var first *reading
	for i := range want {
		if _, ok := seen[want[i].id()]; !ok {
			absent++
			if first == nil {
				first = &want[i]
			}
		}
	}
	if first != nil {
		return grader.Mismatch(fmt.Sprintf("%d of %d readings are missing, the first %s", absent, len(want), missing(*first)), fmt.Sprintf("%d readings", len(want)), fmt.Sprintf("%d readings", len(got)))
	}
	return nil
}

func produceAll(ctx context.Context, h *grader.Harness) error {
	rs := readings(h.Seed(), 300, 12)
	_, recs, err := runProduce(ctx, h, rs)
	if err != nil {
		return err
	}
	got := make([]reading, len(recs))
	for i, rec := range recs {
		if err := decodeStrict(rec.Value, &got[i]); err != nil {
			return grader.Mismatch(fmt.Sprintf("partition %d offset %d: the value is not the JSON of a Reading (%v)", rec.Partition, rec.Offset, err),
				`a JSON object such as {"device":"sensor-03","seq":1,"value":12.5}`, truncate(string(rec.Value), 120))
		}
	}
	return compareReadings(rs, got,
		func(i int) string { return fmt.Sprintf("partition %d offset %d", recs[i].Partition, recs[i].Offset) },
		func(r reading) string { return r.String() + " is not on the topic" })
}

// decodeStrict decodes a record's value as a Reading: a JSON object,
// compared by meaning (field names as encoding/json matches them).
func decodeStrict(data []byte, r *reading) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	if fields == nil {
		return errors.New("null")
	}
	return json.Unmarshal(data, r)
}

func keyedByDevice(ctx context.Context, h *grader.Harness) error {
	rs := readings(h.Seed(), 240, 9)
	_, recs, err := runProduce(ctx, h, rs)
	if err != nil {
		return err
	}
	got := make([]reading, len(recs))
	for i := range recs {
		if err := decodeStrict(recs[i].Value, &got[i]); err != nil {
			return grader.Failf("partition %d offset %d: the value is not the JSON of a Reading: %v", recs[i].Partition, recs[i].Offset, err)
		}
	}
	if err := compareReadings(rs, got,
		func(i int) string { return fmt.Sprintf("partition %d offset %d", recs[i].Partition, recs[i].Offset) },
		func(r reading) string { return r.String() + " is not on the topic" }); err != nil {
		return err
	}
	// Keys first, judged on the first reading produced, so that the evidence
	// does not depend on where a key-less record happened to land.
	wrongKeys := 0
	var firstKey *kafkacheck.Record
	for i := range recs {
		if recs[i].Key != got[i].Device {
			wrongKeys++
		}
		if got[i] == rs[0] {
			firstKey = &recs[i]
		}
	}
	if wrongKeys > 0 {
		// The smallest evidence: the first reading produced, or else the
		// first record whose key is wrong.
		r, key := rs[0], strconv.Quote(firstKey.Key)
		if firstKey.Key == rs[0].Device {
			for i := range recs {
				if recs[i].Key != got[i].Device {
					r, key = got[i], strconv.Quote(recs[i].Key)
					break
				}
			}
		}
		return grader.Mismatch(fmt.Sprintf("%d of %d records are not keyed by their device id; for example %s #%d", wrongKeys, len(recs), strconv.Quote(r.Device), r.Seq),
			"key "+strconv.Quote(r.Device), "key "+key)
	}
	partitionOf := map[string]int32{}
	lastSeq := map[string]int{}
	for i, rec := range recs { // ordered by partition and offset
		g := got[i]
		if p, seen := partitionOf[g.Device]; seen && p != rec.Partition {
			return grader.Mismatch(fmt.Sprintf("%s's readings are in more than one partition", strconv.Quote(g.Device)), fmt.Sprintf("all in partition %d", p), fmt.Sprintf("#%d in partition %d", g.Seq, rec.Partition))
		}
		partitionOf[g.Device] = rec.Partition
		if g.Seq <= lastSeq[g.Device] {
			return grader.Mismatch(fmt.Sprintf("%s's readings are out of order in partition %d", strconv.Quote(g.Device), rec.Partition), fmt.Sprintf("seq after %d", lastSeq[g.Device]), fmt.Sprintf("seq %d at offset %d", g.Seq, rec.Offset))
		}
		lastSeq[g.Device] = g.Seq
	}
	h.Logf("every record's key is its device id; each device stays in one partition, in order")
	return nil
}

// placed is one record of consume-all's topic: where the grader writes
// it, whether it has a key, and whether it is deleted before Consume runs.
type placed struct {
	r         reading
	partition int32
	offset    int64
	keyless   bool
	deleted   bool
}

// noKeyDevice's readings are written without a key.
const noKeyDevice = "sensor-nokey"

// consumeInput lays out consume-all's topic: devices on partitions 0 and
// 2, partition 1 empty; noKeyDevice's readings key-less on partition 2;
// an edge value at partition 2 offset 0; partition 0's first 1-5 records
// deleted, so its log starts past offset 0.
func consumeInput(seed uint64) []placed {
	rs := readings(seed, 240, 10)
	r := rand.New(rand.NewPCG(seed, 12))
	part := map[string]int32{}
	for _, x := range rs {
		if _, ok := part[x.Device]; !ok {
			part[x.Device] = int32(2 * (len(part) % 2)) // 0, 2, 0, 2, ...
		}
	}
	keyless := make([]placed, 3+r.IntN(3))
	for i := range keyless {
		keyless[i] = placed{r: reading{Device: noKeyDevice, Seq: i + 1, Value: float64(r.IntN(10000)) / 100}, partition: 2, keyless: true}
	}
	// Partition 2's first record is a keyed one with an edge value.
	firstP2 := -1
	for i, x := range rs {
		if part[x.Device] == 2 {
			rs[i].Value = edgeValues[r.IntN(len(edgeValues))]
			firstP2 = i
			break
		}
	}
	// The key-less readings go in among the others after it, in order.
	after := map[int]int{} // index in rs -> key-less readings that follow it
	for range keyless {
		after[firstP2+r.IntN(len(rs)-firstP2)]++
	}
	merged := make([]placed, 0, len(rs)+len(keyless))
	k := 0
	for i, x := range rs {
		merged = append(merged, placed{r: x, partition: part[x.Device]})
		for ; after[i] > 0; after[i]-- {
			merged = append(merged, keyless[k])
			k++
		}
	}
	next := map[int32]int64{}
	for i := range merged {
		merged[i].offset = next[merged[i].partition]
		next[merged[i].partition]++
	}
	cut := int64(1 + r.IntN(5))
	for i := range merged {
		if merged[i].partition == 0 && merged[i].offset < cut {
			merged[i].deleted = true
		}
	}
	return merged
}

// logStart is the first offset partition 0 keeps after the deletion.
func logStart(in []placed) int64 {
	var n int64
	for _, p := range in {
		if p.partition == 0 && p.deleted {
			n++
		}
	}
	return n
}

// layout describes consume-all's topic in one line, for the transcript.
func layout(in []placed) string {
	hwm := map[int32]int64{}
	for _, p := range in {
		hwm[p.partition] = p.offset + 1
	}
	return fmt.Sprintf("partition 0 holds offsets %d-%d (0-%d deleted), partition 1 is empty, partition 2 holds offsets 0-%d (%s's records have no key)",
		logStart(in), hwm[0]-1, logStart(in)-1, hwm[2]-1, noKeyDevice)
}

func consumeAll(ctx context.Context, h *grader.Harness) error {
	topic, err := createTopic(h)
	if err != nil {
		return err
	}
	in := consumeInput(h.Seed())
	cfg := kafkacheck.Config()
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	prod, err := sarama.NewSyncProducer(h.Endpoints.KafkaBrokers, cfg)
	if err != nil {
		return fmt.Errorf("grader's producer: %w", err)
	}
	for _, x := range in {
		v, _ := json.Marshal(x.r)
		msg := &sarama.ProducerMessage{Topic: topic, Partition: x.partition, Value: sarama.ByteEncoder(v)}
		if !x.keyless {
			msg.Key = sarama.StringEncoder(x.r.Device)
		}
		p, off, err := prod.SendMessage(msg)
		if err != nil {
			prod.Close()
			return fmt.Errorf("grader producing: %w", err)
		}
		if p != x.partition || off != x.offset {
			prod.Close()
			return fmt.Errorf("grader producing: %s landed at partition %d offset %d, not %d/%d", x.r, p, off, x.partition, x.offset)
		}
	}
	prod.Close()
	admin, err := kafkacheck.Admin(h.Endpoints.KafkaBrokers)
	if err != nil {
		return err
	}
	err = admin.DeleteRecords(topic, map[int32]int64{0: logStart(in)})
	admin.Close()
	if err != nil {
		return fmt.Errorf("grader deleting partition 0's first records: %w", err)
	}
	h.Logf("produced %d readings, then deleted partition 0's first %d: %s", len(in), logStart(in), layout(in))
	h.Logf("running Consume(brokers, %q)", topic)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"consume", topic}})
	if err != nil {
		var f *grader.Failure
		if errors.As(err, &f) {
			f.Message = fmt.Sprintf("%s (the topic: %s)", f.Message, layout(in))
		}
		return err
	}
	var got []reading
	if err := grader.UnmarshalArtifact("result of Consume", res.Value, &got); err != nil {
		return fmt.Errorf("decode the harness's capture of Consume's result: %w", err)
	}
	h.Logf("Consume returned %d readings", len(got))
	var want []reading
	at := map[readingID]placed{}
	for _, x := range in {
		at[x.r.id()] = x
		if !x.deleted {
			want = append(want, x.r)
		}
	}
	for i, g := range got {
		if x, ok := at[g.id()]; ok && x.deleted {
			return grader.Mismatch(fmt.Sprintf("Consume returned %s, which was deleted from partition 0 offset %d before Consume ran", g, x.offset), fmt.Sprintf("partition 0 read from its oldest offset, %d", logStart(in)), fmt.Sprintf("reading %d of the result", i+1))
		}
	}
	if err := compareReadings(want, got,
		func(i int) string { return fmt.Sprintf("Consume's reading %d", i+1) },
		func(r reading) string {
			x := at[r.id()]
			how := ""
			if x.keyless {
				how = ", a record without a key"
			}
			return fmt.Sprintf("%s at partition %d offset %d%s", r, x.partition, x.offset, how)
		}); err != nil {
		return err
	}
	last := map[string]int{}
	for _, r := range got {
		if r.Seq <= last[r.Device] {
			return grader.Mismatch(strconv.Quote(r.Device)+"'s readings came back out of order", fmt.Sprintf("seq after %d", last[r.Device]), fmt.Sprintf("seq %d", r.Seq))
		}
		last[r.Device] = r.Seq
	}
	return nil
}

func countDevices(rs []reading) int {
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.Device] = true
	}
	return len(seen)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
