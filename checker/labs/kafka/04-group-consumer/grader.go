// Package groupconsumer grades the lab "A consumer group that survives
// crashes": it produces meter readings with its own producer, runs the
// learner's group consumer in the background, kills it (SIGKILL) at a
// point the harness's sink chooses and starts it again, adds a second
// member to force a rebalance, and judges the sink's rows against the
// totals it computed itself, with the group's committed offsets and lag,
// read with its own admin client, as evidence.
package groupconsumer

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/kafka/04-group-consumer/solution"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/kafka/04-group-consumer.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"from-the-start":  fromTheStart,
		"no-double-count": noDoubleCount,
		"no-loss":         noLoss,
		"rebalance":       rebalance,
	},
}

const (
	partitions = 6
	devices    = 40
	// readings is how many records a check produces.
	readings = 4_000
	// crashAt is the sink write the crash comes at: well into the stream,
	// well before its end.
	crashAt = 1_500
	// catchUp bounds the wait for a consumer to commit the end of every
	// partition. It covers a restart: the killed member stays in the
	// group until its session times out (sarama's default, 10s), and only
	// then is a new member given partitions.
	catchUp = 45 * time.Second
	// stall and slowest extend catchUp for a consumer that is correct but
	// slow (one that commits synchronously after every record: about 80
	// records/s on a quiet machine, 25 at a load of 10): past catchUp, the checker keeps waiting while
	// the group's committed offsets keep moving, and fails only when they
	// have not moved for stall (more than a session timeout and a
	// rebalance) or slowest has passed in all.
	stall   = 25 * time.Second
	slowest = 150 * time.Second
	// settle is how long the committed offsets must stay unchanged before
	// the checker kills a stalled consumer: more than sarama's default
	// auto-commit interval (1s), so whatever it has marked is committed.
	settle = 2500 * time.Millisecond
)

// Boundary table: every rule the lesson (kafka/03) and lab.yaml state, the
// input that exercises it in every run whatever the seed, and the check
// that judges it. TestInputExercisesTheRules proves the inputs over 200
// seeds, read back as the learner's consumer sees them (JSON, keyed).
//
//	rule                              | input placed in every run                        | check
//	----------------------------------+--------------------------------------------------+------------------------------------------
//	a new group starts at the first   | 4000 readings already on the topic; each         | from-the-start: every row = the grader's
//	  record (offset 0 of each)       |   non-empty partition's offset 0 is a reading    |   totals of every reading produced
//	a partition with no records holds | no meter hashes to partition 2 (sarama's default | all: lag counted per partition, the
//	  nothing up                      |   partitioner): it stays empty                   |   empty one included; rows still exact
//	every meter's row, every field    | 40 meters, all present; one seen once; one first | all: Readings, Watts and LastSeq of every
//	  (readings, watts, last seq)     |   seen in the last reading of a produce call     |   row = the grader's; no row for a meter
//	                                  |                                                  |   that sent nothing
//	a replay is skipped (Seq not      | killed right after sink write #1500: that row is | no-double-count: no row counts a reading
//	  above LastSeq), Seq == LastSeq  |   written, its offset not committed, so the      |   twice
//	  included                        |   restart replays Seq == LastSeq first           |
//	commit only after the write       | stopped dead as write #1500 begins, killed once  | no-loss: no row misses a reading
//	                                  |   the committed offsets stop moving (> 1s)       |
//	keep consuming through a          | a second member starts, 1000 more readings are   | rebalance: two members share the
//	  rebalance, records in flight    |   produced at once, then 2000 more               |   partitions; every row exact at the end
//
// Watts are 100-2999 W and sum far below any int64 edge: the lab's totals
// have no value edge beyond "every reading counted once".

// emptyPartition is the partition no meter's key hashes to.
const emptyPartition = 2

// meterNames are the devices meters: meter-NN names whose key sarama's
// default partitioner does not send to emptyPartition.
var meterNames = func() []string {
	hash := sarama.NewHashPartitioner("readings")
	var out []string
	for i := 1; len(out) < devices; i++ {
		name := fmt.Sprintf("meter-%02d", i)
		p, err := hash.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(name)}, partitions)
		if err != nil {
			panic(err)
		}
		if p != emptyPartition {
			out = append(out, name)
		}
	}
	return out
}()

