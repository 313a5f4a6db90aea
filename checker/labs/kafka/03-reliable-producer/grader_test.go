package reliableproducer

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/kafka/03-reliable-producer/solution"
)

// Boundary table of kafka/03: rule → what exercises it in every run →
// the check that judges it.
//
//   - no loss through an outage → the broker is killed (SIGKILL) once
//     crashAfter events are on the topic and stays down for outage →
//     delivered (every event on the topic);
//   - no duplicate when an acknowledgement is lost → the fault proxy
//     discards the broker's answer to lostAcks produce requests the broker
//     has written (the first after the start, the first after the
//     restart; produceThroughCrash fails the run as the checker's error
//     if it lost another number) → exactly-once (each event once);
//   - no resending by hand → the same crash and lost answers → exactly-once;
//   - keyed by device, each device in one partition → 50 devices, every
//     one with events before and after the crash point → exactly-once;
//   - each device's events in order → each device's Seq runs 1, 2, … in
//     stream order, with at least two events on each side of the crash
//     point → exactly-once;
//   - fast enough → 100,000 events timed against the reference before and
//     after → throughput.
//
// The events must also all differ, or a duplicate on the topic could be
// two events the grader gave. TestEventsReachTheEdges checks the input
// side of this table over 50 seeds, reading the events back from the
// JSON the learner's Produce is given.

func TestEventsReachTheEdges(t *testing.T) {
	// The throughput runs' events are a prefix of the crash runs'
	// (the same generator, fewer draws), so the crash runs' stand for both.
	require.Equal(t, Events(7, speedEvents), Events(7, crashEvents)[:speedEvents])
	for seed := uint64(0); seed < 50; seed++ {
		for _, n := range []int{crashEvents} {
			t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
				data, err := json.Marshal(Events(seed, n))
				require.NoError(t, err)
				var events []reference.Event
				require.NoError(t, json.Unmarshal(data, &events))
				require.Len(t, events, n)
				seen := map[reference.Event]bool{}
				seq := map[string]int{}
				before, after := map[string]int{}, map[string]int{}
				for i, e := range events {
					require.False(t, seen[e], "event %d is a copy of an earlier one", i)
					seen[e] = true
					require.Equal(t, seq[e.Device]+1, e.Seq, "event %d: %s's Seq does not rise by one", i, e.Device)
					seq[e.Device] = e.Seq
					if i < crashAfter {
						before[e.Device]++
					} else {
						after[e.Device]++
					}
				}
				require.Len(t, seq, 50, "every device has events")
				for d := range seq {
					require.GreaterOrEqual(t, before[d], 2, "%s: events before the crash point", d)
					require.GreaterOrEqual(t, after[d], 2, "%s: events after the crash point", d)
				}
			})
		}
	}
}
