// Package reliableproducer grades the lab "A producer that survives a
// crash": while the learner's producer is mid-stream, it loses the
// broker's answer to a produce request the broker has written (twice,
// through a fault proxy) and crashes the broker (SIGKILL, then a restart
// in the same container); it reads the topic back with its own consumer,
// and compares the learner's throughput with a reference producer it runs
// against the same broker in the same run.
package reliableproducer

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/kafka/03-reliable-producer/solution"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
	"github.com/delab-dev/delab/checker/services/faultproxy"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/kafka/03-reliable-producer.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"delivered":    delivered,
		"exactly-once": exactlyOnce,
		"throughput":   throughput,
	},
}

const (
	partitions = 3
	// crashEvents is the size of the stream the broker crashes under.
	crashEvents = 200_000
	// crashAfter is how far into the stream the crash comes, at the least.
	crashAfter = 1_000
	// holdRate throttles producers (bytes per second, Kafka's
	// producer_byte_rate quota) until the crash. A fast producer sends
	// 200,000 events in well under a second, quicker than the checker can
	// see 1,000 of them on the topic and kill the broker, and a crash that
	// comes after the last acknowledgement tests nothing. Throttled, even
	// a compressing producer needs over ten seconds for the stream, so the
	// crash always lands mid-stream. The crash alone seldom lands between
	// a batch's write and its acknowledgement: Kafka answers a throttled
	// produce at once, with a throttle time, and sarama holds the next
	// request until that passes (waitIfThrottled), so at the crash no
	// batch is usually in flight. That fault is the fault proxy's
	// (lostAcks): the learner's producer reaches the broker through it,
	// and it discards the broker's answer to a produce request, after the
	// broker wrote the batch, and closes the connection, once before the
	// crash and once after the restart. A producer that retries without
	// idempotence writes those batches twice in every run; an idempotent
	// one's retry carries the same producer id and sequence, which the
	// broker acknowledges without writing. The broker's quota window (two
	// seconds) keeps each throttle short, about a batch's worth. The quota
	// goes once the broker is back.
	holdRate = 256 << 10
	// lostAcks is how many of the broker's answers to produce requests the
	// fault proxy discards in a crash run: the first after the start and
	// the first after the restart.
	lostAcks = 2
	// afterRestart bounds the rest of a run once the broker is back and
	// unthrottled: what is left of 200,000 events takes a good producer a
	// few seconds even on a loaded machine, and one that waits for each
	// acknowledgement minutes. It counts from the restart, not the start,
	// because a broker restart itself can take long on a busy machine.
	afterRestart = 30 * time.Second
	// toCrash bounds the start of a run: throttled, a good producer puts
	// the first crashAfter events on the topic in about a second, and one
	// that waits for each acknowledgement in seconds.
	toCrash = 90 * time.Second
	// runLimit is only a safety net: toCrash, the broker's restart and
	// afterRestart bound a run in phases, because the restart alone can
	// take a minute on a loaded machine (seen in repeated runs, where a
	// limit counted from the start stopped a run the phases would have
	// judged).
	runLimit = 10 * time.Minute
	// outage is how long the broker stays down: longer than the retries of
	// a producer left at sarama's defaults (a third of a second, give or
	// take metadata refreshes), far shorter than a minute of retrying.
	outage = 10 * time.Second
	// speedEvents is the size of the throughput runs.
	speedEvents = 100_000
	// MinRatio is the share of the reference producer's throughput a
	// learner's producer must reach.
	MinRatio = 0.25
)

// Events generates n events over 50 devices, each device's Seq rising.
func Events(seed uint64, n int) []reference.Event {
	r := rand.New(rand.NewPCG(seed, 53))
	kinds := []string{"reading", "reading", "reading", "connect", "disconnect"}
	seq := map[string]int{}
	out := make([]reference.Event, n)
	for i := range out {
		d := fmt.Sprintf("sensor-%02d", r.IntN(50)+1)
		seq[d]++
		out[i] = reference.Event{Device: d, Seq: seq[d], Kind: kinds[r.IntN(len(kinds))], At: 1_793_577_600_000 + int64(i)*10}
	}
	return out
}

