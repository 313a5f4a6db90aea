// Package windowsalerts grades the lab "Windows, watermarks and alerts":
// it produces device events out of order, some of them late, with its own
// producer, runs the learner's stream job in the background, and reads the
// window counts and alerts it wrote with its own consumer. It compares
// them with the results of the lesson's rules applied to the same events
// in the same arrival order.
package windowsalerts

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/IBM/sarama"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/kafka/06-windows-and-alerts/solution"
	"github.com/delab-dev/delab/checker/labs/kafka/kafkacheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/kafka/06-windows-and-alerts.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"windows": windows,
		"late":    late,
		"alerts":  alerts,
	},
}

const (
	t0 = int64(1_793_577_600_000) // a minute boundary
	// complete bounds the wait for the job's output.
	complete = 45 * time.Second
	quiet    = 3 * time.Second
)

type arrival struct {
	ev     reference.Event
	arrive int64
}

// Events returns the input in arrival order: background readings over
// ten minutes that arrive up to 12s out of order, six that arrive
// 90-120s late, scripted disconnect bursts, and a closing heartbeat.
func Events(seed uint64) []reference.Event {
	r := rand.New(rand.NewPCG(seed, 97))
	var in []arrival
	site := func(d int) string { return fmt.Sprintf("site-%c", 'a'+d%4) }
	for i := range 1500 {
		d := r.IntN(12) + 1
		at := t0 + int64(i)*400 + int64(r.IntN(400))
		delay := int64(r.IntN(12_000))
		if i%225 == 40 && i < 1350 { // six, spread over the first nine minutes
			delay = 90_000 + int64(r.IntN(30_000))
		}
		in = append(in, arrival{ev: reference.Event{Device: fmt.Sprintf("dev-%02d", d), Site: site(d), Kind: "reading", At: at}, arrive: at + delay})
	}
	burst := func(d int, secs, delays []int64) {
		for i, s := range secs {
			at := t0 + s*1000
			in = append(in, arrival{ev: reference.Event{Device: fmt.Sprintf("dev-%02d", d), Site: site(d), Kind: "disconnect", At: at}, arrive: at + delays[i]*1000})
		}
	}
	burst(3, []int64{65, 80, 100}, []int64{1, 2, 1})           // three in 35s: an alert
	burst(7, []int64{200, 210, 220, 230}, []int64{0, 3, 1, 2}) // four: one alert, then counting starts again
	burst(5, []int64{300, 330, 370}, []int64{2, 0, 1})         // three over 70s: none
	burst(9, []int64{400, 410, 415}, []int64{16, 7, 0})        // arrive 415, 400, 410: alert at 415
	burst(11, []int64{480, 500, 530, 545}, []int64{3, 1, 2, 0})
	// The edges of the rules, in every run (TestInputExercisesTheRules):
	burst(4, []int64{110, 125, 140}, []int64{1, 1, 1}) // 30s across the 2:00 mark: an alert (a clock-minute bucket has none)
	burst(6, []int64{250, 280, 310}, []int64{1, 2, 1}) // exactly 60s: an alert (the span is inclusive)
	edge := func(d int, kind string, at, arrive int64) {
		in = append(in, arrival{ev: reference.Event{Device: fmt.Sprintf("dev-%02d", d), Site: site(d), Kind: kind, At: t0 + at}, arrive: t0 + arrive})
	}
	edge(8, "disconnect", 320_000, 321_000) // 60.001s from the first: no alert
	edge(8, "disconnect", 350_000, 351_000)
	edge(8, "disconnect", 380_001, 381_000)
	// Windows: a reading exactly at a window's start belongs to that
	// window; one a millisecond earlier to the one before.
	// (Minutes 8 and 9 have none of the late readings above.)
	edge(2, "reading", 540_000, 541_000)
	edge(2, "reading", 539_999, 541_000)
	// Watermark: a reading at 4:15 moves it to exactly 4:00, the end of
	// the 3:00 window, and the next arrival belongs to that window: late
	// (its window's end is at the watermark), dropped. Arrivals that tie
	// keep this order, and no earlier arrival has a later At.
	edge(1, "reading", 255_000, 255_000)
	edge(1, "reading", 239_999, 255_000)
	// ... and one millisecond short of a window's end, the window is
	// still open: a reading of it is on time.
	edge(1, "reading", 554_999, 554_999)
	edge(1, "reading", 539_999, 554_999)
	sort.SliceStable(in, func(i, j int) bool { return in[i].arrive < in[j].arrive })
	out := make([]reference.Event, 0, len(in)+1)
	last := int64(0)
	for _, a := range in {
		out = append(out, a.ev)
		last = max(last, a.ev.At)
	}
	return append(out, reference.Event{Kind: "heartbeat", At: last + 10*60_000})
}

