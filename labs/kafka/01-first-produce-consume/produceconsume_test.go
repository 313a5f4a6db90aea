package produceconsume_test

// Your own quick loop against a real broker, no checker needed:
//
//	delab up kafka        # once; it prints the broker's address
//	DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/01-first-produce-consume/
//
// Without a reachable broker the tests skip and say so. They produce the
// readings in testdata/readings.json to a fresh topic and read it back, as
// the checker does. Add your own cases: this file is yours.
// `delab check kafka/01` still decides the grade.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	produceconsume "github.com/delab-dev/delab/labs/kafka/01-first-produce-consume"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read kafka/00"
}

func sample(t *testing.T) []produceconsume.Reading {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "readings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []produceconsume.Reading
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func sortReadings(rs []produceconsume.Reading) []produceconsume.Reading {
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Device != rs[j].Device {
			return rs[i].Device < rs[j].Device
		}
		return rs[i].Seq < rs[j].Seq
	})
	return rs
}

func TestProduce(t *testing.T) {
	bs := brokers(t)
	rs := sample(t)
	topic := newTopic(t, bs, "produce", 3)
	if err := produceconsume.Produce(bs, topic, rs); err != nil {
		t.Fatalf("Produce: %v%s", err, reread("Producing from Go"))
	}
	msgs := collect(t, bs, topic, len(rs), sarama.ReadUncommitted)
	if len(msgs) != len(rs) {
		t.Errorf("the topic holds %d records, want %d: one per reading%s", len(msgs), len(rs), reread("Producing from Go"))
	}
	partition := map[string]int32{}
	var got []produceconsume.Reading
	for _, m := range msgs {
		var r produceconsume.Reading
		if err := json.Unmarshal(m.Value, &r); err != nil {
			t.Errorf("record at partition %d offset %d is not the JSON of a reading: %q%s", m.Partition, m.Offset, m.Value, reread("Producing from Go"))
			continue
		}
		got = append(got, r)
		if string(m.Key) != r.Device {
			t.Errorf("the record of %+v has key %q, want the device id%s", r, m.Key, reread("Keys decide partitions"))
		}
		if p, seen := partition[r.Device]; seen && p != m.Partition {
			t.Errorf("%s's readings are in partitions %d and %d: a key keeps one partition%s", r.Device, p, m.Partition, reread("Keys decide partitions"))
		}
		partition[r.Device] = m.Partition
	}
	if want := sortReadings(append([]produceconsume.Reading(nil), rs...)); !reflect.DeepEqual(sortReadings(got), want) {
		t.Errorf("the topic holds %+v\n    want %+v%s", got, want, reread("Producing from Go"))
	}
}

func TestConsume(t *testing.T) {
	bs := brokers(t)
	rs := sample(t)
	topic := newTopic(t, bs, "consume", 3)
	// This test writes the topic with its own producer, spread over all
	// three partitions, so that it checks Consume alone.
	producer, err := sarama.NewSyncProducer(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer producer.Close()
	for i, r := range rs {
		v, _ := json.Marshal(r)
		msg := &sarama.ProducerMessage{Topic: topic, Partition: int32(i % 3), Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}
		if _, _, err := producer.SendMessage(msg); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	got, err := produceconsume.Consume(bs, topic)
	if err != nil {
		t.Fatalf("Consume: %v%s", err, reread("Consuming from Go"))
	}
	want := sortReadings(append([]produceconsume.Reading(nil), rs...))
	if !reflect.DeepEqual(sortReadings(got), want) {
		t.Errorf("Consume returned %d readings, want %d: every partition, from the oldest offset to the high-water mark\n    got  %+v\n    want %+v%s",
			len(got), len(want), got, want, reread("Consuming from Go"))
	}
}

// The helpers below talk to the broker directly, as the checker does.

// brokers returns the broker that `delab up kafka` keeps running, named by
// DELAB_KAFKA_BROKERS, and skips the test when there is none.
func brokers(t *testing.T) []string {
	t.Helper()
	how := "run `delab up kafka` first, then the tests with the broker address it prints:\n" +
		"    DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/01-first-produce-consume/"
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
