package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func exercism(t *testing.T, r *Run) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteExercism(&buf, r))
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	return m
}

// TestExercismFollowsItsFieldList checks results.json against exercism's
// version 3 field list: version, status (pass/fail/error), message when
// status is error, tests with name, status, message (on fail and error),
// output (at most 500 characters), test_code and task_id.
func TestExercismFollowsItsFieldList(t *testing.T) {
	r := sampleRun()
	r.Labs[0].Checks[1].LearnerOutput = strings.Repeat("é", 700)
	m := exercism(t, r)
	assert.Equal(t, float64(3), m["version"])
	assert.Equal(t, "fail", m["status"])
	assert.NotContains(t, m, "message", "message only when status is error")
	tests := m["tests"].([]any)
	require.Len(t, tests, 6)
	allowed := map[string]bool{"name": true, "status": true, "message": true, "output": true, "test_code": true, "task_id": true}
	wantStatus := []string{"pass", "fail", "error", "error", "fail", "fail"}
	wantTask := []float64{1, 1, 1, 1, 2, 3}
	for i, raw := range tests {
		tc := raw.(map[string]any)
		for k := range tc {
			assert.True(t, allowed[k], "unexpected field %q", k)
		}
		assert.NotEmpty(t, tc["name"])
		assert.NotEmpty(t, tc["test_code"])
		assert.Equal(t, wantStatus[i], tc["status"], "test %d", i)
		assert.Equal(t, wantTask[i], tc["task_id"], "test %d", i)
		if tc["status"] != "pass" {
			assert.NotEmpty(t, tc["message"], "test %d", i)
		} else {
			assert.NotContains(t, tc, "message")
		}
		if out, ok := tc["output"].(string); ok {
			assert.LessOrEqual(t, len([]rune(out)), 500)
		}
	}
	assert.Len(t, []rune(tests[1].(map[string]any)["output"].(string)), 500)
	assert.Contains(t, tests[1].(map[string]any)["message"], "hint: count and skip")
	assert.NotContains(t, tests[5].(map[string]any)["output"], "\x1b", "learner output is cleaned")
}

func TestExercismStatus(t *testing.T) {
	lab := func(build bool, st ...Status) *Lab {
		l := &Lab{ID: "start/01-x", Title: "X"}
		if build {
			l.Build = &BuildFailure{First: "x.go:1:1: syntax error"}
		}
		for _, s := range st {
			l.Checks = append(l.Checks, &Check{ID: "c", Title: "C", Status: s, MaxPoints: 1, Message: "m"})
		}
		l.Finish()
		return l
	}
	tests := []struct {
		name        string
		labs        []*Lab
		want        string
		wantMessage string
	}{
		{"all pass", []*Lab{lab(false, Passed, Passed)}, "pass", ""},
		{"one fails", []*Lab{lab(false, Passed, Failed)}, "fail", ""},
		{"a checker error among runs", []*Lab{lab(false, Passed, Error)}, "fail", ""},
		{"nothing compiled", []*Lab{lab(true, Failed, Failed)}, "error", "x.go:1:1: syntax error"},
		{"one lab compiled", []*Lab{lab(true, Failed), lab(false, Passed)}, "fail", ""},
		{"no labs", nil, "error", "no lab was graded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := exercism(t, &Run{Labs: tt.labs})
			assert.Equal(t, tt.want, m["status"])
			if tt.wantMessage != "" {
				assert.Contains(t, m["message"], tt.wantMessage)
			}
		})
	}
}
