package groupconsumer_test

// Your own quick loop against a real broker, no checker needed:
//
//	delab up kafka        # once; it prints the broker's address
//	DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/04-group-consumer/
//
// Without a reachable broker the tests skip and say so. They write the
// readings in testdata/readings.json to a fresh topic, run your Consume
// into an in-memory sink, stop it, write more and run it again in the same
// group. Crashes and rebalances are the checker's part: `delab check
// kafka/04` kills your consumer mid-stream and decides the grade. Add your
// own cases: this file is yours.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	groupconsumer "github.com/delab-dev/delab/labs/kafka/04-group-consumer"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read kafka/03"
}

// memSink is a Sink in memory.
type memSink struct {
	mu   sync.Mutex
	rows map[string]groupconsumer.Total
}

func (s *memSink) Get(device string) (groupconsumer.Total, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.rows[device]
	return t, ok, nil
}

func (s *memSink) Put(device string, t groupconsumer.Total) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[device] = t
	return nil
}

func (s *memSink) snapshot() map[string]groupconsumer.Total {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]groupconsumer.Total{}
	for k, v := range s.rows {
		out[k] = v
	}
	return out
}

// totals is what the sink must hold after rs.
func totals(rs []groupconsumer.Reading) map[string]groupconsumer.Total {
	out := map[string]groupconsumer.Total{}
	for _, r := range rs {
		t := out[r.Device]
		t.Watts += int64(r.Watts)
		t.Readings++
		t.LastSeq = max(t.LastSeq, r.Seq)
		out[r.Device] = t
	}
	return out
}

func produce(t *testing.T, bs []string, topic string, rs []groupconsumer.Reading) {
	t.Helper()
	producer, err := sarama.NewSyncProducer(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer producer.Close()
	for _, r := range rs {
		v, _ := json.Marshal(r)
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
}

// consumeUntil runs Consume until the sink holds want (then stops it), or
// fails the test when Consume returns early or 60s pass.
func consumeUntil(t *testing.T, bs []string, group, topic string, sink *memSink, want map[string]groupconsumer.Total, run string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- groupconsumer.Consume(ctx, bs, group, topic, sink) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatalf("Consume did not return within 30s of its context being cancelled%s", reread("Your lab: totals that survive crashes"))
			return nil
		}
	}
	deadline := time.After(60 * time.Second)
	for !reflect.DeepEqual(sink.snapshot(), want) {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("%s: Consume returned before the sink held every total: %v%s", run, err, reread("Your lab: totals that survive crashes"))
		case <-deadline:
			stop()
			t.Fatalf("%s: after 60s the sink holds\n    %v\n    want %v%s", run, sink.snapshot(), want, reread("Where a new group starts"))
		case <-time.After(200 * time.Millisecond):
		}
	}
	time.Sleep(2 * time.Second) // anything counted twice shows now
	if err := stop(); err != nil {
		t.Errorf("%s: Consume returned %v when its context was cancelled, want nil", run, err)
	}
	if got := sink.snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: the sink holds\n    %v\n    want %v\n    a reading counted twice? update each row once per reading, and commit after the write%s", run, got, want, reread("Replays and idempotent sinks"))
	}
}

func TestConsumeAndRestart(t *testing.T) {
	bs := brokers(t)
	data, err := os.ReadFile(filepath.Join("testdata", "readings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []groupconsumer.Reading
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	topic := newTopic(t, bs, "meters", 3)
	group := fmt.Sprintf("local-totals-%d", time.Now().UnixNano())
	sink := &memSink{rows: map[string]groupconsumer.Total{}}

	produce(t, bs, topic, rs)
	consumeUntil(t, bs, group, topic, sink, totals(rs), "first run")

	// More readings while the consumer is stopped; the same group picks up
	// where it committed, and counts nothing twice.
	more := []groupconsumer.Reading{{Device: "meter-01", Seq: 5, Watts: 150}, {Device: "meter-04", Seq: 1, Watts: 5}}
	produce(t, bs, topic, more)
	consumeUntil(t, bs, group, topic, sink, totals(append(rs, more...)), "second run, same group")
}

// The helpers below talk to the broker directly, as the checker does.

// brokers returns the broker that `delab up kafka` keeps running, named by
// DELAB_KAFKA_BROKERS, and skips the test when there is none.
func brokers(t *testing.T) []string {
	t.Helper()
	how := "run `delab up kafka` first, then the tests with the broker address it prints:\n" +
		"    DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/04-group-consumer/"
	v := os.Getenv("DELAB_KAFKA_BROKERS")
	if v == "" {
		t.Skip("no Kafka broker to test against: " + how)
	}
	bs := strings.Split(v, ",")
	conn, err := net.DialTimeout("tcp", bs[0], 3*time.Second)
	if err != nil {
		t.Skipf("the Kafka broker at %s is not reachable (%v): %s", bs[0], err, how)
	}
	conn.Close()
	return bs
}

func config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	return cfg
}

// topicName returns a fresh topic name, and deletes the topic when the
// test ends, whoever creates it.
func topicName(t *testing.T, bs []string, what string) string {
	t.Helper()
	name := fmt.Sprintf("local-%s-%d", what, time.Now().UnixNano())
	t.Cleanup(func() {
		if admin, err := sarama.NewClusterAdmin(bs, config()); err == nil {
			_ = admin.DeleteTopic(name)
			admin.Close()
		}
	})
	return name
}

// newTopic creates a fresh topic and waits until every partition answers.
func newTopic(t *testing.T, bs []string, what string, partitions int32) string {
	t.Helper()
	name := topicName(t, bs, what)
	admin, err := sarama.NewClusterAdmin(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer admin.Close()
	if err := admin.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	client, err := sarama.NewClient(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer client.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ready := client.RefreshMetadata(name) == nil
		for p := int32(0); ready && p < partitions; p++ {
			_, err := client.GetOffset(name, p, sarama.OffsetNewest)
			ready = err == nil
		}
		if ready {
			return name
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s is not ready after 30s", name)
		}
	}
}

// collect reads every partition of topic from the start until it has at
// least want records and no more came for a second, or until 60s pass.
func collect(t *testing.T, bs []string, topic string, want int, isolation sarama.IsolationLevel) []*sarama.ConsumerMessage {
	t.Helper()
	cfg := config()
	cfg.Consumer.IsolationLevel = isolation
	consumer, err := sarama.NewConsumer(bs, cfg)
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer consumer.Close()
	parts, err := consumer.Partitions(topic)
	if err != nil {
		t.Fatalf("partitions of %s: %v", topic, err)
	}
	msgs, done := make(chan *sarama.ConsumerMessage), make(chan struct{})
	for _, p := range parts {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("read %s partition %d: %v", topic, p, err)
		}
		defer pc.AsyncClose()
		go func() {
			for m := range pc.Messages() {
				select {
				case msgs <- m:
				case <-done:
					return
				}
			}
		}()
	}
	defer close(done)
	var out []*sarama.ConsumerMessage
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m := <-msgs:
			out = append(out, m)
		case <-time.After(time.Second):
			if len(out) >= want {
				return sorted(out)
			}
		case <-deadline:
			return sorted(out)
		}
	}
}

// sorted orders records by partition, then offset.
func sorted(ms []*sarama.ConsumerMessage) []*sarama.ConsumerMessage {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Partition != ms[j].Partition {
			return ms[i].Partition < ms[j].Partition
		}
		return ms[i].Offset < ms[j].Offset
	})
	return ms
}