// lateMeter appears first in the last reading of the first produce call,
// singleMeter only once in it (indexes into meterNames).
const (
	lateMeter   = devices - 1
	singleMeter = devices - 2
)

// Readings generates n readings over the meters, continuing each meter's
// Seq from seq (which it updates). Every meter appears; in the first call
// (seq empty) lateMeter only in the last reading, singleMeter only once.
func Readings(seed uint64, n int, seq map[string]int) []reference.Reading {
	r := rand.New(rand.NewPCG(seed, uint64(71+len(seq))))
	first := len(seq) == 0
	picks := make([]int, n)
	for i := range picks {
		switch {
		case i < devices:
			picks[i] = i
		case first:
			picks[i] = r.IntN(devices - 2) // neither the late nor the single meter
		default:
			picks[i] = r.IntN(devices)
		}
	}
	if first {
		// Every meter but the late one shuffled in; the late one last.
		rest := picks[:0:0]
		for _, p := range picks {
			if p != lateMeter {
				rest = append(rest, p)
			}
		}
		r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		picks = append(rest, lateMeter)
	} else {
		r.Shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })
	}
	out := make([]reference.Reading, n)
	for i, m := range picks {
		d := meterNames[m]
		seq[d]++
		out[i] = reference.Reading{Device: d, Seq: seq[d], Watts: 100 + r.IntN(2900)}
	}
	return out
}

// scenario is one check's topic, group, sink and the totals the sink must
// end up with.
type scenario struct {
	h                   *grader.Harness
	brokers             []string
	topic, group, sink  string
	seq                 map[string]int
	want                map[string]reference.Total
	produced, processes int
}

func newScenario(h *grader.Harness) (*scenario, error) {
	s := &scenario{h: h, brokers: h.Endpoints.KafkaBrokers, topic: h.Unique("readings"), group: h.Unique("totals"),
		sink: h.Path("sink"), seq: map[string]int{}, want: map[string]reference.Total{}}
	if err := os.MkdirAll(s.sink, 0o755); err != nil {
		return nil, err
	}
	if err := kafkacheck.CreateTopic(h, s.topic, partitions); err != nil {
		return nil, err
	}
	return s, nil
}

// produce writes n more readings with the grader's own producer, keyed by
// meter, and adds them to the expected totals.
func (s *scenario) produce(n int) error {
	batch := Readings(s.h.Seed()+uint64(s.produced), n, s.seq)
	p, err := sarama.NewSyncProducer(s.brokers, kafkacheck.Config())
	if err != nil {
		return fmt.Errorf("grader's producer: %w", err)
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, len(batch))
	for i, r := range batch {
		v, _ := json.Marshal(r)
		msgs[i] = &sarama.ProducerMessage{Topic: s.topic, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}
		t := s.want[r.Device]
		t.Watts += int64(r.Watts)
		t.Readings++
		t.LastSeq = r.Seq
		s.want[r.Device] = t
	}
	if err := p.SendMessages(msgs); err != nil {
		return fmt.Errorf("grader's producer: %w", err)
	}
	s.produced += n
	return nil
}

// start runs the learner's Consume in the background. mode is "none", or
// where the sink stops the process at its crashAt-th write:
// "after-write" or "before-write".
func (s *scenario) start(ctx context.Context, mode string) (*grader.Process, string) {
	s.processes++
	marker := s.h.Path(fmt.Sprintf("crash-%d", s.processes))
	p := s.h.Start(ctx, grader.RunOptions{Args: []string{"consume", s.group, s.topic, s.sink, mode, fmt.Sprint(crashAt), marker}, Timeout: 6 * time.Minute})
	return p, marker
}

// progress is the group's committed offsets next to the topic's
// high-water marks, read with the grader's own admin client.
type progress struct{ committed, hwms []int64 }

