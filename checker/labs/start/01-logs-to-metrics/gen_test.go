package logstometrics

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/start/01-logs-to-metrics/solution"
)

// TestCorruptLinesAreMalformedEvenAtTheEdges: a line the generator calls
// malformed but the lesson's rules accept would fail a correct learner at
// random. Corrupt lines whose numbers sit on the edges (0 bytes, 0 ms),
// through every corruption kind, and require the reference to reject them.
func TestCorruptLinesAreMalformedEvenAtTheEdges(t *testing.T) {
	for _, valid := range []string{
		"2026-11-02T08:15:03.120Z ap-0001 GET /v1/status 200 0 0ms",
		"2026-11-02T08:15:03.120Z ap-0001 POST /health 599 47999 1ms",
	} {
		_, ok := reference.ParseLine(valid)
		require.True(t, ok, valid)
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 2000; i++ {
			bad := string(corrupt(r, []byte(valid)))
			_, ok := reference.ParseLine(bad)
			if !assert.False(t, ok, "corrupt(%q) = %q is still valid", valid, bad) {
				return
			}
		}
	}
}

// TestGeneratorAgreesWithTheLessonRules counts, over several seeds, the
// lines the reference rejects and compares with the generator's truth.
func TestGeneratorAgreesWithTheLessonRules(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		var b bytes.Buffer
		truth, err := writeLog(&b, seed, logSpec{Lines: 2000, Devices: 20, Malformed: 0.3, HugeLine: true})
		require.NoError(t, err)
		var malformed int64
		for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			if _, ok := reference.ParseLine(line); !ok {
				malformed++
			}
		}
		require.Equal(t, truth.Malformed, malformed, "seed %d", seed)
	}
}
