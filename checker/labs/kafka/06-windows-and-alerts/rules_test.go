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
	for _, seed := range []uint64{1, 7, 20261123} {
		events := Events(seed)
		ws, as := Expected(events)
		at := func(s int64) int64 { return t0 + s*1000 }
		assert.Equal(t, []reference.Alert{{Device: "dev-03", At: at(100)}, {Device: "dev-07", At: at(220)}, {Device: "dev-09", At: at(415)}, {Device: "dev-11", At: at(530)}}, as, "seed %d", seed)
		assert.Len(t, lateWindows(events), 6, "seed %d: six windows have a late event", seed)
		counted := 0
		for _, w := range ws {
			counted += w.Count
		}
		// 1500 readings + 17 disconnects, less the 6 late readings.
		assert.Equal(t, 1500+17-6, counted, "seed %d", seed)
		last := events[len(events)-1]
		require.Equal(t, "heartbeat", last.Kind)
	}
}
