package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/progress"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

const repoRoot = "../../../.."

const (
	labDir    = "labs/start/01-logs-to-metrics"
	solution  = repoRoot + "/checker/labs/start/01-logs-to-metrics/solution/metrics.go"
	starterGo = repoRoot + "/labs/start/01-logs-to-metrics/metrics.go"
)

type env struct {
	f        *Factory
	repo     string
	home     string
	out, err *bytes.Buffer
}

// newEnv makes a learner checkout holding the given metrics.go and an
// empty delab home.
func newEnv(t *testing.T, metricsGo string) *env {
	t.Helper()
	repo, home := t.TempDir(), t.TempDir()
	for _, name := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(repoRoot, name), filepath.Join(repo, name))
	}
	copyFile(t, metricsGo, filepath.Join(repo, labDir, "metrics.go"))
	ios, out, errOut := TestIO()
	f := NewFactory(ios)
	f.Progress = func() (*progress.Store, error) {
		return &progress.Store{Path: filepath.Join(home, "progress.json")}, nil
	}
	f.StateDir = func() (string, error) { return home, nil }
	f.Getwd = func() (string, error) { return filepath.Join(repo, labDir), nil }
	f.Now = func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }
	buildRoot := t.TempDir()
	f.Engine = func() *engine.Engine { return &engine.Engine{BuildRoot: buildRoot} }
	return &env{f: f, repo: repo, home: home, out: out, err: errOut}
}

func (e *env) run(args ...string) int {
	e.out.Reset()
	e.err.Reset()
	return run(context.Background(), e.f, args)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, data, 0o644))
}

func TestFlagsParseIntoOptions(t *testing.T) {
	ios, _, _ := TestIO()
	f := NewFactory(ios)
	var got *CheckOptions
	cmd := NewCmdCheck(f, func() string { return "" }, func(_ context.Context, o *CheckOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"start/01", "-v", "--seed", "7"})
	require.NoError(t, cmd.Execute())
	assert.Equal(t, "start/01", got.Lab)
	assert.True(t, got.Verbose)
	assert.Equal(t, uint64(7), got.Seed)

	var g *GradeOptions
	gc := NewCmdGrade(f, func() string { return "" }, func(_ context.Context, o *GradeOptions) error { g = o; return nil })
	gc.SetArgs([]string{"--format", "junit", "-o", "r.xml", "--lab", "start/01", "--lab", "x"})
	require.NoError(t, gc.Execute())
	assert.Equal(t, "junit", g.Format)
	assert.Equal(t, "r.xml", g.Out)
	assert.Equal(t, []string{"start/01", "x"}, g.Labs)

	var w *WatchOptions
	wc := NewCmdWatch(f, func() string { return "" }, func(_ context.Context, o *WatchOptions) error { w = o; return nil })
	wc.SetArgs([]string{"start/01", "--poll", "--interval", "250ms"})
	require.NoError(t, wc.Execute())
	assert.True(t, w.Poll)
	assert.Equal(t, 250*time.Millisecond, w.Interval)
}

func TestUsageErrors(t *testing.T) {
	e := newEnv(t, starterGo)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"check"}, "check needs a lab"},
		{[]string{"check", "logs-to-metric"}, `did you mean "start/01-logs-to-metrics"?`},
		{[]string{"hint", "nope"}, `unknown lab "nope"`},
		{[]string{"grade", "--format", "xml"}, `unknown --format "xml"`},
		{[]string{"read", "no-such-lesson"}, `unknown lesson "no-such-lesson"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"hint", "start/01", "--check", "nope"}, `has no check "nope"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			assert.Equal(t, ExitError, e.run(tt.args...))
			assert.Contains(t, e.err.String(), tt.wantErr)
			assert.True(t, strings.HasPrefix(e.err.String(), "error: "), "errors go to stderr: %q", e.err.String())
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	e := newEnv(t, starterGo)
	for _, c := range NewRootCmd(e.f).Commands() {
		assert.Equal(t, ExitOK, e.run(c.Name(), "--help"), c.Name())
		assert.Contains(t, e.out.String(), "Usage:", c.Name())
	}
}

