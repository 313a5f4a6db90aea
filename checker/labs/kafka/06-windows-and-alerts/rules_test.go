package windowsalerts

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/kafka/06-windows-and-alerts/solution"
)

// The scripted bursts and late events of the input do what the lab's
// checks rely on, whatever the seed of the background events.
func TestInputExercisesTheRules(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		events := Events(seed)
		ws, as := Expected(events)
		at := func(s int64) int64 { return t0 + s*1000 }
		assert.Equal(t, []reference.Alert{
			{Device: "dev-03", At: at(100)}, {Device: "dev-04", At: at(140)}, {Device: "dev-07", At: at(220)},
			{Device: "dev-06", At: at(310)}, {Device: "dev-09", At: at(415)}, {Device: "dev-11", At: at(530)},
		}, as, "seed %d", seed)
		late := lateWindows(events)
		assert.GreaterOrEqual(t, len(late), 6, "seed %d: the 90-120s late readings", seed)
		// The reading that arrives when the watermark is exactly at its
		// window's end is late; the one a millisecond before is not.
		assert.True(t, late[lateWindow{"site-b", at(180)}], "seed %d: site-b's 3:00 window has the late edge", seed)
		assert.False(t, late[lateWindow{"site-b", at(480)}], "seed %d: site-b's 8:00 window has no late reading", seed)
		assert.False(t, late[lateWindow{"site-c", at(480)}] || late[lateWindow{"site-c", at(540)}], "seed %d: site-c's 8:00 and 9:00 windows have no late reading", seed)
		counted := map[lateWindow]int{}
		total := 0
		for _, w := range ws {
			counted[lateWindow{w.Site, w.Start}] = w.Count
			total += w.Count
		}
		// 1500 readings, 17+9 disconnects and 6 edge readings, less the 7
		// late readings (six 90-120s late, one at the watermark).
		assert.Equal(t, 1500+26+6-7, total, "seed %d", seed)
		// The same counts by a rule that is off by one at any edge differ:
		// a window end that is inclusive, or a watermark that closes a
		// window only once it is past its end.
		offByOne := func(inclusiveEnd, closePast bool) map[lateWindow]int {
			out := map[lateWindow]int{}
			var maxAt int64
			started := false
			for _, ev := range events {
				if ev.Kind == "heartbeat" {
					continue
				}
				w := ev.At - ev.At%reference.Window
				if inclusiveEnd && ev.At%reference.Window == 0 {
					w -= reference.Window
				}
				wm := maxAt - reference.Lateness
				isLate := started && w+reference.Window <= wm
				if closePast {
					isLate = started && w+reference.Window < wm
				}
				if !isLate {
					out[lateWindow{ev.Site, w}]++
				}
				if !started || ev.At > maxAt {
					maxAt, started = ev.At, true
				}
			}
			return out
		}
		assert.Equal(t, counted, offByOne(false, false), "seed %d: the grader's own rule agrees with the reference", seed)
		assert.NotEqual(t, counted, offByOne(true, false), "seed %d: an inclusive window end would pass", seed)
		assert.NotEqual(t, counted, offByOne(false, true), "seed %d: closing past the end would pass", seed)
		last := events[len(events)-1]
		require.Equal(t, "heartbeat", last.Kind)
	}
}
