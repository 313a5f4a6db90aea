// Package exactlyonce grades the lab "Exactly once, read-process-write":
// it writes readings to an input topic with its own (transactional)
// producer, runs the learner's pipeline in the background, kills it
// (SIGKILL) in the middle of a transaction and starts it again, and reads
// the output topic with its own read_committed consumer: each committed
// reading must have exactly one result, keyed by meter, and no aborted
// reading any.
package exactlyonce

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/kafka/05-exactly-once/solution"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/kafka/05-exactly-once.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"results":          results,
		"committed-input":  committedInput,
		"crash-in-the-txn": crashInTheTxn,
	},
}

const (
	partitions = 3
	devices    = 30
	// crashAt is the transform call the crash comes at.
	crashAt = 1_500
	// killAfter is how long the checker leaves the stopped process before
	// it kills it: longer than sarama's 1s auto-commit interval.
	killAfter = 1500 * time.Millisecond
	// complete bounds the wait for the output to be complete. It covers a
	// restart: the killed member stays in the group until its session
	// times out (10s), and only then is a new member given partitions.
	complete = 60 * time.Second
	// quiet is how long the output must stay unchanged to count as final.
	quiet = 2 * time.Second
)

// Boundary table: every rule the lesson (kafka/04) and lab.yaml state, the
// input that exercises it in every run whatever the seed, and the check
// that judges it. TestInputExercisesTheRules proves the inputs over 200
// seeds, read back as the learner's consumer sees them (JSON, keyed).
//
//	rule                              | input placed in every run                       | check
//	----------------------------------+-------------------------------------------------+------------------------------------------
//	each reading becomes transform's  | every meter; watts 100, 999, 1000, 1999, 2000,  | results: every field of every result =
//	  result, every field             |   2999 (the band edges) in every produce call   |   the grader's Transform of its reading
//	keyed by meter, one partition per | 30 meters that sarama's default partitioner     | results: key == meter; one partition per
//	  meter, in order                 |   spreads over all 3 partitions; a meter first  |   meter; seq rising with the offset
//	                                  |   seen in the last reading; one seen once       |
//	each committed reading exactly    | 2000 / 3000 / 4000 readings                     | all three: each committed reading has
//	  once                            |                                                 |   exactly one committed result
//	aborted readings never become     | 12 input transactions of 250: the first (offset | committed-input: no result of an aborted
//	  results (read_committed)        |   0 of every partition), two in a row (5, 6)    |   reading, the first one named with its
//	                                  |   and the last are aborted; each spans all 3    |   transaction
//	                                  |   input partitions                              |
//	results and input offsets commit  | the process is stopped dead at transform call   | crash-in-the-txn: after the kill and a
//	  together; a crash between       |   #1500 (results of the open transaction sent,  |   restart in the same group, exactly one
//	  produce and commit loses nothing|   not committed), killed 1.5s later: longer     |   committed result per reading
//	  and doubles nothing             |   than an auto-commit interval                  |
//
// Not judged, for want of a deterministic input: offsets committed outside
// the transaction but right after CommitTxn (only a crash inside that
// window shows it, and the grader can stop the process only inside
// transform), and a transactional.id that changes on restart (the killed
// process never comes back as a zombie to be fenced).

// bandEdges are the watts at which transform's band changes, and the ends
// of the range.
var bandEdges = []int{100, 999, 1000, 1999, 2000, 2999}

// Readings generates n readings over the meters, continuing each meter's
// Seq from seq (which it updates). Every meter appears: the one that
// lateMeter names only in the last reading, the one singleMeter names
// only once; each of bandEdges is the watts of some reading.
func Readings(r *rand.Rand, n int, seq map[string]int) []reference.Reading {
	picks := make([]int, n-1)
	for i := range picks {
		if i < devices-1 {
			picks[i] = i // every meter but the late one
		} else {
			picks[i] = r.IntN(devices - 2) // never the single nor the late one
		}
	}
	r.Shuffle(len(picks), func(i, j int) { picks[i], picks[j] = picks[j], picks[i] })
	picks = append(picks, lateMeter)
	out := make([]reference.Reading, n)
	for i, m := range picks {
		d := fmt.Sprintf("meter-%02d", m+1)
		seq[d]++
		out[i] = reference.Reading{Device: d, Seq: seq[d], Watts: 100 + r.IntN(2900)}
	}
	for i, at := range r.Perm(n)[:len(bandEdges)] {
		out[at].Watts = bandEdges[i]
	}
	return out
}