func TestNoCheckoutFound(t *testing.T) {
	e := newEnv(t, starterGo)
	e.f.Getwd = func() (string, error) { return t.TempDir(), nil }
	assert.Equal(t, ExitError, e.run("check", "start/01"))
	assert.Contains(t, e.err.String(), "no delab checkout found")
	// --repo points at the checkout from anywhere; the starter then grades (and fails).
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01", "--repo", e.repo))
	assert.Contains(t, e.out.String(), "0/10 points")
}

func TestCheckStarterFailsWithEvidenceAndHints(t *testing.T) {
	e := newEnv(t, starterGo)
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01"))
	out := e.out.String()
	assert.Contains(t, out, "✗ Per-device totals are exact on a clean log")
	assert.Contains(t, out, "[checker] generated access.log")
	assert.Contains(t, out, "your code returned an error: Run is not implemented yet")
	assert.Contains(t, out, "hint: Keep a map from device id")
	assert.Contains(t, out, "0 of 3 checks pass (0/10 points)")
	assert.NotContains(t, out, "\x1b[", "no colour when piped")

	p, _, err := (&progress.Store{Path: filepath.Join(e.home, "progress.json")}).Load()
	require.NoError(t, err)
	assert.Equal(t, progress.Failing, p.Status("start/01-logs-to-metrics"))

	assert.Equal(t, ExitOK, e.run())
	assert.Contains(t, e.out.String(), "✗ start/01          Logs to metrics")
	assert.Contains(t, e.out.String(), "Next: keep going on start/01-logs-to-metrics (0/10 points)")
}

func TestCheckReferencePassesAndDashboardMovesOn(t *testing.T) {
	e := newEnv(t, solution)
	assert.Equal(t, ExitOK, e.run("check", "logs-to-metrics"))
	assert.Contains(t, e.out.String(), "All 3 checks pass (10/10 points)")
	assert.Equal(t, ExitOK, e.run())
	assert.Contains(t, e.out.String(), "✓ start/01          Logs to metrics")
	assert.Regexp(t, `Progress: 10/\d+ points, 1/\d+ labs passed`, e.out.String())
	assert.Contains(t, e.out.String(), `Next: read the lesson "Text vs. binary, rows vs. columns`, "the next lab's lesson comes next")
}

func TestCompileErrorIsShownWithFileAndLine(t *testing.T) {
	e := newEnv(t, starterGo)
	path := filepath.Join(e.repo, labDir, "metrics.go")
	data, _ := os.ReadFile(path)
	require.NoError(t, os.WriteFile(path, bytes.Replace(data, []byte("return Record{}, false"), []byte("return Record{}, 42"), 1), 0o644))
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01"))
	assert.Contains(t, e.out.String(), "Your code did not compile:")
	assert.Regexp(t, `labs/start/01-logs-to-metrics/metrics.go:\d+:\d+: cannot use 42`, e.out.String())
}

func TestInterruptedCheckExits130AndRecordsNothing(t *testing.T) {
	e := newEnv(t, solution)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.Equal(t, ExitInterrupted, run(ctx, e.f, []string{"check", "start/01"}))
	assert.Contains(t, e.out.String(), "Interrupted")
	_, err := os.Stat(filepath.Join(e.home, "progress.json"))
	assert.True(t, os.IsNotExist(err), "an interrupted check leaves progress alone")
}

func TestHintRevealsOneMoreEachTime(t *testing.T) {
	e := newEnv(t, starterGo)
	require.Equal(t, ExitOK, e.run("hint", "start/01"))
	assert.Contains(t, e.out.String(), "Hint 1 of 3:")
	assert.NotContains(t, e.out.String(), "Hint 2 of 3:")
	require.Equal(t, ExitOK, e.run("hint", "start/01"))
	assert.Contains(t, e.out.String(), "Hint 2 of 3: Compare your DeviceStats")
	require.Equal(t, ExitOK, e.run("hint", "start/01"))
	assert.Contains(t, e.out.String(), "Hint 3 of 3:")
	assert.Contains(t, e.out.String(), "That was the last hint for this check.")
	assert.Contains(t, e.out.String(), `Reread "Aggregate per key"`)
	require.Equal(t, ExitOK, e.run("hint", "start/01"))
	assert.Contains(t, e.out.String(), "No more hints: you have seen all 3 for this check.", "said once, then the hints are recalled")
	assert.NotContains(t, e.out.String(), "That was the last hint")
	assert.Contains(t, e.out.String(), `Reread "Aggregate per key"`)

	require.Equal(t, ExitOK, e.run("hint", "start/01", "--check", "bounded-memory"))
	assert.Contains(t, e.out.String(), "Hint 1 of 2: Read the file line by line")
	p, _, _ := (&progress.Store{Path: filepath.Join(e.home, "progress.json")}).Load()
	assert.Equal(t, map[string]int{"clean-aggregates": 3, "bounded-memory": 1}, p.Labs["start/01-logs-to-metrics"].HintsShown)
}

