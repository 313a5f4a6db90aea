// Package windowsalerts counts events in event-time windows and raises
// alerts on patterns, over a stream that arrives out of order.
//
// Read the lesson first: delab read kafka/05
// Check your work:       delab check kafka/06
package windowsalerts

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

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
	windowSize = time.Minute
	allowed    = 15 * time.Second
	burstSpan  = time.Minute
)

// disconnectHeap orders buffered disconnects by event time.
type disconnectHeap []Event

func (h disconnectHeap) Len() int           { return len(h) }
func (h disconnectHeap) Less(i, j int) bool { return h[i].At < h[j].At }
func (h disconnectHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *disconnectHeap) Push(x any)        { *h = append(*h, x.(Event)) }
func (h *disconnectHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type cell struct {
	start time.Time
	site  string
}

type operator struct {
	started   bool
	watermark time.Time
	counts    map[cell]int
	buffered  disconnectHeap
	history   map[string][]time.Time

	emitWindow func(WindowCount)
	emitAlert  func(Alert)
}

func (o *operator) process(e Event) {
	at := time.UnixMilli(e.At)
	if e.Kind == "reading" || e.Kind == "disconnect" {
		start := at.Truncate(windowSize)
		end := start.Add(windowSize)
		if o.started && !end.After(o.watermark) {
			return // late
		}
		o.counts[cell{start, e.Site}]++
		if e.Kind == "disconnect" {
			heap.Push(&o.buffered, e)
		}
	}
	if wm := at.Add(-allowed); !o.started || wm.After(o.watermark) {
		o.watermark, o.started = wm, true
	}
	o.flushWindows()
	o.flushDisconnects()
}

func (o *operator) flushWindows() {
	var done []cell
	for c := range o.counts {
		if !c.start.Add(windowSize).After(o.watermark) {
			done = append(done, c)
		}
	}
	slices.SortFunc(done, func(a, b cell) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return cmp.Compare(a.site, b.site)
	})
	for _, c := range done {
		o.emitWindow(WindowCount{Site: c.site, Start: c.start.UnixMilli(), Count: o.counts[c]})
		delete(o.counts, c)
	}
}

func (o *operator) flushDisconnects() {
	for o.buffered.Len() > 0 && !time.UnixMilli(o.buffered[0].At).After(o.watermark) {
		d := heap.Pop(&o.buffered).(Event)
		at := time.UnixMilli(d.At)
		kept := slices.DeleteFunc(o.history[d.Device], func(prev time.Time) bool {
			return at.Sub(prev) > burstSpan
		})
		kept = append(kept, at)
		if len(kept) == 3 {
			o.emitAlert(Alert{Device: d.Device, At: d.At})
			kept = kept[:0]
		}
		o.history[d.Device] = kept
	}
}

// Run reads partition 0 of topic in from the start, and writes each closed
// window's counts to windows (keyed by site) and each alert to alerts
// (keyed by device), until ctx is cancelled.
func Run(ctx context.Context, brokers []string, in, windows, alerts string) error {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest

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
	pc, err := consumer.ConsumePartition(in, 0, sarama.OffsetOldest)
	if err != nil {
		return err
	}
	defer pc.AsyncClose()

	out, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		return err
	}
	var (
		mu      sync.Mutex
		prodErr error
		drained = make(chan struct{})
	)
	go func() {
		defer close(drained)
		for perr := range out.Errors() {
			mu.Lock()
			if prodErr == nil {
				prodErr = perr
			}
			mu.Unlock()
		}
	}()
	emit := func(topic, key string, v any) {
		b, _ := json.Marshal(v)
		out.Input() <- &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(b)}
	}

	op := &operator{
		counts:     map[cell]int{},
		history:    map[string][]time.Time{},
		emitWindow: func(w WindowCount) { emit(windows, w.Site, w) },
		emitAlert:  func(a Alert) { emit(alerts, a.Device, a) },
	}

	loop := func() error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case m, ok := <-pc.Messages():
				if !ok {
					return nil
				}
				var e Event
				if json.Unmarshal(m.Value, &e) != nil {
					continue
				}
				op.process(e)
				mu.Lock()
				perr := prodErr
				mu.Unlock()
				if perr != nil {
					return perr
				}
			}
		}
	}
	runErr := loop()
	out.AsyncClose()
	<-drained
	if runErr != nil {
		return runErr
	}
	return nil
}