// lateMeter (0-based) appears only in the last reading of each produce
// call, singleMeter only once in it.
const (
	lateMeter   = devices - 1
	singleMeter = devices - 2
)

// abortedTxns are the input transactions committed-input aborts, out of
// twelve: the first, two in a row, and the last.
var abortedTxns = map[int]bool{0: true, 5: true, 6: true, 11: true}

// Transform is what the harness gives the learner's Process.
func Transform(r reference.Reading) reference.Usage {
	band := "low"
	switch {
	case r.Watts >= 2000:
		band = "high"
	case r.Watts >= 1000:
		band = "mid"
	}
	return reference.Usage{Device: r.Device, Seq: r.Seq, Watts: r.Watts, Band: band}
}

type scenario struct {
	h              *grader.Harness
	brokers        []string
	in, out, group string
	rand           *rand.Rand
	seq            map[string]int
	want, aborted  []reference.Reading
	// txnOf is the input transaction of each reading produced: its index
	// and how many the produce call had.
	txnOf     map[string][2]int
	processes int
}

func newScenario(h *grader.Harness) (*scenario, error) {
	s := &scenario{h: h, brokers: h.Endpoints.KafkaBrokers, in: h.Unique("readings"), out: h.Unique("usage"), group: h.Unique("pipeline"),
		rand: rand.New(rand.NewPCG(h.Seed(), 83)), seq: map[string]int{}, txnOf: map[string][2]int{}}
	for _, t := range []string{s.in, s.out} {
		if err := kafkacheck.CreateTopic(h, t, partitions); err != nil {
			return nil, err
		}
	}
	h.Logf("created topics %s and %s, %d partitions each", s.in, s.out, partitions)
	return s, nil
}

func message(topic string, r reference.Reading) *sarama.ProducerMessage {
	v, _ := json.Marshal(r)
	return &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}
}

// produce writes readings with the grader's own producer, in transactions
// of batch readings; the transactions whose index is in abort are
// aborted instead of committed.
func (s *scenario) produce(n, batch int, abort map[int]bool) error {
	cfg := kafkacheck.Config()
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Transaction.ID = s.h.Unique("grader")
	p, err := sarama.NewAsyncProducer(s.brokers, cfg)
	if err != nil {
		return fmt.Errorf("grader's producer: %w", err)
	}
	defer p.Close()
	go func() {
		for range p.Successes() {
		}
	}()
	go func() {
		for range p.Errors() {
		}
	}()
	readings := Readings(s.rand, n, s.seq)
	for i := 0; i*batch < n; i++ {
		if err := p.BeginTxn(); err != nil {
			return fmt.Errorf("grader's producer: %w", err)
		}
		part := readings[i*batch : min(n, (i+1)*batch)]
		for _, r := range part {
			p.Input() <- message(s.in, r)
			s.txnOf[key(r.Device, r.Seq)] = [2]int{i, (n + batch - 1) / batch}
		}
		if abort[i] {
			if err := p.AbortTxn(); err != nil {
				return fmt.Errorf("grader's producer: %w", err)
			}
			s.aborted = append(s.aborted, part...)
			continue
		}
		if err := p.CommitTxn(); err != nil {
			return fmt.Errorf("grader's producer: %w", err)
		}
		s.want = append(s.want, part...)
	}
	return nil
}

func (s *scenario) start(ctx context.Context, crash int) (*grader.Process, string) {
	s.processes++
	marker := s.h.Path(fmt.Sprintf("crash-%d", s.processes))
	p := s.h.Start(ctx, grader.RunOptions{Args: []string{"process", s.group, s.in, s.out, fmt.Sprint(crash), marker}, Timeout: 4 * time.Minute})
	return p, marker
}

// result is one record of the output topic as the grader's read_committed
// consumer saw it.
type result struct {
	kafkacheck.Record
	Usage reference.Usage
}

