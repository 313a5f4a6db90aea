// Package firstproduceconsume grades the lab "First produce and consume":
// for each check it creates its own topic on a real broker, runs the
// learner's code, and reads the topic back with its own consumer.
package firstproduceconsume

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"

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

const partitions = 3

type reading struct {
	Device string  `json:"device"`
	Seq    int     `json:"seq"`
	Value  float64 `json:"value"`
}

// readings generates n readings over devices, each device's Seq rising.
func readings(seed uint64, n, devices int) []reading {
	r := rand.New(rand.NewPCG(seed, 11))
	seq := map[string]int{}
	out := make([]reading, n)
	for i := range out {
		d := fmt.Sprintf("sensor-%02d", r.IntN(devices)+1)
		seq[d]++
		out[i] = reading{Device: d, Seq: seq[d], Value: float64(r.IntN(10000)) / 100}
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

func produceAll(ctx context.Context, h *grader.Harness) error {
	rs := readings(h.Seed(), 300, 12)
	_, recs, err := runProduce(ctx, h, rs)
	if err != nil {
		return err
	}
	want := map[reading]int{}
	for _, r := range rs {
		want[r]++
	}
	for _, rec := range recs {
		var got reading
		if err := grader.UnmarshalArtifact("record on the topic", rec.Value, &got); err != nil {
			return grader.Mismatch(fmt.Sprintf("partition %d offset %d: the value is not the JSON of a Reading (%v)", rec.Partition, rec.Offset, err),
				`a JSON object such as {"device":"sensor-03","seq":1,"value":12.5}`, truncate(string(rec.Value), 120))
		}
		if want[got] == 0 {
			return grader.Mismatch(fmt.Sprintf("partition %d offset %d holds a reading that was not produced, or a duplicate", rec.Partition, rec.Offset), "each reading exactly once", truncate(string(rec.Value), 120))
		}
		want[got]--
	}
	if len(recs) != len(rs) {
		return grader.Mismatch("the number of records on the topic is wrong", len(rs), len(recs))
	}
	return nil
}

func keyedByDevice(ctx context.Context, h *grader.Harness) error {
	rs := readings(h.Seed(), 240, 9)
	_, recs, err := runProduce(ctx, h, rs)
	if err != nil {
		return err
	}
	if len(recs) != len(rs) {
		return grader.Mismatch("the number of records on the topic is wrong", len(rs), len(recs))
	}
	// Keys first, judged on the first reading produced, so that the evidence
	// does not depend on where a key-less record happened to land.
	wrongKeys := 0
	var firstKey *kafkacheck.Record
	for i := range recs {
		var got reading
		if err := grader.UnmarshalArtifact("record on the topic", recs[i].Value, &got); err != nil {
			return grader.Failf("partition %d offset %d: the value is not JSON: %v", recs[i].Partition, recs[i].Offset, err)
		}
		if recs[i].Key != got.Device {
			wrongKeys++
		}
		if got == rs[0] {
			firstKey = &recs[i]
		}
	}
	if wrongKeys > 0 {
		actual := "(the reading is missing)"
		if firstKey != nil {
			actual = fmt.Sprintf("key %q", firstKey.Key)
		}
		return grader.Mismatch(fmt.Sprintf("%d of %d records are not keyed by their device id; for example %s #%d", wrongKeys, len(recs), rs[0].Device, rs[0].Seq),
			fmt.Sprintf("key %q", rs[0].Device), actual)
	}
	partitionOf := map[string]int32{}
	lastSeq := map[string]int{}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	for _, rec := range recs {
		var got reading
		_ = grader.UnmarshalArtifact("record on the topic", rec.Value, &got) // decoded once already
		if p, seen := partitionOf[got.Device]; seen && p != rec.Partition {
			return grader.Mismatch(fmt.Sprintf("%s's readings are in more than one partition", got.Device), fmt.Sprintf("all in partition %d", p), fmt.Sprintf("also in partition %d", rec.Partition))
		}
		partitionOf[got.Device] = rec.Partition
		if got.Seq <= lastSeq[got.Device] {
			return grader.Mismatch(fmt.Sprintf("%s's readings are out of order in partition %d", got.Device, rec.Partition), fmt.Sprintf("seq after %d", lastSeq[got.Device]), fmt.Sprintf("seq %d at offset %d", got.Seq, rec.Offset))
		}
		lastSeq[got.Device] = got.Seq
	}
	h.Logf("every record's key is its device id; each device stays in one partition, in order")
	return nil
}

func consumeAll(ctx context.Context, h *grader.Harness) error {
	topic, err := createTopic(h)
	if err != nil {
		return err
	}
	rs := readings(h.Seed(), 240, 10)
	prod, err := sarama.NewSyncProducer(h.Endpoints.KafkaBrokers, kafkacheck.Config())
	if err != nil {
		return fmt.Errorf("grader's producer: %w", err)
	}
	counts := map[int32]int{}
	for _, r := range rs {
		v, _ := json.Marshal(r)
		p, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)})
		if err != nil {
			prod.Close()
			return fmt.Errorf("grader producing: %w", err)
		}
		counts[p]++
	}
	prod.Close()
	h.Logf("produced %d readings keyed by device: per partition %v", len(rs), counts)
	h.Logf("running Consume(brokers, %q)", topic)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"consume", topic}})
	if err != nil {
		return err
	}
	var got []reading
	if err := grader.UnmarshalArtifact("result of Consume", res.Value, &got); err != nil {
		return fmt.Errorf("decode the harness's capture of Consume's result: %w", err)
	}
	h.Logf("Consume returned %d readings", len(got))
	want := map[reading]int{}
	for _, r := range rs {
		want[r]++
	}
	for _, r := range got {
		if want[r] == 0 {
			return grader.Mismatch("Consume returned a reading that is not in the topic, or returned one twice", "each reading in the topic exactly once", fmt.Sprintf("%+v", r))
		}
		want[r]--
	}
	if len(got) != len(rs) {
		return grader.Mismatch("Consume did not return every reading in the topic", fmt.Sprintf("%d readings from %d partitions", len(rs), len(counts)), fmt.Sprintf("%d readings", len(got)))
	}
	last := map[string]int{}
	for _, r := range got {
		if r.Seq <= last[r.Device] {
			return grader.Mismatch(r.Device+"'s readings came back out of order", fmt.Sprintf("seq after %d", last[r.Device]), fmt.Sprintf("seq %d", r.Seq))
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
