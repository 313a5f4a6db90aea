// Package windowsalerts counts events in event-time windows and raises
// alerts on patterns, over a stream that arrives out of order.
//
// Read the lesson first: delab read kafka/05
// Check your work:       delab check kafka/06
package windowsalerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
	windowMs = 60_000
	lagMs    = 15_000
	burstMs  = 60_000
	burstN   = 3
)

// state is the whole job, fed one event at a time in arrival order.
type state struct {
	watermark int64                    // largest At seen minus lagMs
	open      map[int64]map[string]int // window start -> site -> count
	pending   []Event                  // disconnects the watermark has not passed yet
	recent    map[string][]int64       // device -> disconnect times still in play
}

func newState() *state {
	return &state{
		watermark: math.MinInt64,
		open:      map[int64]map[string]int{},
		recent:    map[string][]int64{},
	}
}

func windowStart(at int64) int64 {
	s := at - at%windowMs
	if at%windowMs < 0 {
		s -= windowMs
	}
	return s
}

// feed handles one event and returns what became final because of it.
func (s *state) feed(e Event) ([]WindowCount, []Alert) {
	counted := e.Kind == "reading" || e.Kind == "disconnect"
	if counted {
		start := windowStart(e.At)
		if start+windowMs <= s.watermark {
			return nil, nil // late: its window has closed, drop it
		}
		if s.open[start] == nil {
			s.open[start] = map[string]int{}
		}
		s.open[start][e.Site]++
		if e.Kind == "disconnect" {
			s.pending = append(s.pending, e)
		}
	}
	if e.At-lagMs > s.watermark {
		s.watermark = e.At - lagMs
	}
	return s.closeWindows(), s.judge()
}

func (s *state) closeWindows() []WindowCount {
	var starts []int64
	for start := range s.open {
		if start+windowMs <= s.watermark {
			starts = append(starts, start)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	var out []WindowCount
	for _, start := range starts {
		sites := make([]string, 0, len(s.open[start]))
		for site := range s.open[start] {
			sites = append(sites, site)
		}
		sort.Strings(sites)
		for _, site := range sites {
			out = append(out, WindowCount{Site: site, Start: start, Count: s.open[start][site]})
		}
		delete(s.open, start)
	}
	return out
}

// judge runs the burst rule over the disconnects the watermark has passed,
// in event-time order.
func (s *state) judge() []Alert {
	var ready, keep []Event
	for _, d := range s.pending {
		if d.At <= s.watermark {
			ready = append(ready, d)
		} else {
			keep = append(keep, d)
		}
	}
	s.pending = keep
	sort.SliceStable(ready, func(i, j int) bool { return ready[i].At < ready[j].At })
	var out []Alert
	for _, d := range ready {
		times := s.recent[d.Device]
		i := 0
		for i < len(times) && d.At-times[i] > burstMs {
			i++
		}
		times = append(times[i:], d.At)
		if len(times) >= burstN {
			out = append(out, Alert{Device: d.Device, At: d.At})
			times = nil
		}
		s.recent[d.Device] = times
	}
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

	consumer, err := sarama.NewConsumer(brokers, cfg)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(in, 0, sarama.OffsetOldest)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	defer pc.Close()

	producer, err := sarama.NewSyncProducer(brokers, cfg)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	defer producer.Close()

	send := func(topic, key string, v any) error {
		body, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, _, err = producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(body)})
		return err
	}

	st := newState()
	for {
		select {
		case <-ctx.Done():
			return nil
		case cerr, ok := <-pc.Errors():
			if ok {
				return cerr
			}
		case msg, ok := <-pc.Messages():
			if !ok {
				return errors.New("partition consumer closed")
			}
			var e Event
			if err := json.Unmarshal(msg.Value, &e); err != nil {
				continue // not an event: skip it
			}
			wins, alrts := st.feed(e)
			for _, w := range wins {
				if err := send(windows, w.Site, w); err != nil {
					return err
				}
			}
			for _, a := range alrts {
				if err := send(alerts, a.Device, a); err != nil {
					return err
				}
			}
		}
	}
}
