package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
)

// The tests here follow a learner's first hour at an 80-column terminal:
// check, keep, watch, hint and reset, as the issue "A learner's first
// hour" walks them.

// assertFits fails for each line of out wider than width, except a line
// that is only a command to copy (kept whole, so it may overflow).
func assertFits(t *testing.T, out string, width int) {
	t.Helper()
	command := regexp.MustCompile("^ *(\\(reproduce: .*\\)|`[^`]*`[.;]?|/\\S+)$")
	for _, ln := range strings.Split(out, "\n") {
		if visibleWidth(ln) > width && !command.MatchString(ln) {
			t.Errorf("wider than %d columns (%d): %q", width, visibleWidth(ln), ln)
		}
	}
}

// failLong replaces the bounded-memory check (seconds of input to
// generate) with one that fails at once with a long message and
// evidence, as a real failure of the starter does.
func failLong(t *testing.T, e *env) {
	lab := startLab(t, e)
	replaceChecks(e, map[string]grader.CheckFunc{
		lab.Checks[2].ID: func(_ context.Context, h *grader.Harness) error {
			h.Logf("generated access.log: 1100000 lines (11190 malformed), 400 devices, 67.4 MiB, far more than fits")
			return &grader.Failure{
				Message:  "your report counts fewer lines than the log has: reading stopped before the end of the file, at a line longer than 64 KiB",
				Expected: `{"lines":1100000,"malformed":11190,"devices":400,"per_device_totals_follow":"in the report"}`,
				Actual:   `{"lines":3000}`,
			}
		},
	})
}

func TestCheckReportFitsEightyColumnsWithTheLearnersCommands(t *testing.T) {
	e := newEnv(t, starterGo)
	failLong(t, e)
	err := checkRun(context.Background(), &CheckOptions{IO: e.f.IO, Factory: e.f, Lab: "start/01", Seed: 5339970537995023919,
		Repo: func() string { return "" }, Invocation: "bin/delab"})
	require.Equal(t, errChecksFailed, err)
	out := e.out.String()
	assertFits(t, out, 80)
	assertFits(t, e.err.String(), 80)

	// Wrapped lines go on under their own indentation.
	assert.Contains(t, out, "\n      your report counts fewer lines than the log has: reading stopped before\n        the end of the file")
	assert.Contains(t, out, "\n      [checker] generated access.log: 1100000 lines (11190 malformed), 400\n                devices,")
	assert.Contains(t, out, "\n      expected: ")
	assert.Regexp(t, `\n      hint: .*\n            \S`, out)
	// The commands it suggests run as printed, and stay whole.
	assert.Contains(t, out, `reread: "Aggregate per key" (bin/delab read start/00)`)
	assert.Contains(t, out, "\nseed: 5339970537995023919\n  (reproduce: bin/delab check start/01 --seed 5339970537995023919)\n")
	assert.NotContains(t, out, "delab read start/00-backend", "the short lesson id, as the dashboard prints it")
	for _, c := range backticked(out) {
		assert.True(t, strings.HasPrefix(c, "bin/delab "), "%q runs as the learner started delab", c)
	}
	assert.Contains(t, out, "`bin/delab watch start/01`")
	assert.Contains(t, e.err.String(), "Checking start/01: building your code in labs/start/01-logs-to-metrics…")
}