// Expected applies the lesson's rules (the reference's engine) to events
// in arrival order.
func Expected(events []reference.Event) ([]reference.WindowCount, []reference.Alert) {
	e := reference.NewEngine()
	var ws []reference.WindowCount
	var as []reference.Alert
	for _, ev := range events {
		w, a := e.Add(ev)
		ws, as = append(ws, w...), append(as, a...)
	}
	return ws, as
}

// lateWindow is a site's window that a dropped late event belongs to.
type lateWindow struct {
	site  string
	start int64
}

// lateWindows lists the windows that late events belong to.
func lateWindows(events []reference.Event) map[lateWindow]bool {
	e := reference.NewEngine()
	out := map[lateWindow]bool{}
	for _, ev := range events {
		if e.Late(ev) {
			out[lateWindow{ev.Site, windowStart(ev.At)}] = true
		}
		e.Add(ev)
	}
	return out
}

type outputs struct {
	windows []reference.WindowCount
	alerts  []reference.Alert
}

// run produces the events, runs the learner's job until its output is
// complete and quiet, and reads it back.
func run(ctx context.Context, h *grader.Harness) ([]reference.Event, *outputs, error) {
	brokers := h.Endpoints.KafkaBrokers
	in, wt, at := h.Unique("events"), h.Unique("windows"), h.Unique("alerts")
	for _, t := range []string{in, wt, at} {
		if err := kafkacheck.CreateTopic(h, t, 1); err != nil {
			return nil, nil, err
		}
	}
	events := Events(h.Seed())
	p, err := sarama.NewSyncProducer(brokers, kafkacheck.Config())
	if err != nil {
		return nil, nil, fmt.Errorf("grader's producer: %w", err)
	}
	msgs := make([]*sarama.ProducerMessage, len(events))
	for i, ev := range events {
		v, _ := json.Marshal(ev)
		msgs[i] = &sarama.ProducerMessage{Topic: in, Key: sarama.StringEncoder(ev.Device), Value: sarama.ByteEncoder(v)}
	}
	err = p.SendMessages(msgs)
	p.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("grader's producer: %w", err)
	}
	wantW, _ := Expected(events)
	h.Logf("produced %d events to %s in arrival order: up to 12s out of order, 6 of them 90-120s late, disconnect bursts, and a closing heartbeat", len(events), in)
	proc := h.Start(ctx, grader.RunOptions{Args: []string{"run", in, wt, at}, Timeout: 3 * time.Minute})
	defer proc.Stop()
	h.Logf("started Run(ctx, brokers, %q, %q, %q)", in, wt, at)
	deadline := time.Now().Add(complete)
	last, since := -1, time.Now()
	for {
		out, err := read(brokers, wt, at)
		if err != nil {
			return nil, nil, err
		}
		if n := len(out.windows) + len(out.alerts); n != last {
			last, since = n, time.Now()
		}
		// Complete: at least as many counts as the rules give, and nothing
		// new for a while (a job that writes too many is judged on them).
		// At the deadline, what there is is judged.
		done := len(out.windows) >= len(wantW) && time.Since(since) >= quiet
		if done || time.Now().After(deadline) && len(out.windows) > 0 {
			proc.Stop()
			h.Logf("the output is quiet: %d window counts and %d alerts", len(out.windows), len(out.alerts))
			return events, out, nil
		}
		if !proc.Running() {
			if _, err := proc.Wait(); err != nil {
				return nil, nil, err
			}
			return nil, nil, grader.Failf("Run returned nil before its ctx was cancelled: it must keep reading until then")
		}
		if time.Now().After(deadline) {
			return nil, nil, grader.Mismatch(fmt.Sprintf("after %s your job had written no window counts (or was still writing)", complete), fmt.Sprintf("%d window counts", len(wantW)), fmt.Sprintf("%d window counts", len(out.windows)))
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func read(brokers []string, windowsTopic, alertsTopic string) (*outputs, error) {
	out := &outputs{}
	recs, _, err := kafkacheck.ReadTopic(brokers, windowsTopic)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		var w reference.WindowCount
		if err := grader.UnmarshalArtifact("record on the window counts topic", r.Value, &w); err != nil {
			return nil, grader.Failf("window counts offset %d: not the JSON of a WindowCount: %v", r.Offset, err)
		}
		out.windows = append(out.windows, w)
	}
	recs, _, err = kafkacheck.ReadTopic(brokers, alertsTopic)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		var a reference.Alert
		if err := grader.UnmarshalArtifact("record on the alerts topic", r.Value, &a); err != nil {
			return nil, grader.Failf("alerts offset %d: not the JSON of an Alert: %v", r.Offset, err)
		}
		out.alerts = append(out.alerts, a)
	}
	return out, nil
}