func (p progress) lag() int64 {
	var l int64
	for i, hwm := range p.hwms {
		l += hwm - max(p.committed[i], 0)
	}
	return l
}

func (p progress) String() string {
	return fmt.Sprintf("committed offsets %v of high-water marks %v, lag %d", p.committed, p.hwms, p.lag())
}

func (s *scenario) progress() (progress, error) {
	client, err := sarama.NewClient(s.brokers, kafkacheck.Config())
	if err != nil {
		return progress{}, err
	}
	defer client.Close()
	hwms, err := kafkacheck.Offsets(client, s.topic)
	if err != nil {
		return progress{}, err
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		return progress{}, err
	}
	parts := make([]int32, len(hwms))
	for i := range parts {
		parts[i] = int32(i)
	}
	resp, err := admin.ListConsumerGroupOffsets(s.group, map[string][]int32{s.topic: parts})
	if err != nil {
		return progress{}, err
	}
	committed := make([]int64, len(hwms))
	for i := range committed {
		committed[i] = -1 // nothing committed
		if b := resp.GetBlock(s.topic, int32(i)); b != nil && b.Err == sarama.ErrNoError {
			committed[i] = b.Offset
		}
	}
	return progress{committed: committed, hwms: hwms}, nil
}

// ended explains a consumer process that ended before the checker stopped
// it: Consume must keep going until ctx is cancelled.
func ended(p *grader.Process, when string) error {
	if _, err := p.Wait(); err != nil {
		return err
	}
	return grader.Failf("Consume returned nil %s, and nobody had cancelled its ctx: it must keep consuming until then", when)
}