// readOutput reads every partition of the output topic with isolation
// level read_committed: records of open or aborted transactions are not
// seen. A partition is done when it has been quiet for 300ms.
func (s *scenario) readOutput() ([]result, error) {
	cfg := kafkacheck.Config()
	cfg.Consumer.IsolationLevel = sarama.ReadCommitted
	consumer, err := sarama.NewConsumer(s.brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("grader's consumer: %w", err)
	}
	defer consumer.Close()
	var out []result
	budget := kafkacheck.NewTopicBudget(s.out)
	for p := range int32(partitions) {
		pc, err := consumer.ConsumePartition(s.out, p, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("grader's consumer: %w", err)
		}
	read:
		for {
			select {
			case m := <-pc.Messages():
				if err := budget.Take(m); err != nil {
					pc.Close()
					return nil, err
				}
				r := result{Record: kafkacheck.Record{Partition: m.Partition, Offset: m.Offset, Key: string(m.Key), Value: m.Value}}
				if err := grader.UnmarshalArtifact("record on the output topic", m.Value, &r.Usage); err != nil {
					pc.Close()
					return nil, grader.Failf("output partition %d offset %d: the value is not the JSON of a Usage: %v", m.Partition, m.Offset, err)
				}
				out = append(out, r)
			case <-time.After(300 * time.Millisecond):
				break read
			}
		}
		pc.Close()
	}
	return out, nil
}

