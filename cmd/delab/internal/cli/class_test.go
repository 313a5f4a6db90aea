package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

const (
	serDir      = "labs/serialization/01-csv-to-arrow"
	serSolution = repoRoot + "/checker/labs/serialization/01-csv-to-arrow/solution/convert.go"
	serStarter  = repoRoot + "/labs/serialization/01-csv-to-arrow/convert.go"
	wrongStart  = repoRoot + "/checker/labs/start/01-logs-to-metrics/wrong/stops-at-malformed/metrics.go"
)

// student makes a checkout named name in class holding the given
// start/01 metrics.go and serialization/01 convert.go (a path, or Go
// source when it holds a newline).
func student(t *testing.T, class, name, metrics, convert string) string {
	t.Helper()
	dir := filepath.Join(class, name)
	for _, f := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(repoRoot, f), filepath.Join(dir, f))
	}
	put := func(src, to string) {
		if strings.Contains(src, "\n") {
			require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
			require.NoError(t, os.WriteFile(to, []byte(src), 0o644))
			return
		}
		copyFile(t, src, to)
	}
	put(metrics, filepath.Join(dir, labDir, "metrics.go"))
	put(convert, filepath.Join(dir, serDir, "convert.go"))
	return dir
}

// starterWith is the start/01 starter with Run's body replaced.
func starterWith(t *testing.T, body string) string {
	t.Helper()
	data, err := os.ReadFile(starterGo)
	require.NoError(t, err)
	src := string(data)
	i := strings.Index(src, "func Run(inputPath, reportPath string) error {")
	require.GreaterOrEqual(t, i, 0)
	j := strings.Index(src[i:], "\n}\n")
	// The starter's body uses errors; the replacement may not.
	return src[:i] + "func Run(inputPath, reportPath string) error {\n\t_ = errors.New\n" + body + src[i+j:]
}

// shortTimeouts makes start/01's first check give up after 6s, so that a
// hanging student costs seconds, not the check's real 30s.
func shortTimeouts(e *env) {
	e.f.Catalog = func() (*catalog.Catalog, error) {
		c, err := catalog.Load(lessons.FS, labs.FS)
		if err != nil {
			return nil, err
		}
		lab, err := c.ResolveLab("start/01")
		if err != nil {
			return nil, err
		}
		lab.Checks[0].Timeout = catalog.Duration(6 * time.Second)
		return c, nil
	}
}

func readReportFile(t *testing.T, path string) *report.Run {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var r report.Run
	require.NoError(t, json.Unmarshal(data, &r))
	return &r
}