// poll calls done every 100ms until it reports true, a process ends, or
// timeout passes (then it returns errTimeout).
func poll(ctx context.Context, timeout time.Duration, procs []*grader.Process, when string, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		for _, p := range procs {
			if !p.Running() {
				return ended(p, when)
			}
		}
		if time.Now().After(deadline) {
			return errTimeout
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errTimeout = errors.New("timeout")

// caughtUp waits until the group has committed the end of every
// partition: catchUp at least, and past it as long as the committed
// offsets keep moving (see stall and slowest), so that slow but correct
// code is judged on what it does, and a stalled consumer is told so.
func (s *scenario) caughtUp(ctx context.Context, procs ...*grader.Process) error {
	var last progress
	began, moved := time.Now(), time.Now()
	lag := int64(-1)
	err := poll(ctx, slowest, procs, "while records were waiting to be read", func() (bool, error) {
		pr, err := s.progress()
		if err != nil {
			return false, err
		}
		last = pr
		l := pr.lag()
		if l == 0 {
			return true, nil
		}
		if lag < 0 || l < lag {
			lag, moved = l, time.Now()
		}
		if time.Since(began) >= catchUp && time.Since(moved) >= stall {
			return false, errTimeout
		}
		return false, nil
	})
	if errors.Is(err, errTimeout) {
		if time.Since(moved) >= stall {
			return grader.Failf("your consumer group stopped making progress: its committed offsets did not move for %s (%s); the sink counts %d of the %d readings", stall, last, s.counted(), s.produced)
		}
		done := s.produced - int(last.lag())
		return grader.Failf("too slow to judge: after %s your consumer group had committed %d of %d readings (%.0f readings/s; the checker waits at most %s, which needs %.0f/s), %s", slowest, done, s.produced, float64(done)/slowest.Seconds(), slowest, float64(s.produced)/slowest.Seconds(), last)
	}
	if err != nil {
		return err
	}
	s.h.Logf("the group caught up: committed offsets = high-water marks %v", last.hwms)
	return nil
}

// crashPoint waits for the sink's marker: the process has stopped dead at
// its crashAt-th write.
func (s *scenario) crashPoint(ctx context.Context, p *grader.Process, marker string) error {
	err := poll(ctx, catchUp, []*grader.Process{p}, "while records were waiting to be read", func() (bool, error) {
		_, err := os.Stat(marker)
		return err == nil, nil
	})
	if errors.Is(err, errTimeout) {
		pr, perr := s.progress()
		if perr != nil {
			return perr
		}
		return grader.Failf("after %s your consumer had not written %d rows to the sink (%s)", catchUp, crashAt, pr)
	}
	return err
}

// settled waits until the group's committed offsets stop moving.
func (s *scenario) settled(ctx context.Context) (progress, error) {
	var last progress
	since := time.Now()
	err := poll(ctx, 15*time.Second, nil, "", func() (bool, error) {
		pr, err := s.progress()
		if err != nil {
			return false, err
		}
		if !slices.Equal(pr.committed, last.committed) {
			last, since = pr, time.Now()
		}
		return time.Since(since) >= settle, nil
	})
	if errors.Is(err, errTimeout) {
		err = nil // still committing after 15s: kill it anyway
	}
	return last, err
}

// counted is how many readings the sink's rows count, for evidence.
func (s *scenario) counted() int {
	rows, _ := s.rows()
	n := 0
	for _, t := range rows {
		n += t.Readings
	}
	return n
}

// sinkRowLimit is the largest sink row the grader reads: a row is one
// meter's totals, some 60 bytes of JSON.
const sinkRowLimit = 1 << 20

func (s *scenario) rows() (map[string]reference.Total, error) {
	files, err := filepath.Glob(filepath.Join(s.sink, "*.json"))
	if err != nil {
		return nil, err
	}
	rows := map[string]reference.Total{}
	for _, f := range files {
		// The sink is the harness's, but it writes in the learner's process.
		what := "sink row " + filepath.Base(f)
		data, err := grader.ReadArtifactFile(what, f, sinkRowLimit)
		if err != nil {
			return nil, err
		}
		var t reference.Total
		if err := grader.UnmarshalArtifact(what, data, &t); err != nil {
			return nil, fmt.Errorf("the sink's row %s: %w", filepath.Base(f), err)
		}
		rows[strings.TrimSuffix(filepath.Base(f), ".json")] = t
	}
	return rows, nil
}

func show(t reference.Total) string {
	return fmt.Sprintf("%d readings, %d W, last seq %d", t.Readings, t.Watts, t.LastSeq)
}

// verify compares every row of the sink with the totals of what was
// produced, and shows the first meter whose row is wrong.
func (s *scenario) verify() error {
	rows, err := s.rows()
	if err != nil {
		return err
	}
	meters := make([]string, 0, len(s.want))
	for d := range s.want {
		meters = append(meters, d)
	}
	slices.Sort(meters)
	wrong, first := 0, ""
	for _, d := range meters {
		if got := rows[d]; got != s.want[d] {
			if wrong++; first == "" {
				first = d
			}
		}
	}
	if wrong > 0 {
		got, want := rows[first], s.want[first]
		why := "readings were counted twice"
		switch {
		case got.Readings < want.Readings:
			why = "readings were never counted"
		case got.Readings == want.Readings && got.Watts != want.Watts:
			why = "the watts do not add up"
		case got.Readings == want.Readings:
			why = "its LastSeq is not the Seq of its last reading"
		}
		return grader.Mismatch(fmt.Sprintf("%d of %d meters' rows in the sink are wrong (the sink counts %d readings; %d are on the topic); the first, %s: %s", wrong, len(meters), s.counted(), s.produced, first, why),
			show(want), show(got))
	}
	for d := range rows {
		if _, ok := s.want[d]; !ok {
			return grader.Failf("the sink has a row for %q, a meter that sent nothing", d)
		}
	}
	s.h.Logf("every one of the %d meters' rows matches the %d readings on the topic", len(meters), s.produced)
	return nil
}

func (s *scenario) produceLogged(n int) error {
	if err := s.produce(n); err != nil {
		return err
	}
	s.h.Logf("produced %d readings of %d meters to %s (%d partitions, keyed by meter) with the grader's producer", n, devices, s.topic, partitions)
	return nil
}

// finish restarts the consumer after a kill and checks the result.
func (s *scenario) finish(ctx context.Context) error {
	p, _ := s.start(ctx, "none")
	s.h.Logf("started Consume again, same group")
	if err := s.caughtUp(ctx, p); err != nil {
		return err
	}
	p.Stop()
	return s.verify()
}

func fromTheStart(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produceLogged(readings); err != nil {
		return err
	}
	p, _ := s.start(ctx, "none")
	h.Logf("started Consume(ctx, brokers, %q, %q, sink): a new group, nothing committed yet", s.group, s.topic)
	if err := s.caughtUp(ctx, p); err != nil {
		return err
	}
	p.Stop()
	h.Logf("stopped your consumer")
	return s.verify()
}

func noDoubleCount(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produceLogged(readings); err != nil {
		return err
	}
	p, marker := s.start(ctx, "after-write")
	h.Logf("started Consume(ctx, brokers, %q, %q, sink); the sink stops the process dead right after its write #%d", s.group, s.topic, crashAt)
	if err := s.crashPoint(ctx, p, marker); err != nil {
		return err
	}
	p.Stop()
	h.Logf("killed your consumer (SIGKILL) there, as a crash would: that row is written, its offset not yet committed")
	return s.finish(ctx)
}

func noLoss(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produceLogged(readings); err != nil {
		return err
	}
	p, marker := s.start(ctx, "before-write")
	h.Logf("started Consume(ctx, brokers, %q, %q, sink); the sink stops the process dead as it begins write #%d", s.group, s.topic, crashAt)
	if err := s.crashPoint(ctx, p, marker); err != nil {
		return err
	}
	if _, err := s.settled(ctx); err != nil {
		return err
	}
	p.Stop()
	h.Logf("waited until the group's committed offsets stopped moving, then killed your consumer (SIGKILL): that row was never written")
	return s.finish(ctx)
}

func rebalance(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produceLogged(readings / 4); err != nil {
		return err
	}
	first, _ := s.start(ctx, "none")
	h.Logf("started Consume(ctx, brokers, %q, %q, sink)", s.group, s.topic)
	if err := s.caughtUp(ctx, first); err != nil {
		return err
	}
	// The rebalance comes with records in flight: produced as the second
	// member starts, so that the first is reading them, its marks not yet
	// committed, when the group takes partitions from it (joining takes
	// the second member a few seconds, producing them a fraction of one).
	second, _ := s.start(ctx, "none")
	if err := s.produce(readings / 4); err != nil {
		return err
	}
	h.Logf("started a second Consume in the same group and at once produced %d more readings: a rebalance while the first reads them", readings/4)
	var sizes []int
	err = poll(ctx, catchUp, []*grader.Process{first, second}, "when a second consumer joined the group (a rebalance)", func() (bool, error) {
		sizes, err = s.members()
		return len(sizes) == 2 && sizes[0] > 0 && sizes[1] > 0, err
	})
	if errors.Is(err, errTimeout) {
		return grader.Failf("after %s the group still did not have two members sharing the partitions (members' partition counts: %v)", catchUp, sizes)
	}
	if err != nil {
		return err
	}
	h.Logf("the group is stable with two members, %d and %d partitions", sizes[0], sizes[1])
	if err := s.produceLogged(readings / 2); err != nil {
		return err
	}
	if err := s.caughtUp(ctx, first, second); err != nil {
		return err
	}
	first.Stop()
	second.Stop()
	h.Logf("stopped both consumers")
	return s.verify()
}

// members describes the group with the grader's admin client: how many
// partitions each member holds, largest first, once the group is stable.
func (s *scenario) members() ([]int, error) {
	admin, err := kafkacheck.Admin(s.brokers)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	groups, err := admin.DescribeConsumerGroups([]string{s.group})
	if err != nil || len(groups) != 1 {
		return nil, fmt.Errorf("describe group %s: %v", s.group, err)
	}
	if groups[0].State != "Stable" {
		return nil, nil
	}
	var sizes []int
	for _, m := range groups[0].Members {
		a, err := m.GetMemberAssignment()
		if err != nil {
			return nil, err
		}
		n := 0
		if a != nil {
			n = len(a.Topics[s.topic])
		}
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	return sizes, nil
}