// settle waits until the output holds at least as many results as there
// are committed readings and has not changed for quiet, and returns it.
func (s *scenario) settle(ctx context.Context, procs ...*grader.Process) ([]result, error) {
	deadline := time.Now().Add(complete)
	last, since := -1, time.Now()
	for {
		got, err := s.readOutput()
		if err != nil {
			return nil, err
		}
		if len(got) != last {
			last, since = len(got), time.Now()
		}
		if len(got) >= len(s.want) && time.Since(since) >= quiet {
			s.h.Logf("the output is complete and quiet: %d results under read_committed", len(got))
			return got, nil
		}
		for _, p := range procs {
			if !p.Running() {
				if _, err := p.Wait(); err != nil {
					return nil, err
				}
				return nil, grader.Failf("Process returned nil with readings still to process, and nobody had cancelled its ctx: it must keep going until then")
			}
		}
		if time.Now().After(deadline) {
			return nil, grader.Mismatch(fmt.Sprintf("after %s the output topic still held too few committed results (read with isolation level read_committed)", complete),
				fmt.Sprintf("%d results", len(s.want)), fmt.Sprintf("%d results", len(got)))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func key(device string, seq int) string { return fmt.Sprintf("%s #%d", device, seq) }

// exactlyOnce compares the results with the committed readings: each
// exactly once, none from an aborted reading.
func (s *scenario) exactlyOnce(got []result) error {
	count := map[string]int{}
	for _, r := range got {
		count[key(r.Usage.Device, r.Usage.Seq)]++
	}
	fromAborted := 0
	var firstAborted string
	for _, r := range s.aborted {
		k := key(r.Device, r.Seq)
		if count[k] > 0 {
			if fromAborted++; firstAborted == "" {
				firstAborted = k
			}
		}
	}
	if fromAborted > 0 {
		t := s.txnOf[firstAborted]
		return grader.Failf("%d results come from readings whose transaction the input's producer aborted, the first: %s (input transaction %d of %d, aborted); a read_committed consumer never sees those", fromAborted, firstAborted, t[0]+1, t[1])
	}
	missing, doubled := 0, 0
	var first string
	for _, r := range s.want {
		k := key(r.Device, r.Seq)
		if count[k] != 1 && first == "" {
			first = fmt.Sprintf("%s has %d results", k, count[k])
		}
		switch {
		case count[k] == 0:
			missing++
		case count[k] > 1:
			doubled++
		}
	}
	if missing+doubled > 0 {
		return grader.Mismatch(fmt.Sprintf("%d of the %d committed readings do not have exactly one committed result (%d have none, %d more than one); the first: %s", missing+doubled, len(s.want), missing, doubled, first),
			fmt.Sprintf("%d results, one per reading", len(s.want)), fmt.Sprintf("%d results", len(got)))
	}
	s.h.Logf("each of the %d committed readings has exactly one committed result", len(s.want))
	return nil
}

func (s *scenario) run(ctx context.Context) ([]result, error) {
	p, _ := s.start(ctx, 0)
	s.h.Logf("started Process(ctx, brokers, %q, %q, %q, transform)", s.group, s.in, s.out)
	got, err := s.settle(ctx, p)
	p.Stop()
	return got, err
}

func results(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produce(2_000, 2_000, nil); err != nil {
		return err
	}
	h.Logf("produced %d readings of %d meters to %s, keyed by meter", len(s.want), devices, s.in)
	got, err := s.run(ctx)
	if err != nil {
		return err
	}
	if err := s.exactlyOnce(got); err != nil {
		return err
	}
	if err := judgeResults(s.want, got); err != nil {
		return err
	}
	h.Logf("every result is transform's output for its reading, keyed by meter, each meter's in one partition, in order")
	return nil
}

// judgeResults compares every result with the grader's Transform of its
// reading, in the order the readings were produced, so that the first
// wrong result shown does not depend on where a partitioner put it; then
// each meter's results: one partition, in order. got is in partition and
// offset order and holds exactly one result per reading of want.
func judgeResults(readings []reference.Reading, got []result) error {
	byReading := map[string]result{}
	for _, r := range got {
		byReading[key(r.Usage.Device, r.Usage.Seq)] = r
	}
	partitionOf := map[string]int32{}
	for _, in := range readings {
		k := key(in.Device, in.Seq)
		r, want := byReading[k], Transform(in)
		if r.Usage != want {
			return grader.Mismatch(fmt.Sprintf("the result of reading %s is not transform's output for it", k), fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", r.Usage))
		}
		if r.Key != in.Device {
			return grader.Mismatch(fmt.Sprintf("the result of reading %s is not keyed by its meter", k), fmt.Sprintf("key %q", in.Device), fmt.Sprintf("key %q", r.Key))
		}
		if p, ok := partitionOf[r.Key]; ok && p != r.Partition {
			return grader.Failf("%s's results are in partitions %d and %d", r.Key, p, r.Partition)
		}
		partitionOf[r.Key] = r.Partition
	}
	last := map[string]result{}
	for _, r := range got {
		if prev, ok := last[r.Key]; ok && r.Usage.Seq < prev.Usage.Seq {
			return grader.Mismatch(fmt.Sprintf("%s's results are out of order in output partition %d", r.Key, r.Partition),
				fmt.Sprintf("a seq after #%d", prev.Usage.Seq), fmt.Sprintf("#%d at offset %d, after #%d at offset %d", r.Usage.Seq, r.Offset, prev.Usage.Seq, prev.Offset))
		}
		last[r.Key] = r
	}
	return nil
}

func committedInput(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produce(3_000, 250, abortedTxns); err != nil {
		return err
	}
	h.Logf("produced %d readings to %s in 12 transactions of 250: %d committed, %d in the aborted transactions 1, 6, 7 and 12", len(s.want)+len(s.aborted), s.in, len(s.want), len(s.aborted))
	got, err := s.run(ctx)
	if err != nil {
		return err
	}
	return s.exactlyOnce(got)
}

func crashInTheTxn(ctx context.Context, h *grader.Harness) error {
	s, err := newScenario(h)
	if err != nil {
		return err
	}
	if err := s.produce(4_000, 4_000, nil); err != nil {
		return err
	}
	h.Logf("produced %d readings of %d meters to %s", len(s.want), devices, s.in)
	p, marker := s.start(ctx, crashAt)
	h.Logf("started Process(ctx, brokers, %q, %q, %q, transform); transform stops the process dead at its call #%d", s.group, s.in, s.out, crashAt)
	deadline := time.Now().Add(complete)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if !p.Running() {
			if _, err := p.Wait(); err != nil {
				return err
			}
			return grader.Failf("Process returned nil with readings still to process, and nobody had cancelled its ctx: it must keep going until then")
		}
		if time.Now().After(deadline) {
			return grader.Failf("after %s transform had not been called %d times", complete, crashAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The harness has stopped the whole process (SIGSTOP), not only
	// transform: were its other goroutines to go on, an at-least-once
	// pipeline could auto-commit all it had produced before the kill and
	// pass. Waiting out more than an auto-commit interval before the kill
	// makes every run show that nothing commits in the meantime.
	time.Sleep(killAfter)
	p.Stop()
	h.Logf("killed your pipeline (SIGKILL) there, in the middle of a transaction")
	q, _ := s.start(ctx, 0)
	h.Logf("started Process again, same group")
	got, err := s.settle(ctx, q)
	q.Stop()
	if err != nil {
		return err
	}
	return s.exactlyOnce(got)
}
