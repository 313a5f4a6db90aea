package keyedproducer_test

// Your own quick loop against a real broker, no checker needed:
//
//	delab up kafka        # once; it prints the broker's address
//	DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/02-keyed-producer/
//
// Without a reachable broker the tests skip and say so. They create topics
// with your CreateTopic, produce the events in testdata/events.json and
// read them back with their own consumer, as the checker does. Add your own
// cases: this file is yours. `delab check kafka/02` still decides the grade.

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

	keyedproducer "github.com/delab-dev/delab/labs/kafka/02-keyed-producer"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read kafka/01"
}

func TestCreateTopic(t *testing.T) {
	bs := brokers(t)
	topic := topicName(t, bs, "create")
	if err := keyedproducer.CreateTopic(bs, topic); err != nil {
		t.Fatalf("CreateTopic: %v%s", err, reread("Creating topics from code"))
	}
	if n := partitions(t, bs, topic); n != keyedproducer.Partitions {
		t.Errorf("the topic has %d partitions, want %d%s", n, keyedproducer.Partitions, reread("Creating topics from code"))
	}
	if err := keyedproducer.CreateTopic(bs, topic); err != nil {
		t.Errorf("CreateTopic of a topic that already exists with %d partitions: %v, want nil (setup may run twice)%s", keyedproducer.Partitions, err, reread("Creating topics from code"))
	}
	other := newTopic(t, bs, "three", 3)
	if err := keyedproducer.CreateTopic(bs, other); err == nil {
		t.Errorf("CreateTopic of a topic that exists with 3 partitions returned nil, want an error%s", reread("Creating topics from code"))
	}
}

func TestProduce(t *testing.T) {
	bs := brokers(t)
	data, err := os.ReadFile(filepath.Join("testdata", "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var events []keyedproducer.Event
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatal(err)
	}
	topic := newTopic(t, bs, "produce", keyedproducer.Partitions)
	if err := keyedproducer.Produce(bs, topic, events); err != nil {
		t.Fatalf("Produce: %v%s", err, reread("Your lab: a keyed producer"))
	}
	msgs := collect(t, bs, topic, len(events), sarama.ReadUncommitted)
	if len(msgs) != len(events) {
		t.Errorf("the topic holds %d records, want %d: one per event%s", len(msgs), len(events), reread("Your lab: a keyed producer"))
	}
	partition, lastSeq := map[string]int32{}, map[string]int{}
	for _, m := range msgs {
		var e keyedproducer.Event
		if err := json.Unmarshal(m.Value, &e); err != nil {
			t.Errorf("record at partition %d offset %d is not the JSON of an event: %q", m.Partition, m.Offset, m.Value)
			continue
		}
		if string(m.Key) != e.Device {
			t.Errorf("the record of %+v has key %q, want the device%s", e, m.Key, reread("Keys decide partitions, and so order"))
		}
		if p, seen := partition[e.Device]; seen && p != m.Partition {
			t.Errorf("%s's events are in partitions %d and %d: one key, one partition%s", e.Device, p, m.Partition, reread("Keys decide partitions, and so order"))
		} else if e.Seq <= lastSeq[e.Device] {
			t.Errorf("%s's event %d comes after its event %d in partition %d: send in order%s", e.Device, e.Seq, lastSeq[e.Device], m.Partition, reread("Keys decide partitions, and so order"))
		}
		partition[e.Device], lastSeq[e.Device] = m.Partition, e.Seq
		headers := map[string]string{}
		for _, h := range m.Headers {
			headers[string(h.Key)] = string(h.Value)
		}
		if headers["kind"] != e.Kind || headers["content-type"] != "application/json" {
			t.Errorf("the record of %+v has headers %v, want kind=%s and content-type=application/json%s", e, headers, e.Kind, reread("Headers: metadata beside the value"))
		}
	}
}

// partitions asks the broker how many partitions topic has.
func partitions(t *testing.T, bs []string, topic string) int {
	t.Helper()
	admin, err := sarama.NewClusterAdmin(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer admin.Close()
	meta, err := admin.DescribeTopics([]string{topic})
	if err != nil || len(meta) != 1 || meta[0].Err != sarama.ErrNoError {
		t.Fatalf("describe topic %s: %v %v%s", topic, err, meta, reread("Creating topics from code"))
	}
	return len(meta[0].Partitions)
}

// The helpers below talk to the broker directly, as the checker does.

// brokers returns the broker that `delab up kafka` keeps running, named by
// DELAB_KAFKA_BROKERS, and skips the test when there is none.
func brokers(t *testing.T) []string {
	t.Helper()
	how := "run `delab up kafka` first, then the tests with the broker address it prints:\n" +
		"    DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/02-keyed-producer/"
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
