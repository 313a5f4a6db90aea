package progress

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/report"
)

func TestMissingFileIsEmptyProgress(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), "nested", "progress.json")}
	p, warn, err := s.Load()
	require.NoError(t, err)
	assert.Empty(t, warn)
	assert.Equal(t, NotStarted, p.Status("start/01-logs-to-metrics"))
}

func TestRecordAndReload(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), "nested", "progress.json")}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	_, err := s.Update(func(p *Progress) {
		p.Record(&report.Lab{ID: "a/01-x", Status: report.Failed, Points: 3, MaxPoints: 10,
			Checks: []*report.Check{{ID: "one", Status: report.Passed}, {ID: "two", Status: report.Failed}}}, now)
	})
	require.NoError(t, err)
	_, err = s.Update(func(p *Progress) {
		p.Record(&report.Lab{ID: "a/01-x", Status: report.Passed, Points: 10, MaxPoints: 10,
			Checks: []*report.Check{{ID: "one", Status: report.Passed}, {ID: "two", Status: report.Passed}}}, now.Add(time.Hour))
		p.LabOf("a/01-x").HintsShown["two"] = 2
	})
	require.NoError(t, err)
	p, _, err := s.Load()
	require.NoError(t, err)
	l := p.Labs["a/01-x"]
	assert.Equal(t, Passed, l.Status)
	assert.Equal(t, 10, l.Points)
	assert.Equal(t, now.Add(time.Hour), *l.PassedAt)
	assert.Equal(t, now, *l.Checks["one"].PassedAt, "first pass time is kept")
	assert.Equal(t, 2, l.HintsShown["two"])
	entries, _ := os.ReadDir(filepath.Dir(s.Path))
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestInterruptedRunDoesNotOverwrite(t *testing.T) {
	p := New()
	p.Record(&report.Lab{ID: "a/01-x", Status: report.Passed, Points: 5, MaxPoints: 5}, time.Now())
	p.Record(&report.Lab{ID: "a/01-x", Status: report.Skipped}, time.Now())
	p.Record(&report.Lab{ID: "a/01-x", Status: report.Error}, time.Now())
	assert.Equal(t, Passed, p.Status("a/01-x"))
}

func TestCorruptFileIsMovedAsideAndReported(t *testing.T) {
	for name, content := range map[string]string{
		"truncated json":  `{"version": 1, "labs": {`,
		"wrong version":   `{"version": 99, "labs": {}}`,
		"not json at all": "\x00\x01garbage",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := &Store{Path: filepath.Join(dir, "progress.json")}
			require.NoError(t, os.WriteFile(s.Path, []byte(content), 0o644))
			p, warn, err := s.Load()
			require.NoError(t, err)
			assert.NotNil(t, p)
			assert.Contains(t, warn, "was corrupt")
			matches, _ := filepath.Glob(filepath.Join(dir, "progress.json.corrupt-*"))
			require.Len(t, matches, 1)
			kept, _ := os.ReadFile(matches[0])
			assert.Equal(t, content, string(kept), "the corrupt file is kept byte for byte")
			assert.Contains(t, warn, matches[0])
		})
	}
}

func TestAFailedCheckCountsItsFirstHintAsSeen(t *testing.T) {
	tests := []struct {
		name   string
		before int
		check  report.Check
		want   int
	}{
		{"failed with a hint", 0, report.Check{ID: "c", Status: report.Failed, Hint: "first hint"}, 1},
		{"failed, more hints already seen", 2, report.Check{ID: "c", Status: report.Failed, Hint: "first hint"}, 2},
		{"failed without a hint", 0, report.Check{ID: "c", Status: report.Failed}, 0},
		{"passed", 0, report.Check{ID: "c", Status: report.Passed}, 0},
		{"checker error", 0, report.Check{ID: "c", Status: report.Error, Hint: "first hint"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New()
			if tt.before > 0 {
				p.LabOf("a/01-x").HintsShown["c"] = tt.before
			}
			c := tt.check
			p.Record(&report.Lab{ID: "a/01-x", Status: report.Failed, Checks: []*report.Check{&c}}, time.Now())
			assert.Equal(t, tt.want, p.LabOf("a/01-x").HintsShown["c"])
		})
	}
}

func TestResetForgetsResultsButNotHints(t *testing.T) {
	p := New()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p.Record(&report.Lab{ID: "a/01-x", Status: report.Passed, Points: 10, MaxPoints: 10,
		Checks: []*report.Check{{ID: "one", Status: report.Passed}}}, now)
	p.LabOf("a/01-x").HintsShown["one"] = 2
	p.Reset("a/01-x")
	p.Reset("never/checked") // a lab without a record stays without one

	l := p.Labs["a/01-x"]
	assert.Equal(t, NotStarted, p.Status("a/01-x"))
	assert.Zero(t, l.Points)
	assert.True(t, l.LastChecked.IsZero(), "no time of a last check")
	assert.Nil(t, l.PassedAt)
	assert.Empty(t, l.Checks)
	assert.Equal(t, 10, l.MaxPoints)
	assert.Equal(t, 2, l.HintsShown["one"], "hints seen stay seen")
	assert.NotContains(t, p.Labs, "never/checked")
}