func TestResetRestoresStarterAndKeepsABackup(t *testing.T) {
	e := newEnv(t, solution)
	extra := filepath.Join(e.repo, labDir, "helpers.go")
	require.NoError(t, os.WriteFile(extra, []byte("package logmetrics\n// my helper\n"), 0o644))
	require.Equal(t, ExitOK, e.run("reset", "start/01", "--yes"))
	assert.Contains(t, e.out.String(), "Restored the starter code of start/01-logs-to-metrics")

	restored, err := os.ReadFile(filepath.Join(e.repo, labDir, "metrics.go"))
	require.NoError(t, err)
	starter, _ := os.ReadFile(starterGo)
	assert.Equal(t, string(starter), string(restored))
	_, err = os.Stat(extra)
	assert.True(t, os.IsNotExist(err), "learner files are moved out of the lab folder")

	backups, _ := filepath.Glob(filepath.Join(e.home, "backups", "start", "01-logs-to-metrics", "*"))
	require.Len(t, backups, 1)
	assert.Contains(t, e.out.String(), backups[0])
	saved, _ := os.ReadFile(filepath.Join(backups[0], "metrics.go"))
	ref, _ := os.ReadFile(solution)
	assert.Equal(t, string(ref), string(saved))
	helper, _ := os.ReadFile(filepath.Join(backups[0], "helpers.go"))
	assert.Equal(t, "package logmetrics\n// my helper\n", string(helper))
}