// TestClassRunGradesEveryStudentWhateverTheirCodeDoes grades six
// students — reference, wrong, compile error, hang, panic, untouched
// starter — in parallel: each gets their own points, none stops the run.
func TestClassRunGradesEveryStudentWhateverTheirCodeDoes(t *testing.T) {
	e := newEnv(t, solution)
	shortTimeouts(e)
	t.Setenv(signingKeyEnv, "class-key")
	class, out := t.TempDir(), filepath.Join(t.TempDir(), "grades")
	student(t, class, "alice", solution, serSolution)
	student(t, class, "bob", wrongStart, serSolution)
	student(t, class, "carol", starterWith(t, "\treturn 42\n"), serStarter)
	student(t, class, "dave", starterWith(t, "\tfor {\n\t}\n"), serSolution)
	student(t, class, "erin", starterWith(t, "\tvar m map[string]int\n\tm[inputPath]++\n\treturn nil\n"), serStarter)
	student(t, class, "frank", starterGo, serStarter)
	require.NoError(t, os.Mkdir(filepath.Join(class, "not-a-checkout"), 0o755))

	start := time.Now()
	code := e.run("grade", "--class", class, "--out", out, "--jobs", "3", "--format", "exercism", "--lab", "start/01", "--lab", "serialization/01", "--seed", "5")
	t.Logf("6 students, 2 labs, --jobs 3: %s", time.Since(start).Round(100*time.Millisecond))
	require.Equal(t, ExitOK, code, e.err.String())

	want := map[string]struct {
		points     int
		startState report.Status
		message    string
	}{
		"alice": {19, report.Passed, ""},
		"bob":   {-1, report.Failed, ""},
		"carol": {0, report.Failed, "did not compile"},
		"dave":  {9, report.Failed, "did not finish within 6s"},
		"erin":  {0, report.Failed, "panic"},
		"frank": {0, report.Failed, "not implemented"},
	}
	for name, w := range want {
		r := readReportFile(t, filepath.Join(out, name+".json"))
		assert.Equal(t, name, r.Student)
		assert.Equal(t, uint64(5), r.Seed)
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, r.SourceDigest)
		assert.NotEmpty(t, r.DelabVersion)
		assert.NotEmpty(t, r.GradersCommit)
		assert.Contains(t, r.Command, "grade --seed 5 --repo "+filepath.Join(class, name))
		require.Len(t, r.Labs, 2, name)
		assert.Equal(t, w.startState, r.Labs[0].Status, name)
		if w.points >= 0 {
			assert.Equal(t, w.points, r.Points, name)
		}
		if w.message != "" {
			all := r.Labs[0].Message + r.Labs[0].Checks[0].Message + r.Labs[0].Checks[0].LearnerOutput
			if r.Labs[0].Build != nil {
				all += r.Labs[0].Checks[0].Message
			}
			assert.Contains(t, all, w.message, name)
		}
		assert.NoError(t, report.Verify(mustRead(t, filepath.Join(out, name+".json")), []byte("class-key")), name)
		assert.FileExists(t, filepath.Join(out, name+".results.json"), "the --format report beside the JSON")
	}
	assert.NoFileExists(t, filepath.Join(out, "not-a-checkout.json"))
	bob := readReportFile(t, filepath.Join(out, "bob.json"))
	assert.Greater(t, bob.Points, 0)
	assert.Less(t, bob.Points, 19)

	// Progress: one line per lab started and per student finished.
	assert.Contains(t, e.err.String(), "grading 6 students, 3 at a time, 2 labs each, seed 5")
	assert.Regexp(t, `\[\d/6 done\] dave: grading start/01-logs-to-metrics \(\d+\.\ds so far\)`, e.err.String())
	assert.Regexp(t, `\[\d/6 done\] alice: 19/19 points in \d+\.\ds`, e.err.String())

	// The gradebook: printed, and written as CSV and Markdown.
	assert.Contains(t, e.out.String(), "Checks the class fails most:")
	rows, err := csv.NewReader(bytes.NewReader(mustRead(t, filepath.Join(out, "gradebook.csv")))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 8, "header, max points, six students")
	assert.Equal(t, []string{"student", "serialization/01-csv-to-arrow", "start/01-logs-to-metrics", "total"}, rows[0])
	assert.Equal(t, []string{"alice", "9", "10", "19"}, rows[2])
	assert.FileExists(t, filepath.Join(out, "gradebook.md"))

	// gradebook --verify accepts the class's reports and rejects an edit.
	require.Equal(t, ExitOK, e.run("gradebook", "--class-dir", out, "--verify"), e.err.String())
	assert.Contains(t, e.out.String(), "alice")
	frank := filepath.Join(out, "frank.json")
	data := mustRead(t, frank)
	require.NoError(t, os.WriteFile(frank, bytes.Replace(data, []byte(`"points": 0,`), []byte(`"points": 20,`), 1), 0o644))
	assert.Equal(t, ExitChecksFail, e.run("gradebook", "--class-dir", out, "--verify"))
	assert.Contains(t, e.err.String(), "frank.json: the signature does not match")
	assert.NotContains(t, e.err.String(), "alice.json")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// TestInterruptedClassRunResumes stops a class run after its first