func clock(ms int64) string { return time.UnixMilli(ms).UTC().Format("15:04:05") }

func showW(w reference.WindowCount) string {
	return fmt.Sprintf("%s [%s, %s): %d", w.Site, clock(w.Start), clock(w.Start+reference.Window), w.Count)
}

// compareWindows checks the window counts of the windows that only (or
// never, with late) had on-time events.
func compareWindows(h *grader.Harness, events []reference.Event, out *outputs, withLate bool) error {
	want, _ := Expected(events)
	lw := lateWindows(events)
	type key struct {
		site  string
		start int64
	}
	got := map[key][]int{}
	for _, w := range out.windows {
		got[key{w.Site, w.Start}] = append(got[key{w.Site, w.Start}], w.Count)
	}
	n := 0
	for _, w := range want {
		if lw[lateWindow{w.Site, w.Start}] != withLate {
			continue
		}
		n++
		g := got[key{w.Site, w.Start}]
		switch {
		case len(g) == 0:
			return grader.Mismatch("no count for window "+showW(w), showW(w), "nothing")
		case len(g) > 1:
			return grader.Mismatch(fmt.Sprintf("window %s was written %d times; a closed window is final, and a late event is dropped", showW(w), len(g)), fmt.Sprint(w.Count), fmt.Sprint(g))
		case g[0] > w.Count && withLate:
			return grader.Mismatch("wrong count for window "+showW(w)+": its late events are counted, but a late event is dropped; "+lateExample(events, w), w.Count, g[0])
		case g[0] != w.Count:
			return grader.Mismatch("wrong count for window "+showW(w), w.Count, g[0])
		}
	}
	if withLate {
		h.Logf("the %d counts of the windows that late events belong to are final and leave those events out", n)
	} else {
		h.Logf("the %d counts of the windows no late event belongs to are right", n)
		for k := range got {
			found := false
			for _, w := range want {
				if w.Site == k.site && w.Start == k.start {
					found = true
				}
			}
			if !found {
				return grader.Failf("a count for window %s [%s) that has no events", k.site, clock(k.start))
			}
		}
	}
	return nil
}

func windows(ctx context.Context, h *grader.Harness) error {
	events, out, err := run(ctx, h)
	if err != nil {
		return err
	}
	return compareWindows(h, events, out, false)
}