func TestGradeFormats(t *testing.T) {
	e := newEnv(t, solution)
	dir := t.TempDir()

	require.Equal(t, ExitOK, e.run("grade", "--lab", "start/01", "--format", "json", "--out", filepath.Join(dir, "r.json"), "--seed", "99"))
	var r report.Run
	data, err := os.ReadFile(filepath.Join(dir, "r.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &r))
	assert.Equal(t, 10, r.Points)
	assert.Equal(t, uint64(99), r.Seed)
	assert.True(t, r.AllPassed())
	assert.Contains(t, e.err.String(), "10/10 points; json report written to")

	require.Equal(t, ExitOK, e.run("grade", "--lab", "start/01", "--format", "junit", "--out", filepath.Join(dir, "r.xml")))
	suites, err := junit.IngestFile(filepath.Join(dir, "r.xml"))
	require.NoError(t, err)
	require.Len(t, suites, 1)
	assert.Equal(t, 3, suites[0].Totals.Passed)

	require.Equal(t, ExitOK, e.run("grade", "--lab", "start/01", "--format", "markdown"))
	assert.Contains(t, e.out.String(), "# delab grade: 10/10 points — ✅ all labs pass")
}

func TestGradeFailingRepoExitsOne(t *testing.T) {
	e := newEnv(t, starterGo)
	assert.Equal(t, ExitChecksFail, e.run("grade", "--lab", "start/01", "--format", "json"))
	var r report.Run
	require.NoError(t, json.Unmarshal(e.out.Bytes(), &r))
	assert.Equal(t, 0, r.Points)
	assert.Equal(t, report.Failed, r.Labs[0].Status)
}

func TestCorruptProgressIsReportedAndMovedAside(t *testing.T) {
	e := newEnv(t, starterGo)
	path := filepath.Join(e.home, "progress.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"version":1,"labs":{"start/01`), 0o644))
	assert.Equal(t, ExitOK, e.run())
	assert.Contains(t, e.err.String(), "warning: progress file")
	assert.Contains(t, e.err.String(), "was corrupt")
	aside, _ := filepath.Glob(path + ".corrupt-*")
	require.Len(t, aside, 1)
	kept, _ := os.ReadFile(aside[0])
	assert.Equal(t, `{"version":1,"labs":{"start/01`, string(kept))
	assert.Regexp(t, `Progress: 0/\d+ points`, e.out.String())
}

func TestReadIsPlainWhenPipedAndDoesNotRecordTheLesson(t *testing.T) {
	e := newEnv(t, starterGo)
	assert.Equal(t, ExitOK, e.run())
	assert.Contains(t, e.out.String(), "Next: read the lesson")
	require.Equal(t, ExitOK, e.run("read", "start/00"))
	out := e.out.String()
	assert.Contains(t, out, "  From backend to data engineering\n  ================================\n")
	assert.Contains(t, out, "  What a data engineer does\n  -------------------------\n")
	assert.NotRegexp(t, `(?m)^\s*#+ \w`, out, "no heading markers when piped")
	for _, marker := range []string{"**", "`"} {
		assert.NotContains(t, out, marker, "no Markdown markers when piped")
	}
	assert.Contains(t, out, "per-device metrics", "hyphens are restored after rendering")
	assert.NotContains(t, out, "\x1b[")
	assert.NotContains(t, out, "\u2011")
	for _, ln := range strings.Split(out, "\n") {
		assert.LessOrEqual(t, len([]rune(ln)), 80, "wrapped to the width: %q", ln)
		assert.Equal(t, strings.TrimRight(ln, " "), ln, "no trailing padding")
	}
	assert.Equal(t, ExitOK, e.run())
	assert.Contains(t, e.out.String(), "Next: read the lesson", "`delab read | head` does not count as reading")
}

func TestReadOnAColourTerminalUsesThePager(t *testing.T) {
	e := newEnv(t, starterGo)
	e.f.IO.IsTerminal, e.f.IO.Color, e.f.IO.Width = true, true, 60
	var paged string
	err := readRun(&ReadOptions{IO: e.f.IO, Factory: e.f, Lesson: "start/00", Pager: func(s string) error { paged = s; return nil }})
	require.NoError(t, err)
	assert.Contains(t, paged, "\x1b[", "styled on a colour terminal")
	assert.Empty(t, e.out.String(), "the pager got the text, not stdout")

	e.f.IO.Color = false // NO_COLOR on a terminal
	err = readRun(&ReadOptions{IO: e.f.IO, Factory: e.f, Lesson: "start/00", NoPager: true})
	require.NoError(t, err)
	assert.NotContains(t, e.out.String(), "\x1b[")
}

func TestWatchRechecksOnSave(t *testing.T) {
	for _, poll := range []bool{true, false} {
		name := map[bool]string{true: "poll", false: "notify"}[poll]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, starterGo)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var runs atomic.Int32
			done := make(chan error, 1)
			go func() {
				done <- watchRun(ctx, &WatchOptions{IO: e.f.IO, Factory: e.f, Lab: "start/01", Repo: func() string { return "" },
					Poll: poll, Interval: 50 * time.Millisecond, Debounce: 50 * time.Millisecond,
					Check: func(context.Context, *catalog.Lab) error { runs.Add(1); return errChecksFailed }})
			}()
			require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "checks once at start")
			time.Sleep(100 * time.Millisecond)
			path := filepath.Join(e.repo, labDir, "metrics.go")
			require.NoError(t, os.WriteFile(path, []byte("package logmetrics\n// edited\n"), 0o644))
			require.Eventually(t, func() bool { return runs.Load() == 2 }, 5*time.Second, 10*time.Millisecond, "re-checks after a save")
			require.NoError(t, os.WriteFile(filepath.Join(e.repo, labDir, "notes.txt"), []byte("x"), 0o644))
			time.Sleep(300 * time.Millisecond)
			assert.Equal(t, int32(2), runs.Load(), "non-Go files do not trigger a check")
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "Ctrl-C ends watch cleanly")
			case <-time.After(5 * time.Second):
				t.Fatal("watch did not stop on cancel")
			}
		})
	}
}