func createTopic(h *grader.Harness, prefix string) (string, error) {
	topic := h.Unique(prefix)
	return topic, kafkacheck.CreateTopic(h, topic, partitions)
}

// allClients is Kafka's default client-id quota entity: every producer
// without a quota of its own, whatever client id it sets.
var allClients = []sarama.QuotaEntityComponent{{EntityType: sarama.QuotaEntityClientID, MatchType: sarama.QuotaMatchDefault}}

// hold throttles every producer to holdRate, or lifts that (rate 0).
func hold(brokers []string, rate float64) error {
	admin, err := kafkacheck.Admin(brokers)
	if err != nil {
		return err
	}
	defer admin.Close()
	op := sarama.ClientQuotasOp{Key: "producer_byte_rate", Value: rate, Remove: rate == 0}
	if err := admin.AlterClientQuotas(allClients, op, false); err != nil {
		return fmt.Errorf("set the producer quota: %w", err)
	}
	return nil
}

// proxy runs a command of the fault proxy in the broker's container
// ("arm 1", "reset", "stats") and returns its answer: "dropped D armed A
// produce P".
func proxy(ctx context.Context, h *grader.Harness, args ...string) (dropped int, err error) {
	out, err := h.Faults.Exec(ctx, catalog.Kafka, append([]string{faultproxy.Path}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("fault proxy %s: %w (%s)", strings.Join(args, " "), err, strings.TrimSpace(out))
	}
	if _, err := fmt.Sscanf(out, "dropped %d", &dropped); err != nil {
		return 0, fmt.Errorf("fault proxy %s: unexpected answer %q", strings.Join(args, " "), out)
	}
	return dropped, nil
}

func writeEvents(h *grader.Harness, events []reference.Event) (string, error) {
	data, _ := json.Marshal(events)
	file := h.Path("events.json")
	return file, os.WriteFile(file, data, 0o644)
}

// record is one record as the grader's consumer saw it, value decoded.
type record struct {
	kafkacheck.Record
	Event reference.Event
}

// readTopic reads the whole topic with the grader's own consumer.
func readTopic(brokers []string, topic string) ([]record, []int64, error) {
	raw, hwms, err := kafkacheck.ReadTopic(brokers, topic)
	if err != nil {
		return nil, nil, err
	}
	out := make([]record, len(raw))
	for i, r := range raw {
		out[i].Record = r
		if err := grader.UnmarshalArtifact("record on the topic", r.Value, &out[i].Event); err != nil {
			return nil, nil, grader.Failf("partition %d offset %d: the value is not the JSON of an Event: %v", r.Partition, r.Offset, err)
		}
	}
	return out, hwms, nil
}

// produceThroughCrash runs the learner's Produce over crashEvents events
// and crashes the broker once at least crashAfter of them are on the
// topic. It returns the events and what the topic holds afterwards.
func produceThroughCrash(ctx context.Context, h *grader.Harness) ([]reference.Event, []record, []int64, error) {
	if h.Faults == nil {
		return nil, nil, nil, fmt.Errorf("this check needs a broker it can restart")
	}
	topic, err := createTopic(h, "events")
	if err != nil {
		return nil, nil, nil, err
	}
	events := Events(h.Seed(), crashEvents)
	file, err := writeEvents(h, events)
	if err != nil {
		return nil, nil, nil, err
	}
	h.Logf("created topic %s with %d partitions", topic, partitions)
	if err := hold(h.Endpoints.KafkaBrokers, holdRate); err != nil {
		return nil, nil, nil, err
	}
	// Lifted after the restart already; this is for a run that never got
	// there, so that no later check runs throttled.
	defer hold(h.Endpoints.KafkaBrokers, 0)
	// A proxy left armed by a run that never ended would lose answers in
	// the next; the counts start from zero.
	if _, err := proxy(ctx, h, "reset"); err != nil {
		return nil, nil, nil, err
	}
	defer proxy(context.WithoutCancel(ctx), h, "reset")
	if _, err := proxy(ctx, h, "arm", "1"); err != nil {
		return nil, nil, nil, err
	}
	h.Logf("running Produce(brokers, %q, %d events from 50 devices); producers are throttled to %d KiB/s until the broker crashes (SIGKILL) once %d events are on the topic; it stays down %s and restarts without the throttle", topic, len(events), holdRate>>10, crashAfter, outage)
	h.Logf("your producer reaches the broker through a proxy that loses the broker's answer to a produce request, after the broker has written the batch, and closes the connection: the first answer after the start and the first after the restart")

	var killedAt time.Time
	p := h.Start(ctx, grader.RunOptions{Args: []string{"produce", topic, file, "fault"}, Timeout: runLimit})
	crashErr := crashWhen(ctx, h, topic, &killedAt, p.Done())
	slow := false
	if crashErr == nil {
		// The broker is back: whatever is left of the stream takes a good
		// producer seconds, even on a loaded machine.
		select {
		case <-p.Done():
		case <-time.After(afterRestart):
			p.Stop()
			slow = true
		}
	}
	if crashErr != nil && crashErr != errNoCrash {
		p.Stop()
	}
	res, runErr := p.Wait()
	if slow {
		runErr = grader.Failf("Produce had not sent %d events %s after the broker was back, and was stopped: it is far too slow to judge (see the throughput check)", len(events), afterRestart)
	}
	var early errTooSlow
	if errors.As(crashErr, &early) {
		return nil, nil, nil, grader.Failf("Produce had put only %d of the first %d events on the topic %s after it started, and was stopped: it is far too slow to judge (see the throughput check)", early.onTopic, crashAfter, toCrash)
	}
	if crashErr == errNoCrash {
		if runErr != nil {
			return nil, nil, nil, runErr
		}
		return nil, nil, nil, grader.Failf("Produce returned before %d events were on the topic, so the broker never crashed under it; it must send every event before it returns", crashAfter)
	}
	if crashErr != nil {
		return nil, nil, nil, fmt.Errorf("crash the broker: %w", crashErr)
	}
	if runErr != nil {
		return nil, nil, nil, runErr
	}
	var span struct{ Start, End int64 }
	if err := grader.UnmarshalArtifact("timing of Produce", res.Value, &span); err != nil {
		return nil, nil, nil, fmt.Errorf("decode the harness's timing: %w", err)
	}
	if !killedAt.Before(time.Unix(0, span.End)) {
		// Only a producer far faster than any seen so far gets here: the
		// check proved nothing, which is the checker's problem to report.
		return nil, nil, nil, fmt.Errorf("the broker crashed only after Produce had returned, so the check tested nothing; please report this")
	}
	h.Logf("the broker crashed while Produce was running, and started again")
	dropped, err := proxy(ctx, h, "stats")
	if err != nil {
		return nil, nil, nil, err
	}
	if dropped != lostAcks {
		// Only a producer that sent nothing after the restart gets here,
		// and it cannot have sent every event.
		return nil, nil, nil, fmt.Errorf("the fault proxy lost %d answers of the broker, not %d, so the check tested less than it should; please report this", dropped, lostAcks)
	}
	h.Logf("the proxy lost the broker's answers to %d produce requests the broker had written", dropped)
	recs, hwms, err := readTopic(h.Endpoints.KafkaBrokers, topic)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("grader reading the topic: %w", err)
	}
	h.Logf("read the topic back with the grader's own consumer: high-water marks %v, %d records", hwms, len(recs))
	return events, recs, hwms, nil
}

