// Package keyedproducer grades the lab "A keyed producer": it asks the
// learner's CreateTopic for a topic and describes it with its own admin
// client, then runs the learner's Produce and reads every partition back
// with its own consumer: values, keys, partitions, order and headers.
package keyedproducer

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/kafka/02-keyed-producer/solution"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/kafka/02-keyed-producer.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"topic":   topic,
		"once":    once,
		"keyed":   keyed,
		"headers": headers,
	},
}

// Boundary table: every rule the lesson (kafka/01) and lab.yaml state, the
// input that exercises it in every run whatever the seed, and the check
// that judges it. TestInputExercisesTheRules proves the inputs over 200
// seeds, read back as the learner's Produce reads them.
//
//	rule                               | input placed in every run                        | check
//	-----------------------------------+--------------------------------------------------+-----------------------------------------
//	CreateTopic makes 6 partitions     | a fresh name                                     | topic: the grader's admin describes 6
//	an existing match is fine          | the same name again                              | topic: no error
//	a mismatch is an error, topic left | topics with 2 (fewer) and 12 (more) partitions   | topic: an error, partition count unchanged
//	  alone                            |                                                  |
//	every event exactly once, as JSON, | 3000 events, every (device, seq) distinct; every | once: each event once, every field equal,
//	  every field                      |   kind                                           |   nothing that was not produced
//	the key is the device; one         | 40 devices, all present, that sarama's default   | keyed: key == device; one partition per
//	  partition per device, in order   |   partitioner spreads over all 6 partitions; a   |   device; seq rising with the offset
//	                                   |   device first seen in the last 60 events, with  |
//	                                   |   several there; a device seen once              |
//	headers kind and content-type on   | 500 events over 10 devices, each of the kinds    | headers: both headers, exact values, on
//	  every record                     |   reading, connect, disconnect present           |   every record
//
// Headers other than those two are allowed; the value of content-type is
// exactly "application/json".

// kinds are the kinds of events; readings are the most common.
var kinds = []string{"reading", "reading", "reading", "connect", "disconnect"}

// lateTail is how many events at the end may carry the late device.
const lateTail = 60

// Events generates n events over devices, each device's Seq rising. Every
// device appears; device #devices (the late one) only among the last
// lateTail events, at least three times; device #devices-1 exactly once;
// every kind appears.
func Events(seed uint64, n, devices int) []reference.Event {
	r := rand.New(rand.NewPCG(seed, 61))
	late := devices - 1
	picks := make([]int, n)
	for i := range picks {
		switch {
		case i < devices-1:
			picks[i] = i // every device but the late one
		default:
			picks[i] = r.IntN(devices - 2) // neither the late nor the single one
		}
	}
	head := picks[:n-lateTail]
	r.Shuffle(len(head), func(i, j int) { head[i], head[j] = head[j], head[i] })
	tail := picks[n-lateTail:]
	for i := range 3 + r.IntN(5) {
		tail[i] = late
	}
	r.Shuffle(len(tail), func(i, j int) { tail[i], tail[j] = tail[j], tail[i] })
	seq := map[string]int{}
	out := make([]reference.Event, n)
	for i, p := range picks {
		d := fmt.Sprintf("sensor-%02d", p+1)
		seq[d]++
		out[i] = reference.Event{Device: d, Seq: seq[d], Kind: kinds[r.IntN(len(kinds))], At: 1_793_577_600_000 + int64(i)*250}
	}
	for i, at := range r.Perm(n)[:3] {
		out[at].Kind = []string{"reading", "connect", "disconnect"}[i]
	}
	return out
}

// partitionCount describes topic with the grader's own admin client; -1
// if the topic is still unknown after a few seconds. Every caller expects
// the topic to exist: a topic created a moment ago can be unknown to the
// broker's metadata for a short while (the controller has it, the
// broker's metadata cache not yet), and its partitions may still report
// LEADER_NOT_AVAILABLE.
func partitionCount(h *grader.Harness, topic string) (int, error) {
	a, err := kafkacheck.Admin(h.Endpoints.KafkaBrokers)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	for attempt := 0; ; attempt++ {
		meta, err := a.DescribeTopics([]string{topic})
		if err != nil {
			return 0, err
		}
		unknown := len(meta) != 1 || errors.Is(meta[0].Err, sarama.ErrUnknownTopicOrPartition)
		switch {
		case unknown && attempt >= 50:
			return -1, nil
		case !unknown && meta[0].Err == sarama.ErrNoError:
			return len(meta[0].Partitions), nil
		case unknown || (meta[0].Err == sarama.ErrLeaderNotAvailable && attempt < 50):
			time.Sleep(100 * time.Millisecond)
		default:
			return 0, meta[0].Err
		}
	}
}