func TestServiceLabWithoutDockerIsSkippedWithAReason(t *testing.T) {
	e := newEnv(t, starterGo)
	e.f.Services = func() services.Provider { return noDocker{} }
	copyFile(t, repoRoot+"/labs/kafka/01-first-produce-consume/produceconsume.go", filepath.Join(e.repo, "labs/kafka/01-first-produce-consume/produceconsume.go"))
	assert.Equal(t, ExitChecksFail, e.run("grade", "--lab", "kafka/01", "--lab", "start/01", "--format", "json"))
	var r report.Run
	require.NoError(t, json.Unmarshal(e.out.Bytes(), &r))
	require.Len(t, r.Labs, 2)
	assert.Equal(t, report.Skipped, r.Labs[0].Status)
	assert.Contains(t, r.Labs[0].Checks[0].Message, "this lab needs Kafka")
	assert.Contains(t, r.Labs[0].Checks[0].Message, "no Docker engine is reachable")
	assert.Equal(t, report.Failed, r.Labs[1].Status, "service-free labs still grade")
}

// noDocker is a provider on a machine without a container engine.
type noDocker struct{}

func (noDocker) Acquire(context.Context, []catalog.Service) (services.Session, error) {
	return nil, fmt.Errorf("%w: connection refused (start Docker, or set DOCKER_HOST)", services.ErrNoDocker)
}

func TestDoctorPrintsRemediesAndFailsOnProblems(t *testing.T) {
	e := newEnv(t, starterGo)
	err := doctorRun(context.Background(), &DoctorOptions{IO: e.f.IO, Factory: e.f, Diagnose: func(context.Context, services.Images) []services.Finding {
		return []services.Finding{
			{Check: "Docker engine", OK: true, Detail: "Docker Engine 27"},
			{Check: "Free memory", OK: false, Detail: "1.0 GiB available", Remedy: "close other programs"},
		}
	}})
	assert.Equal(t, errChecksFailed, err)
	assert.Contains(t, e.out.String(), "✓ Docker engine")
	assert.Contains(t, e.out.String(), "✗ Free memory        1.0 GiB available")
	assert.Contains(t, e.out.String(), "→ close other programs")
	assert.Contains(t, e.out.String(), "1 problem(s) found")
}

func TestUpRejectsUnknownServices(t *testing.T) {
	e := newEnv(t, starterGo)
	assert.Equal(t, ExitError, e.run("up", "cassandra"))
	assert.Contains(t, e.err.String(), `unknown service "cassandra"`)
}

// replaceChecks makes the start/01 grader run the given check functions
// in place of its own (its harness still builds the learner's code).
func replaceChecks(e *env, checks map[string]grader.CheckFunc) {
	real := e.f.Grader
	e.f.Grader = func(id string) *grader.Lab {
		g := real(id)
		if g == nil || id != "start/01-logs-to-metrics" {
			return g
		}
		cp := *g
		cp.Checks = maps.Clone(g.Checks)
		maps.Copy(cp.Checks, checks)
		return &cp
	}
}

func startLab(t *testing.T, e *env) *catalog.Lab {
	t.Helper()
	c, err := e.f.Catalog()
	require.NoError(t, err)
	lab, err := c.ResolveLab("start/01")
	require.NoError(t, err)
	require.Len(t, lab.Checks, 3)
	return lab
}

// syncBuffer is a buffer that a check function may read while the
// command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCheckPrintsEachResultAsSoonAsItIsKnown(t *testing.T) {
	e := newEnv(t, starterGo)
	lab := startLab(t, e)
	out := &syncBuffer{}
	e.f.IO.Out = out
	firstLine := "✓ " + lab.Checks[0].Title
	replaceChecks(e, map[string]grader.CheckFunc{
		lab.Checks[0].ID: func(context.Context, *grader.Harness) error { return nil },
		// The second check passes only if the first one's result is
		// already on the screen while it runs.
		lab.Checks[1].ID: func(ctx context.Context, h *grader.Harness) error {
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(out.String(), firstLine) {
				if time.Now().After(deadline) {
					return grader.Failf("the first check's result was not printed while the second ran")
				}
				time.Sleep(10 * time.Millisecond)
			}
			return nil
		},
		lab.Checks[2].ID: func(context.Context, *grader.Harness) error { return grader.Failf("third fails") },
	})
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01", "--seed", "5"))
	text := out.String()
	assert.Contains(t, text, "✓ "+lab.Checks[1].Title)
	assert.Contains(t, text, "third fails")
	for _, c := range lab.Checks {
		assert.Equal(t, 1, strings.Count(text, "("+c.ID+", "), "each check is shown once: %s", c.ID)
	}
	assert.Contains(t, text, "2 of 3 checks pass")
}

