package windowsalerts_test

// Your own quick loop against a real broker, no checker needed:
//
//	delab up kafka        # once; it prints the broker's address
//	DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/06-windows-and-alerts/
//
// Without a reachable broker the tests skip and say so. They write the
// events in testdata/events.json (in arrival order: some out of order, one
// late, a closing heartbeat) to a fresh topic, run your Run, and read both
// output topics. The expected windows and alerts below were worked out by
// hand with the lesson's rules; the comments say how. Add your own cases:
// this file is yours. `delab check kafka/06` still decides the grade, on
// ten minutes of events it generates.

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

	windowsalerts "github.com/delab-dev/delab/labs/kafka/06-windows-and-alerts"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read kafka/05"
}

// t0 is the start of the first minute of testdata/events.json.
const t0 = 1793577600000

func TestWindowsAndAlerts(t *testing.T) {
	bs := brokers(t)
	data, err := os.ReadFile(filepath.Join("testdata", "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var events []windowsalerts.Event
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatal(err)
	}
	in := newTopic(t, bs, "events", 1)
	windows, alerts := newTopic(t, bs, "windows", 3), newTopic(t, bs, "alerts", 3)
	producer, err := sarama.NewSyncProducer(bs, config())
	if err != nil {
		t.Fatalf("connect to Kafka: %v", err)
	}
	defer producer.Close()
	for _, e := range events {
		v, _ := json.Marshal(e)
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: in, Key: sarama.StringEncoder(e.Device), Value: sarama.ByteEncoder(v)}); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	wantWindows := []windowsalerts.WindowCount{
		// [0s, 60s) closes when d3's reading at 75s moves the watermark to 60s.
		// north: the reading at 5s and the disconnects at 20s, 50s and 40s
		// (40s arrives out of order, but before its window closed).
		{Site: "north", Start: t0, Count: 4},
		{Site: "south", Start: t0, Count: 2}, // 10s and 58s
		// The heartbeat at 300s closes the rest; north's reading at 30s
		// arrived after [0s, 60s) closed: late, dropped, never counted.
		{Site: "north", Start: t0 + 60_000, Count: 3},  // 62s, 100s, 110s
		{Site: "south", Start: t0 + 60_000, Count: 2},  // 75s, 119s
		{Site: "north", Start: t0 + 120_000, Count: 2}, // 130s, 125s
	}
	wantAlerts := []windowsalerts.Alert{
		// In event-time order d1 disconnects at 20s, 40s, 50s: the third is
		// at 50s (in arrival order it would wrongly be 40s).
		{Device: "d1", At: t0 + 50_000},
		// The alert started d1's count again: 100s, 110s, 125s.
		{Device: "d1", At: t0 + 125_000},
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- windowsalerts.Run(ctx, bs, in, windows, alerts) }()
	select {
	case err := <-done:
		t.Fatalf("Run returned before its context was cancelled: %v%s", err, reread("Your lab: windows and alerts"))
	case <-time.After(time.Second):
	}
	gotWindows := decode[windowsalerts.WindowCount](t, collect(t, bs, windows, len(wantWindows), sarama.ReadUncommitted), func(w windowsalerts.WindowCount) string { return w.Site })
	gotAlerts := decode[windowsalerts.Alert](t, collect(t, bs, alerts, len(wantAlerts), sarama.ReadUncommitted), func(a windowsalerts.Alert) string { return a.Device })
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Errorf("Run did not return within 30s of its context being cancelled")
	}

	sort.Slice(gotWindows, func(i, j int) bool {
		if gotWindows[i].Start != gotWindows[j].Start {
			return gotWindows[i].Start < gotWindows[j].Start
		}
		return gotWindows[i].Site < gotWindows[j].Site
	})
	if !reflect.DeepEqual(gotWindows, wantWindows) {
		t.Errorf("window counts:\n    got  %+v\n    want %+v%s%s", gotWindows, wantWindows, reread("Watermarks"), reread("Late events"))
	}
	sort.Slice(gotAlerts, func(i, j int) bool { return gotAlerts[i].At < gotAlerts[j].At })
	if !reflect.DeepEqual(gotAlerts, wantAlerts) {
		t.Errorf("alerts:\n    got  %+v\n    want %+v%s", gotAlerts, wantAlerts, reread("Patterns over events (CEP)"))
	}
}

// decode reads records as JSON values of T, checking each one's key.
func decode[T any](t *testing.T, msgs []*sarama.ConsumerMessage, key func(T) string) []T {
	t.Helper()
	out := []T{}
	for _, m := range msgs {
		var v T
		if err := json.Unmarshal(m.Value, &v); err != nil {
			t.Errorf("record at %s partition %d offset %d is not the JSON of a %T: %q", m.Topic, m.Partition, m.Offset, v, m.Value)
			continue
		}
		if string(m.Key) != key(v) {
			t.Errorf("record %+v on %s has key %q, want %q%s", v, m.Topic, m.Key, key(v), reread("Your lab: windows and alerts"))
		}
		out = append(out, v)
	}
	return out
}

// The helpers below talk to the broker directly, as the checker does.

// brokers returns the broker that `delab up kafka` keeps running, named by
// DELAB_KAFKA_BROKERS, and skips the test when there is none.
func brokers(t *testing.T) []string {
	t.Helper()
	how := "run `delab up kafka` first, then the tests with the broker address it prints:\n" +
		"    DELAB_KAFKA_BROKERS=127.0.0.1:<port> go test ./labs/kafka/06-windows-and-alerts/"
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
