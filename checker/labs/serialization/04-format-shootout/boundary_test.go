package formatshootout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/04-format-shootout/solution"
)

// edgeRules says, for each edge of the boundary table, how to recognise a
// reading that exercises it.
var edgeRules = []struct {
	rule string
	is   func(reference.Reading) bool
}{
	{"a missing temp is null", func(r reference.Reading) bool { return r.Temp == nil }},
	{"a temp of 0 is a value", func(r reference.Reading) bool { return r.Temp != nil && *r.Temp == 0 }},
	{"a fractional temp survives exactly", func(r reference.Reading) bool { return r.Temp != nil && *r.Temp == 12.34 }},
	{"battery 0", func(r reference.Reading) bool { return r.Battery == 0 }},
	{"battery 100", func(r reference.Reading) bool { return r.Battery == 100 }},
}

// assertEdges asserts that rs, as the learner's code received it, starts
// with a reading for every edge rule.
func assertEdges(t *testing.T, what string, rs []reference.Reading) {
	t.Helper()
	for _, e := range edgeRules {
		found := false
		for _, r := range rs[:len(edges)] {
			found = found || e.is(r)
		}
		assert.True(t, found, "%s: no reading among the first %d shows %q", what, len(edges), e.rule)
	}
}

// TestEveryEdgeIsInEveryInput reads the inputs back as the learner's code
// gets them, for 150 seeds: Measure's readings as the harness decodes
// readings.json, and the files the checker writes for the learner's
// Decode as a decoder reads them, in every format.
func TestEveryEdgeIsInEveryInput(t *testing.T) {
	for seed := uint64(0); seed < 150; seed++ {
		raw, err := json.Marshal(Data(seed))
		require.NoError(t, err)
		var measured []reference.Reading
		require.NoError(t, json.Unmarshal(raw, &measured))
		require.Len(t, measured, dataRows)
		assertEdges(t, fmt.Sprintf("seed %d: Measure's readings", seed), measured)

		cases := decodeCases(seed)
		for _, f := range reference.Formats {
			var b bytes.Buffer
			require.NoError(t, reference.Encode(f, &b, cases))
			back, err := reference.Decode(f, b.Bytes())
			require.NoError(t, err)
			require.Len(t, back, len(cases))
			assertEdges(t, fmt.Sprintf("seed %d: the %s file for Decode", seed, f), back)
		}
	}
}

// TestTimingsRunsCatchAFixedNumberOfRounds: the two runs differ, so a
// Measure that ignores rounds fails one; both are odd, so the median is
// one round's time, and more than one, so one round can be slowed.
func TestTimingsRunsCatchAFixedNumberOfRounds(t *testing.T) {
	require.NotEqual(t, rounds, otherRounds)
	for _, r := range []int{rounds, otherRounds} {
		require.Equal(t, 1, r%2)
		require.Greater(t, r, 1)
	}
}

// TestRenderSampleTellsRoundingFromTruncating: the fixed results Render is
// given have bars where rounding and truncating differ, and none near a
// half, where floating point could go either way.
func TestRenderSampleTellsRoundingFromTruncating(t *testing.T) {
	var largest int64
	for _, r := range sample {
		largest = max(largest, r.Bytes)
	}
	differ := 0
	for _, r := range sample {
		x := reference.BarWidth * float64(r.Bytes) / float64(largest)
		assert.Greater(t, math.Abs(x-math.Floor(x)-0.5), 0.01, r.Format)
		if math.Round(x) != math.Floor(x) {
			differ++
		}
	}
	assert.GreaterOrEqual(t, differ, 2)
}

// fakeRun is a run of Measure over one format's encode and decode, with
// calls of the given durations (ms) one after another, 1µs apart.
func fakeRun(encode, decode []float64, reportEnc, reportDec time.Duration) *run {
	r := &run{Rounds: len(encode), byFmt: map[string]reference.Result{}}
	at := int64(0)
	add := func(op, format string, ms float64) {
		at += 1000
		d := int64(ms * 1e6)
		r.Calls = append(r.Calls, call{Op: op, Format: format, Start: at, End: at + d})
		at += d
	}
	for _, f := range reference.Formats {
		for _, ms := range encode {
			add("encode", f, ms)
		}
		for _, ms := range decode {
			add("decode", f, ms)
		}
		r.byFmt[f] = reference.Result{Format: f, Encode: reportEnc, Decode: reportDec}
	}
	r.End = at + 1000
	return r
}

// TestTimingsWindow judges made-up runs: an honest median passes, the
// mistakes the lesson names fail with the diagnosis that names them.
func TestTimingsWindow(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * 1e6) }
	enc, dec := []float64{10, 11, 12, 10.5, 50}, []float64{20, 21, 22, 20.5, 90}
	for _, c := range []struct {
		name      string
		enc, dec  time.Duration
		want      string // "" passes
		wantCount bool
	}{
		{"median", ms(11) + 500, ms(21) + 500, "", false},
		{"median rounded to 10µs", ms(11) - 5*time.Microsecond, ms(21), "", false},
		{"mean", ms(18.7), ms(34.7), "the mean of the rounds", false},
		{"total", ms(93.5), ms(173.5), "the total of all rounds", false},
		{"encode includes decode", ms(32), ms(21), "the clock ran across other work", false},
		{"defer", 100, 80, "shorter than even the fastest call", false},
		{"decode's time as encode's", ms(21), ms(21), "the median of the calls of Decode", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ops, err := fakeRun(enc, dec, c.enc, c.dec).ops()
			require.NoError(t, err)
			var msg string
			for _, o := range ops {
				lo, hi := o.window()
				if o.reported < lo || o.reported > hi {
					msg = diagnose(o, ops)
					break
				}
			}
			if c.want == "" {
				assert.Empty(t, msg)
				return
			}
			assert.Contains(t, msg, c.want)
		})
	}
	_, err := fakeRun(enc[:3], dec[:3], ms(11), ms(21)).ops()
	require.NoError(t, err)
	r := fakeRun(enc, dec, ms(11), ms(21))
	r.Rounds = 3
	_, err = r.ops()
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	assert.True(t, strings.Contains(f.Message, "called Encode(\"json\") 5 times"), f.Message)
}