var errNoCrash = fmt.Errorf("no crash")

// errTooSlow is crashWhen's answer when the run had not put crashAfter
// events on the topic within toCrash.
type errTooSlow struct{ onTopic int64 }

func (e errTooSlow) Error() string {
	return fmt.Sprintf("only %d events on the topic after %s", e.onTopic, toCrash)
}

// crashWhen polls the topic's high-water marks and restarts the broker
// once they add up to crashAfter, then arms the fault proxy for one more
// lost answer and lifts the throttle; errNoCrash if the run ended (done)
// first.
func crashWhen(ctx context.Context, h *grader.Harness, topic string, killedAt *time.Time, done <-chan struct{}) error {
	client, err := sarama.NewClient(h.Endpoints.KafkaBrokers, kafkacheck.Config())
	if err != nil {
		return err
	}
	defer client.Close()
	deadline := time.Now().Add(toCrash)
	var onTopic int64
	for {
		hwms, err := kafkacheck.Offsets(client, topic)
		if err == nil {
			onTopic = kafkacheck.Sum(hwms)
		}
		if err == nil && onTopic >= crashAfter {
			*killedAt = time.Now()
			// The restart outlives the learner's run if need be: a broker
			// left dead would fail every later check.
			if err := h.Faults.Restart(context.WithoutCancel(ctx), catalog.Kafka, outage); err != nil {
				return err
			}
			// Armed while producers are still throttled, so that the
			// stream cannot end before the proxy is ready.
			if _, err := proxy(ctx, h, "arm", "1"); err != nil {
				return err
			}
			return hold(h.Endpoints.KafkaBrokers, 0)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return errNoCrash
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errTooSlow{onTopic}
		}
	}
}