func runCreate(ctx context.Context, h *grader.Harness, topic string) (string, error) {
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"create", topic}, AllowError: true})
	if err != nil {
		return "", err
	}
	return res.Err, nil
}

func topic(ctx context.Context, h *grader.Harness) error {
	name := h.Unique("events")
	kafkacheck.DeleteWhenDone(h, name)
	h.Logf("running CreateTopic(brokers, %q)", name)
	if e, err := runCreate(ctx, h, name); err != nil {
		return err
	} else if e != "" {
		return grader.Failf("CreateTopic returned an error: %s", e)
	}
	n, err := partitionCount(h, name)
	if err != nil {
		return err
	}
	if n != reference.Partitions {
		return grader.Mismatch(fmt.Sprintf("the grader's admin client describes %s with the wrong number of partitions", name), reference.Partitions, n)
	}
	h.Logf("described %s with the grader's admin client: %d partitions", name, n)
	h.Logf("running CreateTopic(brokers, %q) again, as a setup step run twice would", name)
	if e, err := runCreate(ctx, h, name); err != nil {
		return err
	} else if e != "" {
		return grader.Mismatch("CreateTopic must accept a topic that already exists with the right partitions", "no error", e)
	}
	// A mismatch either way is an error, and CreateTopic leaves the topic
	// as it found it: fewer partitions (the usual test) and more (a check
	// written as n < Partitions passes the first and misses this one).
	for _, n := range []int32{2, 2 * reference.Partitions} {
		other := h.Unique("legacy")
		if err := kafkacheck.CreateTopic(h, other, n); err != nil {
			return err
		}
		h.Logf("created %s with %d partitions, then running CreateTopic(brokers, %q)", other, n, other)
		e, err := runCreate(ctx, h, other)
		if err != nil {
			return err
		}
		after, err := partitionCount(h, other)
		if err != nil {
			return err
		}
		if after != int(n) {
			return grader.Mismatch(fmt.Sprintf("CreateTopic changed the existing topic %s: it must report the mismatch and leave the topic alone (adding partitions moves keys)", other), n, after)
		}
		if e == "" {
			return grader.Mismatch(fmt.Sprintf("CreateTopic must report a topic that exists with another number of partitions (here %d, not %d): keys would land elsewhere", n, reference.Partitions), "an error", "no error")
		}
		h.Logf("CreateTopic said: %s", e)
	}
	return nil
}

// record is one record as the grader's consumer saw it, value decoded.
type record struct {
	kafkacheck.Record
	Event reference.Event
}

// produce creates a topic with the grader's admin client, runs the
// learner's Produce, and reads every partition back.
func produce(ctx context.Context, h *grader.Harness, events []reference.Event) ([]record, error) {
	name := h.Unique("events")
	if err := kafkacheck.CreateTopic(h, name, reference.Partitions); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(events)
	file := h.Path("events.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, err
	}
	h.Logf("created topic %s with %d partitions; running Produce(brokers, %q, %d events)", name, reference.Partitions, name, len(events))
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"produce", name, file}}); err != nil {
		return nil, err
	}
	recs, err := readTopic(h.Endpoints.KafkaBrokers, name)
	if err != nil {
		return nil, err
	}
	h.Logf("read the topic back with the grader's own consumer: %d records", len(recs))
	return recs, nil
}

func readTopic(brokers []string, topic string) ([]record, error) {
	raw, _, err := kafkacheck.ReadTopic(brokers, topic)
	if err != nil {
		return nil, err
	}
	out := make([]record, len(raw))
	for i, r := range raw {
		out[i].Record = r
		if err := grader.UnmarshalArtifact("record on the topic", r.Value, &out[i].Event); err != nil {
			return nil, grader.Mismatch(fmt.Sprintf("partition %d offset %d: the value is not the JSON of an Event (%v)", r.Partition, r.Offset, err), `{"device":"sensor-03","seq":1,"kind":"reading","at":1793577600000}`, string(r.Value))
		}
	}
	return out, nil
}