// student: that report stays, the others are missing; running again
// grades only those, and a changed checkout is graded again.
func TestInterruptedClassRunResumes(t *testing.T) {
	e := newEnv(t, solution)
	class, out := t.TempDir(), t.TempDir()
	student(t, class, "a-first", solution, serStarter)
	student(t, class, "b-second", solution, serStarter)
	student(t, class, "c-third", solution, serStarter)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(out, "a-first.json")); err == nil {
				cancel()
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	e.out.Reset()
	e.err.Reset()
	code := run(ctx, e.f, []string{"grade", "--class", class, "--out", out, "--jobs", "1", "--lab", "start/01", "--format", "json"})
	assert.Equal(t, ExitInterrupted, code, e.err.String())
	assert.FileExists(t, filepath.Join(out, "a-first.json"))
	assert.NoFileExists(t, filepath.Join(out, "b-second.json"), "an interrupted student has no report")
	assert.NoFileExists(t, filepath.Join(out, "c-third.json"))
	assert.Contains(t, e.err.String(), "interrupted: no report for b-second, c-third")
	assert.Contains(t, e.out.String(), "b-second: no report")
	first := mustRead(t, filepath.Join(out, "a-first.json"))

	require.Equal(t, ExitOK, e.run("grade", "--class", class, "--out", out, "--jobs", "2", "--lab", "start/01"), e.err.String())
	assert.Contains(t, e.err.String(), "a-first: 10/10 points (report up to date, not graded again")
	assert.Equal(t, first, mustRead(t, filepath.Join(out, "a-first.json")), "the finished report is kept as it was")
	assert.Equal(t, 10, readReportFile(t, filepath.Join(out, "c-third.json")).Points)

	// A student who changes a file after their report is graded again.
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(filepath.Join(class, "b-second", labDir, "metrics.go"), later, later))
	require.Equal(t, ExitOK, e.run("grade", "--class", class, "--out", out, "--lab", "start/01"), e.err.String())
	assert.Contains(t, e.err.String(), "a-first: 10/10 points (report up to date")
	assert.NotContains(t, e.err.String(), "b-second: 10/10 points (report up to date")
	assert.Regexp(t, `b-second: 10/10 points in`, e.err.String())

	// --redo grades everyone again.
	require.Equal(t, ExitOK, e.run("grade", "--class", class, "--out", out, "--lab", "start/01", "--redo"), e.err.String())
	assert.NotContains(t, e.err.String(), "up to date")
}

func TestRosterNamesTheCheckouts(t *testing.T) {
	e := newEnv(t, solution)
	class, out := t.TempDir(), t.TempDir()
	student(t, class, "x", starterGo, serStarter)
	roster := filepath.Join(class, "roster.txt")
	require.NoError(t, os.WriteFile(roster, []byte("# one checkout a line\n\nx\n"), 0o644))
	require.Equal(t, ExitOK, e.run("grade", "--roster", roster, "--out", out, "--lab", "start/01"), e.err.String())
	assert.Equal(t, 0, readReportFile(t, filepath.Join(out, "x.json")).Points)

	require.NoError(t, os.WriteFile(roster, []byte("x\nmissing\n"), 0o644))
	assert.Equal(t, ExitError, e.run("grade", "--roster", roster, "--out", out, "--lab", "start/01"))
	assert.Contains(t, e.err.String(), "roster.txt:2: missing is not a delab checkout")

	assert.Equal(t, ExitError, e.run("grade", "--class", class, "--lab", "start/01"))
	assert.Contains(t, e.err.String(), "a class run needs --out DIR")
}

func TestGradeFlagsParseIntoOptions(t *testing.T) {
	ios, _, _ := TestIO()
	f := NewFactory(ios)
	var g *GradeOptions
	cmd := NewCmdGrade(f, func() string { return "" }, func(_ context.Context, o *GradeOptions) error { g = o; return nil })
	cmd.SetArgs([]string{"--class", "c", "--out", "o", "--jobs", "3", "--redo", "--format", "classroom50", "--repeat", "2"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "c", g.Class)
	assert.Equal(t, 3, g.Jobs)
	assert.True(t, g.Redo)
	assert.Equal(t, "classroom50", g.Format)
	assert.Equal(t, 2, g.Repeat)

	cmd = NewCmdGrade(f, func() string { return "" }, func(_ context.Context, o *GradeOptions) error { g = o; return nil })
	cmd.SetArgs(nil)
	require.NoError(t, cmd.Execute())
	assert.Equal(t, max(1, defaultJobs()), g.Jobs)
	assert.GreaterOrEqual(t, g.Jobs, 1)

	for _, args := range [][]string{{"--jobs", "0"}, {"--class", "a", "--roster", "b"}, {"--also", "junit"}, {"--also", "xml=x"}, {"--repeat", "0"}} {
		cmd = NewCmdGrade(f, func() string { return "" }, func(context.Context, *GradeOptions) error { return nil })
		cmd.SetArgs(args)
		cmd.SetErr(&bytes.Buffer{})
		assert.Error(t, cmd.Execute(), "%v", args)
	}
}