func show(e reference.Event) string { return fmt.Sprintf("%s #%d", e.Device, e.Seq) }

func delivered(ctx context.Context, h *grader.Harness) error {
	events, recs, hwms, err := produceThroughCrash(ctx, h)
	if err != nil {
		return err
	}
	seen := map[reference.Event]bool{}
	for _, r := range recs {
		seen[r.Event] = true
	}
	missing := 0
	var first *reference.Event
	for i, e := range events {
		if !seen[e] {
			missing++
			if first == nil {
				first = &events[i]
			}
		}
	}
	if missing > 0 {
		return grader.Mismatch(fmt.Sprintf("%d of %d events are not on the topic (high-water marks %v), though Produce returned no error; the first missing is %s", missing, len(events), hwms, show(*first)),
			fmt.Sprintf("all %d events", len(events)), fmt.Sprintf("%d distinct events", len(events)-missing))
	}
	h.Logf("every one of the %d events is on the topic", len(events))
	return nil
}

func exactlyOnce(ctx context.Context, h *grader.Harness) error {
	events, recs, _, err := produceThroughCrash(ctx, h)
	if err != nil {
		return err
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	where := map[reference.Event]record{}
	dups := 0
	var firstDup, firstAt *record
	for i, r := range recs {
		if prev, ok := where[r.Event]; ok {
			dups++
			if firstDup == nil {
				firstDup, firstAt = &recs[i], &prev
			}
			continue
		}
		where[r.Event] = r
	}
	if dups > 0 {
		return grader.Mismatch(fmt.Sprintf("%d records on the topic are duplicates; the first: %s at partition %d offset %d is also at partition %d offset %d", dups, show(firstDup.Event), firstDup.Partition, firstDup.Offset, firstAt.Partition, firstAt.Offset),
			fmt.Sprintf("%d records, each event once", len(events)), fmt.Sprintf("%d records", len(recs)))
	}
	partitionOf, last := map[string]int32{}, map[string]int{}
	for _, r := range recs {
		d := r.Event.Device
		if p, ok := partitionOf[d]; ok && p != r.Partition {
			return grader.Mismatch(d+"'s events are in more than one partition: key them by device", fmt.Sprintf("all in partition %d", p), fmt.Sprintf("also in partition %d", r.Partition))
		}
		partitionOf[d] = r.Partition
		if r.Event.Seq <= last[d] {
			return grader.Mismatch(fmt.Sprintf("%s's events are out of order in partition %d", d, r.Partition), fmt.Sprintf("#%d after #%d", last[d]+1, last[d]), fmt.Sprintf("#%d at offset %d", r.Event.Seq, r.Offset))
		}
		last[d] = r.Event.Seq
	}
	h.Logf("each event is on the topic exactly once, and each device's events are in order in one partition")
	return nil
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func throughput(ctx context.Context, h *grader.Harness) error {
	// A warm broker may still carry the crash checks' throttle if a
	// checker was killed mid-check.
	if err := hold(h.Endpoints.KafkaBrokers, 0); err != nil {
		return err
	}
	events := Events(h.Seed(), speedEvents)
	file, err := writeEvents(h, events)
	if err != nil {
		return err
	}
	// A single run's rate varies about 2.5× on a busy 2-core machine, so
	// the reference runs before and after the learner and the slower of
	// its two runs is the yardstick, while the learner's faster run of two
	// counts. The verdict then holds on a noisy machine; a producer that
	// waits for each acknowledgement is still ten times too slow.
	runReference := func() (float64, error) {
		topic, err := createTopic(h, "reference")
		if err != nil {
			return 0, err
		}
		start := time.Now()
		if err := reference.Produce(h.Endpoints.KafkaBrokers, topic, events); err != nil {
			return 0, fmt.Errorf("the reference producer failed: %w", err)
		}
		return rate(len(events), time.Since(start)), nil
	}
	h.Logf("running the reference producer: %d events to a topic of %d partitions", len(events), partitions)
	ref0, err := runReference()
	if err != nil {
		return err
	}
	// A run is stopped at four times what the threshold allows: a producer
	// that slow fails anyway, and waiting for it would only cost minutes.
	budget := max(5*time.Second, time.Duration(4*float64(len(events))/(MinRatio*ref0)*float64(time.Second)))
	var mine float64
	for i := range 2 {
		topic, err := createTopic(h, "events")
		if err != nil {
			return err
		}
		h.Logf("running Produce(brokers, %q, %d events), run %d of 2, timed by the harness", topic, len(events), i+1)
		began := time.Now()
		res, err := h.Run(ctx, grader.RunOptions{Args: []string{"produce", topic, file}, Timeout: budget})
		if err != nil && ctx.Err() == nil && time.Since(began) >= budget {
			under := float64(len(events)) / budget.Seconds()
			return grader.Mismatch(fmt.Sprintf("your producer had not sent %d events after %s, so it is slower than %.0f events/s, under %.2f× the reference producer's throughput", len(events), budget.Round(time.Second), under, under/ref0),
				fmt.Sprintf("at least %.2f× (%.0f events/s)", MinRatio, MinRatio*ref0), fmt.Sprintf("under %.0f events/s", under))
		}
		if err != nil {
			return err
		}
		var span struct{ Start, End int64 }
		if err := grader.UnmarshalArtifact("timing of Produce", res.Value, &span); err != nil || span.End <= span.Start {
			return fmt.Errorf("decode the harness's timing: %v", err)
		}
		client, err := sarama.NewClient(h.Endpoints.KafkaBrokers, kafkacheck.Config())
		if err != nil {
			return err
		}
		hwms, err := kafkacheck.Offsets(client, topic)
		client.Close()
		if err != nil {
			return err
		}
		if kafkacheck.Sum(hwms) < int64(len(events)) {
			return grader.Mismatch(fmt.Sprintf("the topic holds fewer records than Produce was given (high-water marks %v)", hwms), len(events), kafkacheck.Sum(hwms))
		}
		mine = max(mine, rate(len(events), time.Duration(span.End-span.Start)))
	}
	ref1, err := runReference()
	if err != nil {
		return err
	}
	ref := min(ref0, ref1)
	h.Logf("reference producer: %.0f events/s (the slower of a run before and after yours); yours: %.0f events/s (the faster of two), %.2f× the reference", ref, mine, mine/ref)
	if mine < MinRatio*ref {
		return grader.Mismatch(fmt.Sprintf("your producer is too slow: it reached %.2f× the reference producer's throughput on the same broker", mine/ref),
			fmt.Sprintf("at least %.2f× (%.0f events/s)", MinRatio, MinRatio*ref), fmt.Sprintf("%.0f events/s", mine))
	}
	return nil
}
