package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/joshdk/go-junit"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleRun has one passed, one failed, one errored and one skipped check,
// plus a lab that did not compile, so every branch of every format shows.
func sampleRun() *Run {
	ok := &Lab{ID: "start/01-logs-to-metrics", Title: "Logs to metrics", Duration: 1.5, Checks: []*Check{
		{ID: "clean-aggregates", Title: "Totals are exact", Status: Passed, Points: 4, MaxPoints: 4, Duration: 0.5, Log: []string{"generated 3000 lines"}},
		{ID: "malformed-lines", Title: "Malformed | counted", Status: Failed, MaxPoints: 3, Duration: 0.5,
			Message: "the malformed line count is wrong", Expected: "312", Actual: "172", Log: []string{"generated 6000 lines"},
			LearnerOutput: "PASS <fake> & \"quoted\"\n", Hint: "count and skip", Lesson: "start/00", Section: "Malformed lines are normal"},
		{ID: "bounded-memory", Title: "Memory bounded", Status: Error, MaxPoints: 3, Message: "checker error (not your fault): disk full", Log: []string{}},
		{ID: "extra", Title: "Skipped one", Status: Skipped, MaxPoints: 1, Message: "interrupted", Log: []string{}},
	}}
	ok.Finish()
	broken := &Lab{ID: "start/02-broken", Title: "Broken", Build: &BuildFailure{Output: "labs/start/02-broken/x.go:3:1: syntax error", First: "labs/start/02-broken/x.go:3:1: syntax error"},
		Checks: []*Check{{ID: "one", Title: "One", Status: Failed, MaxPoints: 2, Message: "not run: your code did not compile", Log: []string{}}}}
	broken.Finish()
	r := &Run{SchemaVersion: SchemaVersion, Tool: "delab", StartedAt: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Duration: 2, Seed: 42, Labs: []*Lab{ok, broken}}
	r.Total()
	return r
}

func TestFinishComputesStatusAndPoints(t *testing.T) {
	r := sampleRun()
	assert.Equal(t, Error, r.Labs[0].Status, "an errored check makes the lab an error, not a learner failure")
	assert.Equal(t, 4, r.Labs[0].Points)
	assert.Equal(t, 11, r.Labs[0].MaxPoints)
	assert.Equal(t, Failed, r.Labs[1].Status)
	assert.Equal(t, 4, r.Points)
	assert.Equal(t, 13, r.MaxPoints)
	assert.False(t, r.AllPassed())
	assert.False(t, (&Run{}).AllPassed(), "an empty run has not passed")
}

func TestJSONMatchesSchema(t *testing.T) {
	schemaFile, err := os.Open("schema.json")
	require.NoError(t, err)
	defer schemaFile.Close()
	doc, err := jsonschema.UnmarshalJSON(schemaFile)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	require.NoError(t, c.AddResource("schema.json", doc))
	schema, err := c.Compile("schema.json")
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, sampleRun()))
	raw := buf.Bytes()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.NoError(t, schema.Validate(inst))

	// The schema is strict enough to catch drift.
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	m["unexpected"] = true
	assert.Error(t, schema.Validate(m), "unknown top-level fields are rejected")
}

func TestJUnitIsAcceptedByAJUnitParser(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJUnit(&buf, sampleRun()))
	suites, err := junit.Ingest(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, suites, 2)
	s := suites[0]
	assert.Equal(t, "start/01-logs-to-metrics", s.Name)
	require.Len(t, s.Tests, 4)
	assert.Equal(t, junit.StatusPassed, s.Tests[0].Status)
	assert.Equal(t, junit.StatusFailed, s.Tests[1].Status)
	assert.Equal(t, "the malformed line count is wrong", s.Tests[1].Message)
	assert.Equal(t, junit.StatusError, s.Tests[2].Status)
	assert.Equal(t, junit.StatusSkipped, s.Tests[3].Status)
	assert.Equal(t, "PASS <fake> & \"quoted\"\n", s.Tests[1].SystemOut, "learner output survives XML escaping")
	assert.Equal(t, "4", s.Properties["points"])
	assert.Equal(t, "11", s.Properties["max_points"])
	assert.Equal(t, 1, s.Totals.Failed)
	assert.Equal(t, 1, s.Totals.Error)
	assert.Equal(t, 1, s.Totals.Skipped)
	assert.Equal(t, 1, suites[1].Totals.Failed)
}

func TestMarkdownSummary(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteMarkdown(&buf, sampleRun()))
	md := buf.String()
	assert.True(t, strings.HasPrefix(md, "# delab grade: 4/13 points — ❌ not all labs pass\n"))
	assert.Contains(t, md, "| `start/01-logs-to-metrics` Logs to metrics | error | 4/11 |")
	assert.Contains(t, md, "| Malformed \\| counted | failed | 0/3 | the malformed line count is wrong — hint: count and skip |")
	assert.Contains(t, md, "Build failed: `labs/start/02-broken/x.go:3:1: syntax error`")
}

func TestTextShowsEvidenceAndHints(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, sampleRun(), TextOptions{}))
	out := buf.String()
	for _, want := range []string{
		"start/01-logs-to-metrics — Logs to metrics  4/11 points",
		"  ✓ Totals are exact  (clean-aggregates, 4/4)",
		"  ✗ Malformed | counted  (malformed-lines, 0/3)",
		"      [checker] generated 6000 lines",
		"      expected: 312",
		"      actual:   172",
		"      [your code] PASS <fake> & \"quoted\"",
		"      hint: count and skip",
		"      reread: \"Malformed lines are normal\" (delab read start/00)",
		"  ! Memory bounded  (bounded-memory, 0/3)",
		"  Your code did not compile:",
		"Total: 4/13 points",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "[checker] generated 3000 lines", "passing checks are quiet unless verbose")
	assert.NotContains(t, out, "\x1b[", "no colour unless asked")

	buf.Reset()
	require.NoError(t, WriteText(&buf, sampleRun(), TextOptions{Color: true, Verbose: true}))
	assert.Contains(t, buf.String(), "\x1b[32m✓\x1b[0m")
	assert.Contains(t, buf.String(), "generated 3000 lines")
}
