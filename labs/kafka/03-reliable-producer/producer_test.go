package reliableproducer_test

// Your own quick loop against a real broker, no checker needed:
//
//	delab up kafka        # once; it prints the broker's address
//	DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/03-reliable-producer/
//
// Without a reachable broker the tests skip and say so. They produce the
// events in testdata/events.json, then 20,000 generated ones, and check
// that each is on the topic exactly once and in order per device. The
// faults are the checker's part: `delab check kafka/03` kills the broker
// mid-stream and loses the broker's answer to two of your produce
// requests, times your producer, and decides the grade. Add your own
// cases: this file is yours.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	reliableproducer "github.com/delab-dev/delab/labs/kafka/03-reliable-producer"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read kafka/02"
}

func TestProduceSample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var events []reliableproducer.Event
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatal(err)
	}
	produceAndCheck(t, events)
}

func TestProduceMany(t *testing.T) {
	events := make([]reliableproducer.Event, 20000)
	seq := map[string]int{}
	for i := range events {
		dev := fmt.Sprintf("dev-%03d", i*7%100)
		seq[dev]++
		events[i] = reliableproducer.Event{Device: dev, Seq: seq[dev], Kind: "reading", At: 1793577600000 + int64(i)}
	}
	produceAndCheck(t, events)
}

// produceAndCheck runs Produce on a fresh 6-partition topic and reads it
// back: every event exactly once, keyed by device, in order per device.
func produceAndCheck(t *testing.T, events []reliableproducer.Event) {
	t.Helper()
	bs := brokers(t)
	topic := newTopic(t, bs, "reliable", 6)
	start := time.Now()
	if err := reliableproducer.Produce(bs, topic, events); err != nil {
		t.Fatalf("Produce: %v%s", err, reread("Your lab: survive a crash"))
	}
	t.Logf("Produce sent %d events in %v", len(events), time.Since(start).Round(time.Millisecond))
	msgs := collect(t, bs, topic, len(events), sarama.ReadUncommitted)
	type id struct {
		device string
		seq    int
	}
	seen, last := map[id]bool{}, map[string]int{}
	var problems int
	fail := func(format string, args ...any) {
		if problems++; problems <= 5 {
			t.Errorf(format, args...)
		}
	}
	for _, m := range msgs {
		var e reliableproducer.Event
		if err := json.Unmarshal(m.Value, &e); err != nil {
			fail("record at partition %d offset %d is not the JSON of an event: %q%s", m.Partition, m.Offset, m.Value, reread("Your lab: survive a crash"))
			continue
		}
		if string(m.Key) != e.Device {
			fail("the record of %+v has key %q, want the device%s", e, m.Key, reread("Your lab: survive a crash"))
		}
		if seen[id{e.Device, e.Seq}] {
			fail("%s's event %d is on the topic twice%s", e.Device, e.Seq, reread("The idempotent producer"))
		} else if e.Seq < last[e.Device] {
			fail("%s's event %d comes after its event %d%s", e.Device, e.Seq, last[e.Device], reread("The idempotent producer"))
		}
		seen[id{e.Device, e.Seq}], last[e.Device] = true, e.Seq
	}
	if len(seen) != len(events) {
		fail("the topic holds %d distinct events of the %d produced%s", len(seen), len(events), reread("Acknowledgements"))
	}
}

// The helpers below talk to the broker directly, as the checker does.

// brokers returns the broker that `delab up kafka` keeps running, named by
// DELAB_KAFKA_BROKERS, and skips the test when there is none.
func brokers(t *testing.T) []string {
	t.Helper()
	how := "run `delab up kafka` first, then the tests with the broker address it prints:\n" +
		"    DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/03-reliable-producer/"
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
