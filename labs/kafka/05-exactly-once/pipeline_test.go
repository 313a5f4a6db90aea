package exactlyonce_test

// Your own quick loop against a real broker, no checker needed:
//
//	delab up kafka        # once; it prints the broker's address
//	DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/05-exactly-once/
//
// Without a reachable broker the tests skip and say so. They write the
// readings in testdata/readings.json to a fresh topic, run your Process,
// and read the output with a read_committed consumer, as the checker does.
// Aborted input and crashes are the checker's part: `delab check kafka/05`
// decides the grade. Add your own cases: this file is yours.

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
	"testing"
	"time"

	"github.com/IBM/sarama"

	exactlyonce "github.com/delab-dev/delab/labs/kafka/05-exactly-once"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read kafka/04"
}

// band is the business logic the checker hands Process too.
func band(r exactlyonce.Reading) exactlyonce.Usage {
	b := "low"
	switch {
	case r.Watts >= 2000:
		b = "high"
	case r.Watts >= 1000:
		b = "mid"
	}
	return exactlyonce.Usage{Device: r.Device, Seq: r.Seq, Watts: r.Watts, Band: b}
}

func TestProcess(t *testing.T) {
	bs := brokers(t)
	data, err := os.ReadFile(filepath.Join("testdata", "readings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []exactlyonce.Reading
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	in, out := newTopic(t, bs, "readings", 3), newTopic(t, bs, "usage", 3)
	producer, err := sarama.NewSyncProducer(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer producer.Close()
	for _, r := range rs {
		v, _ := json.Marshal(r)
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: in, Key: sarama.StringEncoder(r.Device), Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	group := fmt.Sprintf("local-usage-%d", time.Now().UnixNano())
	go func() { done <- exactlyonce.Process(ctx, bs, group, in, out, band) }()
	select {
	case err := <-done:
		t.Fatalf("Process returned before its context was cancelled: %v%s", err, reread("Your lab: a transactional pipeline"))
	case <-time.After(time.Second):
	}

	msgs := collect(t, bs, out, len(rs), sarama.ReadCommitted)
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Errorf("Process did not return within 30s of its context being cancelled")
	}
	var got, want []exactlyonce.Usage
	for _, m := range msgs {
		var u exactlyonce.Usage
		if err := json.Unmarshal(m.Value, &u); err != nil {
			t.Errorf("output record at partition %d offset %d is not the JSON of a Usage: %q", m.Partition, m.Offset, m.Value)
			continue
		}
		if string(m.Key) != u.Device {
			t.Errorf("the output record of %+v has key %q, want the meter%s", u, m.Key, reread("Your lab: a transactional pipeline"))
		}
		got = append(got, u)
	}
	for _, r := range rs {
		want = append(want, band(r))
	}
	order := func(us []exactlyonce.Usage) {
		sort.Slice(us, func(i, j int) bool {
			if us[i].Device != us[j].Device {
				return us[i].Device < us[j].Device
			}
			return us[i].Seq < us[j].Seq
		})
	}
	order(got)
	order(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("committed output (read_committed):\n    got  %+v\n    want %+v\n    exactly one result per reading, committed in a transaction%s", got, want, reread("Read-process-write in one transaction"))
	}
}

// The helpers below talk to the broker directly, as the checker does.

// brokers returns the broker that `delab up kafka` keeps running, named by
// DELAB_KAFKA_BROKERS, and skips the test when there is none.
func brokers(t *testing.T) []string {
	t.Helper()
	how := "run `delab up kafka` first, then the tests with the broker address it prints:\n" +
		"    DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/05-exactly-once/"
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