// terminal is stdout and stderr sharing one screen, as on a terminal: it
// fails the test when stdout writes while stderr's live line is drawn.
type terminal struct {
	t     *testing.T
	mu    sync.Mutex
	dirty bool // stderr left a line without a newline or an erase
	err   bytes.Buffer
	out   bytes.Buffer
}

type termStream struct {
	term   *terminal
	stderr bool
}

func (s termStream) Write(p []byte) (int, error) {
	tm := s.term
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if !s.stderr {
		assert.False(tm.t, tm.dirty, "stdout wrote %q over the live line", p)
		return tm.out.Write(p)
	}
	text := string(p)
	tm.dirty = !(strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\r\x1b[K"))
	return tm.err.Write(p)
}

func TestCheckShowsALiveLineWhileACheckRuns(t *testing.T) {
	e := newEnv(t, starterGo)
	lab := startLab(t, e)
	tm := &terminal{t: t}
	e.f.IO.Out, e.f.IO.ErrOut = termStream{tm, false}, termStream{tm, true}
	slow := func(context.Context, *grader.Harness) error { time.Sleep(3 * liveEvery); return nil }
	replaceChecks(e, map[string]grader.CheckFunc{lab.Checks[0].ID: slow, lab.Checks[1].ID: slow})
	err := checkRun(context.Background(), &CheckOptions{IO: e.f.IO, Factory: e.f, Lab: "start/01", Repo: func() string { return "" }, Live: true, Invocation: "delab"})
	assert.Equal(t, errChecksFailed, err, "the third check still runs the starter, which fails")

	stderr := tm.err.String()
	assert.Contains(t, stderr, fmt.Sprintf("\r\x1b[K  … %s (%s)  0s of %s", lab.Checks[0].Title, lab.Checks[0].ID, lab.Checks[0].Timeout.D()))
	assert.Contains(t, stderr, fmt.Sprintf("  … %s (%s)", lab.Checks[1].Title, lab.Checks[1].ID))
	assert.True(t, strings.HasSuffix(stderr, "\r\x1b[K"), "the line is erased at the end: %q", stderr[max(0, len(stderr)-80):])
	assert.False(t, tm.dirty)
	assert.NotContains(t, tm.out.String(), "\r", "stdout holds the report only")
}

func TestCheckWithoutATerminalHasNoLiveLine(t *testing.T) {
	e := newEnv(t, starterGo)
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01"))
	assert.NotContains(t, e.err.String(), "\r")
	assert.NotContains(t, e.err.String(), "\x1b")
}

func TestReportsCarryTheSeedAndTheCommandThatReproducesTheRun(t *testing.T) {
	e := newEnv(t, starterGo)
	prefix := commandPrefix()

	assert.Equal(t, ExitChecksFail, e.run("check", "start/01", "--seed", "123456"))
	assert.Contains(t, e.out.String(), "seed: 123456 (reproduce: "+prefix+" check start/01 --seed 123456)")
	assert.Contains(t, e.out.String(), "sandbox: ")

	// Without --seed a fresh one is picked, shown, and reproduces the run.
	assert.Equal(t, ExitChecksFail, e.run("check", "logs-to-metrics"))
	m := regexp.MustCompile(`seed: (\d+)\s+\(reproduce: (.+)\)`).FindStringSubmatch(e.out.String())
	require.NotNil(t, m, e.out.String())
	assert.Equal(t, prefix+" check start/01 --seed "+m[1], m[2])
	generated := regexp.MustCompile(`generated access.log: .*`)
	first := generated.FindAllString(e.out.String(), -1)
	require.Len(t, first, 3)
	require.Equal(t, ExitChecksFail, e.run(strings.Fields(strings.TrimPrefix(m[2], prefix+" "))...))
	assert.Equal(t, first, generated.FindAllString(e.out.String(), -1), "the printed command reproduces the inputs")

	// From outside the checkout the command names it.
	e.f.Getwd = func() (string, error) { return t.TempDir(), nil }
	assert.Equal(t, ExitChecksFail, e.run("check", "start/01", "--seed", "7", "--repo", e.repo))
	assert.Contains(t, e.out.String(), "(reproduce: "+prefix+" check start/01 --seed 7 --repo "+e.repo+")")

	assert.Equal(t, ExitChecksFail, e.run("grade", "--lab", "start/01", "--seed", "99", "--repo", e.repo, "--format", "json"))
	var r report.Run
	require.NoError(t, json.Unmarshal(e.out.Bytes(), &r))
	assert.Equal(t, uint64(99), r.Seed)
	assert.Equal(t, prefix+" grade --seed 99 --repo "+e.repo+" --lab start/01", r.Command)
	require.Len(t, r.Labs, 1)
	assert.NotEmpty(t, r.Labs[0].Sandbox)
	assert.Equal(t, r.Labs[0].Sandbox, r.Sandbox)

	for format, want := range map[string]string{
		"markdown": "Seed `99`; reproduce with `" + prefix + " grade --seed 99 --repo " + e.repo + " --lab start/01`",
		"junit":    `<property name="command" value="` + prefix + ` grade --seed 99 --repo ` + e.repo + ` --lab start/01">`,
		"text":     "seed: 99 (reproduce: " + prefix + " grade --seed 99 --repo " + e.repo + " --lab start/01)",
	} {
		assert.Equal(t, ExitChecksFail, e.run("grade", "--lab", "start/01", "--seed", "99", "--repo", e.repo, "--format", format), format)
		assert.Contains(t, e.out.String(), want, format)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"start/01":           "start/01",
		"/home/ana/my delab": "'/home/ana/my delab'",
		"it's":               `'it'\''s'`,
		"":                   "''",
	} {
		assert.Equal(t, want, shellQuote(in), in)
	}
}

func TestACheckerErrorExitsTwo(t *testing.T) {
	e := newEnv(t, starterGo)
	lab := startLab(t, e)
	replaceChecks(e, map[string]grader.CheckFunc{
		lab.Checks[0].ID: func(context.Context, *grader.Harness) error { return errors.New("disk full") },
	})
	assert.Equal(t, ExitError, e.run("check", "start/01"), "a checker error is exit 2, even beside failed checks")
	assert.Contains(t, e.out.String(), "! "+lab.Checks[0].Title)
	assert.Contains(t, e.out.String(), "checker error (not your fault): disk full")
	assert.Contains(t, e.err.String(), "error: the checker or a service failed during a check (not your fault)")

	assert.Equal(t, ExitError, e.run("grade", "--lab", "start/01", "--format", "json"))
	var r report.Run
	require.NoError(t, json.Unmarshal(e.out.Bytes(), &r))
	assert.Equal(t, report.Error, r.Labs[0].Status)

	// Failed without errors stays 1.
	replaceChecks(e, map[string]grader.CheckFunc{
		lab.Checks[0].ID: func(context.Context, *grader.Harness) error { return grader.Failf("wrong") },
	})
	assert.Equal(t, ExitChecksFail, e.run("grade", "--lab", "start/01", "--format", "json"))
}

func TestLiveLineFitsTheWidthAndStepsAsideForOtherMessages(t *testing.T) {
	var buf syncBuffer
	l := startLiveLine(&buf, 20, time.Hour)
	l.set("a very long check title (some-check)", 30*time.Second)
	fmt.Fprintln(l, "services: kafka is ready")
	l.clear()
	l.close()
	l.close() // twice is harmless
	var nothing *liveLine
	nothing.set("x", 0) // no terminal: no line, no panic
	nothing.close()
	assert.Equal(t, "\r\x1b[K  … a very long che"+"\r\x1b[Kservices: kafka is ready\n\r\x1b[K  … a very long che"+"\r\x1b[K", buf.String())
}
