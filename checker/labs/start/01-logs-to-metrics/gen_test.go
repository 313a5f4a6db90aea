package logstometrics

import (
	"bytes"
	"math/rand/v2"
	"os"
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

// TestEveryEdgeCaseIsInEveryLog: the boundary table (edgeCases) is in the
// logs of both checks that judge it, whatever the seed, each case on a
// line of its own that the reference judges as the table says; and the
// generator's truth equals what the reference computes from the log.
func TestEveryEdgeCaseIsInEveryLog(t *testing.T) {
	for _, spec := range []logSpec{cleanLog, malformedLog} {
		for seed := uint64(1); seed <= 60; seed++ {
			var b bytes.Buffer
			truth, err := writeLog(&b, seed, spec)
			require.NoError(t, err)
			// The malformed-lines log ends without a newline, so its last
			// line counts only if Run handles a line that ends at EOF.
			require.Equal(t, !spec.NoFinalNewline, strings.HasSuffix(b.String(), "\n"), "seed %d: final newline", seed)
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			found := map[string]bool{}
			for i, e := range edgePositions(spec) {
				line := lines[i]
				require.True(t, isCase(e, line), "seed %d: line %d should show %q: %q", seed, i+1, e.rule, line)
				_, ok := reference.ParseLine(line)
				require.Equal(t, e.valid, ok, "seed %d: %s: %q", seed, e.rule, line)
				found[e.rule] = true
			}
			for _, e := range edgeCases {
				if spec.Edges == edgesAll || e.valid {
					assert.True(t, found[e.rule], "seed %d, edges %d: no line shows %q", seed, spec.Edges, e.rule)
				}
			}
			dir := t.TempDir()
			in, out := dir+"/access.log", dir+"/report.json"
			require.NoError(t, os.WriteFile(in, b.Bytes(), 0o644))
			require.NoError(t, reference.Run(in, out))
			got, err := readReport(out)
			require.NoError(t, err)
			require.NoError(t, compare(truth, got, allFields), "seed %d", seed)
		}
	}
}

// isCase recognises a line an edge case produced, by the field the case
// sets to its boundary.
func isCase(e edgeCase, line string) bool {
	f := strings.Split(line, " ")
	switch e.rule {
	case "status: 100 is the lowest valid status":
		return len(f) == 7 && f[4] == "100"
	case "status: 599 is valid and an error":
		return len(f) == 7 && f[4] == "599"
	case "errors: 500 is the lowest error":
		return len(f) == 7 && f[4] == "500"
	case "errors: 499 is not an error":
		return len(f) == 7 && f[4] == "499"
	case "bytes: 0 is valid":
		return len(f) == 7 && f[5] == "0"
	case "latency: 0ms is valid":
		return len(f) == 7 && f[6] == "0ms"
	case "timestamp: an offset other than Z is RFC 3339":
		return len(f) == 7 && strings.HasSuffix(f[0], "+02:00")
	case "path: / alone starts with /":
		return len(f) == 7 && f[3] == "/"
	case "status: 600 is out of range":
		return len(f) == 7 && f[4] == "600"
	case "status: 99 is out of range":
		return len(f) == 7 && f[4] == "99"
	case "fields: a blank line is malformed":
		return line == ""
	case "fields: six fields are too few":
		return len(f) == 6
	case "fields: eight fields are too many":
		return len(f) == 8 && f[7] == "extra"
	case "bytes: -1 is negative":
		return len(f) == 7 && f[5] == "-1"
	case "latency: a number without ms":
		return len(f) == 7 && !strings.HasSuffix(f[6], "s")
	case "method: lower case is not a method":
		return len(f) == 7 && strings.ToLower(f[2]) == f[2]
	case "method: a digit is not an upper-case letter":
		return len(f) == 7 && strings.Contains(f[2], "3")
	case "path: no leading /":
		return len(f) == 7 && !strings.HasPrefix(f[3], "/")
	}
	panic("isCase does not know the rule " + e.rule)
}
