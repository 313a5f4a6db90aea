package report

import (
	"bytes"
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClassroom50FollowsItsFieldList checks the result against Classroom
// 50's result/v1 field list: exactly these top-level keys, non-empty
// strings, a UTC datetime, integer scores that sum, and tests with
// exactly test-name, passed, score and max-score.
func TestClassroom50FollowsItsFieldList(t *testing.T) {
	var buf bytes.Buffer
	ctx := Classroom50Context{Classroom: "cs-data", Assignment: "delab", Submission: "submit/1", Commit: "https://example.com/c/1", Release: "https://example.com/r/1"}
	require.NoError(t, WriteClassroom50(&buf, sampleRun(), ctx))
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	assert.Equal(t, []string{"assignment", "classroom", "commit", "datetime", "max-score", "release", "review", "schema", "score", "submission", "tests"}, keys(m))
	assert.Equal(t, "classroom50/result/v1", m["schema"])
	assert.Equal(t, "cs-data", m["classroom"])
	assert.Equal(t, "https://example.com/c/1", m["review"], "review falls back to the commit")
	assert.Equal(t, "2026-11-23T12:00:00Z", m["datetime"])
	assert.Equal(t, float64(4), m["score"])
	assert.Equal(t, float64(15), m["max-score"])
	tests := m["tests"].([]any)
	require.Len(t, tests, 6, "one test per check")
	var score, maxScore float64
	for _, raw := range tests {
		tc := raw.(map[string]any)
		assert.Equal(t, []string{"max-score", "passed", "score", "test-name"}, keys(tc))
		assert.NotEmpty(t, tc["test-name"])
		assert.IsType(t, true, tc["passed"])
		score += tc["score"].(float64)
		maxScore += tc["max-score"].(float64)
	}
	assert.Equal(t, m["score"], score)
	assert.Equal(t, m["max-score"], maxScore)
	first := tests[0].(map[string]any)
	assert.Equal(t, "start/01-logs-to-metrics/clean-aggregates", first["test-name"])
	assert.Equal(t, true, first["passed"])
	assert.Equal(t, false, tests[1].(map[string]any)["passed"])

	// Without a runner's context every string is still non-empty.
	buf.Reset()
	require.NoError(t, WriteClassroom50(&buf, sampleRun(), Classroom50Context{}))
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	for _, k := range []string{"classroom", "assignment", "submission", "commit", "release", "review"} {
		assert.Equal(t, "unknown", m[k], k)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
