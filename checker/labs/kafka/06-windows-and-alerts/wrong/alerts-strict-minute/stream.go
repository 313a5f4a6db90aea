// Package windowsalerts is a wrong solution of kafka/06-windows-and-alerts:
// it keeps a device's earlier disconnects only if they are less than 60 s
// before (< where the lesson says "more than 60 s before" is forgotten),
// so three disconnects exactly 60 s apart raise no alert.
package windowsalerts

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/IBM/sarama"
)

// Event is one record of the input topic (one partition).
type Event struct {
	Device string `json:"device"`
	Site   string `json:"site"`
	Kind   string `json:"kind"` // "reading", "disconnect" or "heartbeat"
	At     int64  `json:"at"`   // event time, ms since the epoch
}

// WindowCount is one closed window's count for one site.
type WindowCount struct {
	Site  string `json:"site"`
	Start int64  `json:"start"` // window start, ms
	Count int    `json:"count"`
}

// Alert says a device disconnected three times within a minute.
type Alert struct {
	Device string `json:"device"`
	At     int64  `json:"at"` // event time of the third disconnect
}

const (
	// Window is the length of a tumbling window.
	Window = int64(60_000)
	// Lateness is how far the watermark trails the largest event time.
	Lateness = int64(15_000)
	// Burst is the span three disconnects must fall within.
	Burst = int64(60_000)
)

// Engine is the stream logic, apart from Kafka: feed it events in
// arrival order, and it returns what closes.
type Engine struct {
	watermark int64
	maxAt     int64
	started   bool
	open      map[int64]map[string]int // window start → site → count
	pending   []Event                  // disconnects waiting for the watermark
	recent    map[string][]int64       // device → disconnect times in the last Burst
}

// NewEngine returns an engine with nothing seen.
func NewEngine() *Engine {
	return &Engine{open: map[int64]map[string]int{}, recent: map[string][]int64{}}
}

func windowOf(at int64) int64 { return at - ((at%Window)+Window)%Window }

// Late reports whether ev's window has closed already, so that ev would
// be dropped.
func (e *Engine) Late(ev Event) bool {
	return e.started && windowOf(ev.At)+Window <= e.watermark
}

// Add takes one event and returns the windows and alerts it closes.
func (e *Engine) Add(ev Event) ([]WindowCount, []Alert) {
	if e.Late(ev) {
		return nil, nil // its window has closed: dropped
	}
	if ev.Kind != "heartbeat" {
		w := windowOf(ev.At)
		if e.open[w] == nil {
			e.open[w] = map[string]int{}
		}
		e.open[w][ev.Site]++
		if ev.Kind == "disconnect" {
			e.pending = append(e.pending, ev)
		}
	}
	if !e.started || ev.At > e.maxAt {
		e.maxAt, e.started = ev.At, true
	}
	e.watermark = e.maxAt - Lateness
	return e.closeWindows(), e.releaseDisconnects()
}

// closeWindows emits every window whose end the watermark has reached,
// oldest first, sites in name order.
func (e *Engine) closeWindows() []WindowCount {
	var starts []int64
	for w := range e.open {
		if w+Window <= e.watermark {
			starts = append(starts, w)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	var out []WindowCount
	for _, w := range starts {
		sites := make([]string, 0, len(e.open[w]))
		for s := range e.open[w] {
			sites = append(sites, s)
		}
		sort.Strings(sites)
		for _, s := range sites {
			out = append(out, WindowCount{Site: s, Start: w, Count: e.open[w][s]})
		}
		delete(e.open, w)
	}
	return out
}

// releaseDisconnects runs the alert rule over the disconnects the
// watermark has passed, in event-time order: a device's third disconnect
// within Burst raises an alert and starts its count again.
func (e *Engine) releaseDisconnects() []Alert {
	sort.SliceStable(e.pending, func(i, j int) bool { return e.pending[i].At < e.pending[j].At })
	n := 0
	for n < len(e.pending) && e.pending[n].At <= e.watermark {
		n++
	}
	var out []Alert
	for _, ev := range e.pending[:n] {
		times := e.recent[ev.Device]
		kept := times[:0]
		for _, t := range times {
			if ev.At-t < Burst {
				kept = append(kept, t)
			}
		}
		kept = append(kept, ev.At)
		if len(kept) >= 3 {
			out = append(out, Alert{Device: ev.Device, At: ev.At})
			kept = kept[:0]
		}
		e.recent[ev.Device] = kept
	}
	e.pending = append(e.pending[:0], e.pending[n:]...)
	return out
}

// Run reads partition 0 of topic in from the start, and writes each closed
// window's counts to windows (keyed by site) and each alert to alerts
// (keyed by device), until ctx is cancelled.
func Run(ctx context.Context, brokers []string, in, windows, alerts string) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	client, err := sarama.NewClient(brokers, cfg)
	if err != nil {
		return err
	}
	defer client.Close()
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		return err
	}
	defer consumer.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		return err
	}
	defer producer.Close()
	pc, err := consumer.ConsumePartition(in, 0, sarama.OffsetOldest)
	if err != nil {
		return err
	}
	defer pc.Close()
	engine := NewEngine()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-pc.Messages():
			var ev Event
			if err := json.Unmarshal(msg.Value, &ev); err != nil {
				return fmt.Errorf("offset %d: %w", msg.Offset, err)
			}
			closed, raised := engine.Add(ev)
			var out []*sarama.ProducerMessage
			for _, w := range closed {
				v, _ := json.Marshal(w)
				out = append(out, &sarama.ProducerMessage{Topic: windows, Key: sarama.StringEncoder(w.Site), Value: sarama.ByteEncoder(v)})
			}
			for _, a := range raised {
				v, _ := json.Marshal(a)
				out = append(out, &sarama.ProducerMessage{Topic: alerts, Key: sarama.StringEncoder(a.Device), Value: sarama.ByteEncoder(v)})
			}
			if len(out) > 0 {
				if err := producer.SendMessages(out); err != nil {
					return err
				}
			}
		}
	}
}