func TestCheckKeepKeepsEachChecksInputsAndOutputs(t *testing.T) {
	e := newEnv(t, solution)
	lab := startLab(t, e)
	// The reference passes; the long check is left out for speed.
	replaceChecks(e, map[string]grader.CheckFunc{lab.Checks[2].ID: func(context.Context, *grader.Harness) error { return nil }})
	kept := filepath.Join(e.home, "kept", "logs-to-metrics-11")

	for range 2 { // the second run with the seed replaces the first's folder
		require.Equal(t, ExitOK, e.run("check", "start/01", "--seed", "11", "--keep"), e.err.String())
		out := e.out.String()
		assert.Contains(t, out, "Kept each check's inputs and your code's outputs in\n  "+kept+string(filepath.Separator)+"\n")
		assertFits(t, out, 80)
		for _, id := range []string{lab.Checks[0].ID, lab.Checks[1].ID} {
			dirs, err := filepath.Glob(filepath.Join(kept, "check-"+id+"-*"))
			require.NoError(t, err)
			require.Len(t, dirs, 1, "one folder for %s", id)
			for _, name := range []string{"access.log", "report.json"} {
				st, err := os.Stat(filepath.Join(dirs[0], name))
				require.NoError(t, err, "%s keeps %s", id, name)
				assert.NotZero(t, st.Size())
			}
			assert.Regexp(t, `\n    `+regexp.QuoteMeta(filepath.Base(dirs[0]))+`/ access.log report.json\n`, out, "the listing names what each check holds")
		}
		assert.NotContains(t, out, "run-", "empty scratch folders are not listed")
	}

	// Without --keep nothing is kept; with a compile error there is nothing to keep.
	require.NoError(t, os.RemoveAll(filepath.Join(e.home, "kept")))
	require.Equal(t, ExitOK, e.run("check", "start/01", "--seed", "11"))
	assert.NoDirExists(t, filepath.Join(e.home, "kept"))
	assert.NotContains(t, e.out.String(), "Kept")
	require.NoError(t, os.WriteFile(filepath.Join(e.repo, labDir, "metrics.go"), []byte("package metrics\n\nfunc broken( {\n"), 0o644))
	require.Equal(t, ExitChecksFail, e.run("check", "start/01", "--keep"))
	assert.Contains(t, e.out.String(), "Kept nothing: no check ran")
}

func TestWatchReportFitsEightyColumns(t *testing.T) {
	e := newEnv(t, starterGo)
	failLong(t, e)
	c, err := e.f.Catalog()
	require.NoError(t, err)
	err = watchCheck(context.Background(), e.f.IO, e.f, c, "", e.repo, startLab(t, e), false)
	require.Equal(t, errChecksFailed, err)
	assertFits(t, e.out.String(), 80)
	assert.Contains(t, e.out.String(), "(reproduce: "+commandPrefix()+" check start/01 --seed ")
	assert.Contains(t, e.out.String(), `reread: "Aggregate per key" (`+commandPrefix()+` read start/00)`)
	assert.Contains(t, e.err.String(), "Checking start/01…")
}

func TestWrapTextKeepsTheLinesIndentation(t *testing.T) {
	assert.Equal(t, "  1. one\n     two\n     three", wrapText("  1. one two three", 10, "     "))
	assert.Equal(t, "  Its lesson first: `delab read serialization/00`.", wrapText("  Its lesson first: `delab read serialization/00`.", 80, "  "))
	assert.Equal(t, "   ", wrapText("   ", 10, ""), "only spaces")
}

func TestHintRecallKeepsItsNumbering(t *testing.T) {
	e := newEnv(t, starterGo)
	recordFailedCheck(t, e)
	for range 3 {
		require.Equal(t, ExitOK, e.run("hint", "start/01"))
	}
	out := e.out.String()
	assert.Contains(t, out, "No more hints")
	assert.Regexp(t, `\n  1\. Keep a map`, out, "the list is indented as on the first run")
	assert.Regexp(t, `\n  3\. `, out)
	assertFits(t, out, 80)
}

func TestResetAsksAboutOneFileAndPrintsTheBackupWhole(t *testing.T) {
	e := newEnv(t, solution)
	e.f.IO.In = strings.NewReader("y\n")
	require.NoError(t, resetRun(&ResetOptions{IO: e.f.IO, Factory: e.f, Lab: "start/01", Repo: func() string { return "" }, CanPrompt: true}))
	assert.Equal(t, "You changed metrics.go in labs/start/01-logs-to-metrics.\nReplace it with the starter code (yours is backed up first)? [y/N] ", e.err.String())
	backups, err := filepath.Glob(filepath.Join(e.home, "backups", "start", "01-logs-to-metrics", "*"))
	require.NoError(t, err)
	require.Len(t, backups, 1)
	out := e.out.String()
	assert.Contains(t, out, "Your previous files (metrics.go) are in\n  "+backups[0]+"\n", "the path on a line of its own, to copy")
	assertFits(t, out, 80)

	// Without a terminal it refuses, saying so in 80 columns.
	require.NoError(t, os.WriteFile(filepath.Join(e.repo, labDir, "metrics.go"), []byte("package metrics\n"), 0o644))
	err = resetRun(&ResetOptions{IO: e.f.IO, Factory: e.f, Lab: "start/01", Repo: func() string { return "" }})
	require.Error(t, err)
	assert.Contains(t, strings.Join(strings.Fields(err.Error()), " "), "reset would replace it with the starter code")
	assertFits(t, "error: "+err.Error(), 80)
}