func show(e reference.Event) string { return fmt.Sprintf("%s #%d", e.Device, e.Seq) }

func once(ctx context.Context, h *grader.Harness) error {
	events := Events(h.Seed(), 3000, 40)
	recs, err := produce(ctx, h, events)
	if err != nil {
		return err
	}
	produced := map[reference.Event]bool{}
	for _, e := range events {
		produced[e] = true
	}
	seen := map[reference.Event]record{}
	for _, r := range recs {
		if !produced[r.Event] {
			return grader.Mismatch(fmt.Sprintf("partition %d offset %d holds an event that was never produced", r.Partition, r.Offset), "only the events given to Produce", fmt.Sprintf("%+v", r.Event))
		}
		if prev, dup := seen[r.Event]; dup {
			return grader.Mismatch(fmt.Sprintf("%s is on the topic twice: partition %d offset %d and partition %d offset %d", show(r.Event), prev.Partition, prev.Offset, r.Partition, r.Offset), "each event once", "twice")
		}
		seen[r.Event] = r
	}
	for _, e := range events {
		if _, ok := seen[e]; !ok {
			return grader.Mismatch(fmt.Sprintf("%s is not on the topic (%d of %d events are)", show(e), len(seen), len(events)), "every event", fmt.Sprintf("%d records", len(recs)))
		}
	}
	h.Logf("every one of the %d events is on the topic once", len(events))
	return nil
}

func keyed(ctx context.Context, h *grader.Harness) error {
	events := Events(h.Seed(), 3000, 40)
	recs, err := produce(ctx, h, events)
	if err != nil {
		return err
	}
	// Keys first, shown on the first event produced, so that the evidence
	// does not depend on where a key-less record happened to land.
	wrong := 0
	firstKey := "(the event is missing)"
	for _, r := range recs {
		if r.Key != r.Event.Device {
			wrong++
		}
		if r.Event == events[0] {
			firstKey = fmt.Sprintf("key %q", r.Key)
		}
	}
	if wrong > 0 {
		return grader.Mismatch(fmt.Sprintf("%d of %d records are not keyed by their device id; for example %s", wrong, len(recs), show(events[0])), fmt.Sprintf("key %q", events[0].Device), firstKey)
	}
	partitionOf, last := map[string]int32{}, map[string]int{}
	for _, r := range recs {
		d := r.Event.Device
		if p, ok := partitionOf[d]; ok && p != r.Partition {
			return grader.Mismatch(d+"'s events are in more than one partition", fmt.Sprintf("all in partition %d", p), fmt.Sprintf("also in partition %d (offset %d)", r.Partition, r.Offset))
		}
		partitionOf[d] = r.Partition
		if r.Event.Seq <= last[d] {
			return grader.Mismatch(fmt.Sprintf("%s's events are out of order in partition %d", d, r.Partition), fmt.Sprintf("#%d after #%d", last[d]+1, last[d]), fmt.Sprintf("#%d at offset %d", r.Event.Seq, r.Offset))
		}
		last[d] = r.Event.Seq
	}
	used := map[int32]bool{}
	for _, p := range partitionOf {
		used[p] = true
	}
	h.Logf("every record is keyed by its device; each of the %d devices stays in one partition, in order (%d partitions in use)", len(partitionOf), len(used))
	return nil
}

func headers(ctx context.Context, h *grader.Harness) error {
	events := Events(h.Seed(), 500, 10)
	recs, err := produce(ctx, h, events)
	if err != nil {
		return err
	}
	for _, r := range recs {
		for _, kv := range [][2]string{{"kind", r.Event.Kind}, {"content-type", "application/json"}} {
			k, v := kv[0], kv[1]
			if got, ok := r.Headers[k]; !ok || got != v {
				if !ok {
					got = "(no such header)"
				}
				return grader.Mismatch(fmt.Sprintf("%s (partition %d offset %d): header %q is wrong", show(r.Event), r.Partition, r.Offset, k), v, got)
			}
		}
	}
	h.Logf("every record carries the headers kind and content-type")
	return nil
}