func late(ctx context.Context, h *grader.Harness) error {
	events, out, err := run(ctx, h)
	if err != nil {
		return err
	}
	return compareWindows(h, events, out, true)
}

func alerts(ctx context.Context, h *grader.Harness) error {
	events, out, err := run(ctx, h)
	if err != nil {
		return err
	}
	_, want := Expected(events)
	show := func(as []reference.Alert) string {
		s := ""
		for i, a := range as {
			if i > 0 {
				s += ", "
			}
			s += fmt.Sprintf("%s at %s", a.Device, clock(a.At))
		}
		if s == "" {
			return "none"
		}
		return s
	}
	sorted := func(as []reference.Alert) []reference.Alert {
		c := append([]reference.Alert(nil), as...)
		sort.Slice(c, func(i, j int) bool {
			if c[i].Device != c[j].Device {
				return c[i].Device < c[j].Device
			}
			return c[i].At < c[j].At
		})
		return c
	}
	if g, w := show(sorted(out.alerts)), show(sorted(want)); g != w {
		return grader.Mismatch(alertDiff(events, sorted(want), sorted(out.alerts)), w, g)
	}
	h.Logf("the %d alerts are exactly the bursts of three disconnects within a minute", len(want))
	return nil
}

// alertDiff names the first device whose alerts differ and lists its
// disconnects in event time: the smallest input that shows the rule.
func alertDiff(events []reference.Event, want, got []reference.Alert) string {
	of := func(as []reference.Alert, d string) (out []int64) {
		for _, a := range as {
			if a.Device == d {
				out = append(out, a.At)
			}
		}
		return out
	}
	devices := map[string]bool{}
	for _, a := range append(append([]reference.Alert(nil), want...), got...) {
		devices[a.Device] = true
	}
	names := make([]string, 0, len(devices))
	for d := range devices {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, d := range names {
		w, g := of(want, d), of(got, d)
		if fmt.Sprint(w) == fmt.Sprint(g) {
			continue
		}
		var ats []int64
		for _, ev := range events {
			if ev.Device == d && ev.Kind == "disconnect" {
				ats = append(ats, ev.At)
			}
		}
		sort.Slice(ats, func(i, j int) bool { return ats[i] < ats[j] })
		s := stamps(ats)
		return fmt.Sprintf("the alerts differ from three disconnects of one device within a minute, by event time: %s's disconnects are at %s (event time), for which the rule raises alerts at [%s] and your job raised them at [%s]", d, s, stamps(w), stamps(g))
	}
	return "the alerts differ from three disconnects of one device within a minute, by event time"
}

// stamps shows event times to the millisecond, where the rules' edges are.
func stamps(ats []int64) string {
	s := ""
	for i, at := range ats {
		if i > 0 {
			s += ", "
		}
		s += time.UnixMilli(at).UTC().Format("15:04:05.000")
	}
	return s
}

// lateExample names the late event of window w that arrived closest to
// the watermark's edge, with the watermark at its arrival (the largest
// At before it, less the lateness), in the lesson's terms. Lateness is the
// reference engine's, as in lateWindows; maxAt only shows the watermark.
func lateExample(events []reference.Event, w reference.WindowCount) string {
	e := reference.NewEngine()
	var maxAt int64
	best, bestGap := "", int64(-1)
	for _, ev := range events {
		if e.Late(ev) && ev.Site == w.Site && windowStart(ev.At) == w.Start {
			wm := maxAt - reference.Lateness
			if gap := wm - (w.Start + reference.Window); bestGap < 0 || gap < bestGap {
				bestGap = gap
				best = fmt.Sprintf("the %s at %s arrived when the watermark was %s, at or past the window's end", ev.Kind, stamps([]int64{ev.At}), stamps([]int64{wm}))
			}
		}
		e.Add(ev)
		maxAt = max(maxAt, ev.At)
	}
	return best
}

// windowStart is the start of the one-minute window of event time at.
func windowStart(at int64) int64 {
	return at - ((at%reference.Window)+reference.Window)%reference.Window
}
