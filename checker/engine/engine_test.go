package engine

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

const repoRoot = "../.."

// answerLab is a one-check lab: Run(path) must write "42" to path.
func answerLab(checkTimeout time.Duration) (*catalog.Lab, *grader.Lab) {
	lab := &catalog.Lab{
		ID: "test/01-answer", Track: "test", Number: "01", Slug: "answer", Dir: "labs/test/01-answer",
		Title: "Answer", Lesson: "test/00-lesson", Package: "learner", Timeout: catalog.Duration(time.Minute),
		Checks: []*catalog.Check{{
			ID: "answer", Title: "The answer file holds 42", Points: 1,
			Timeout: catalog.Duration(checkTimeout), Memory: 64 << 20,
			Section: "Answers", Hints: []string{"write 42 to the file"},
		}},
	}
	g := &grader.Lab{
		ID: lab.ID,
		Harness: `package main

import learner "delab.local/work/learner"

func main() {
	args := delabStart()
	delabReturn(learner.Run(args[0]), nil)
}
`,
		Checks: map[string]grader.CheckFunc{"answer": func(ctx context.Context, h *grader.Harness) error {
			out := h.Path("answer")
			h.Logf("running Run(%q)", "answer")
			if _, err := h.Run(ctx, grader.RunOptions{Args: []string{out}}); err != nil {
				return err
			}
			data, err := os.ReadFile(out)
			if err != nil {
				return grader.Failf("Run returned but wrote no answer file")
			}
			if string(data) != "42" {
				return grader.Mismatch("wrong answer", "42", string(data))
			}
			return nil
		}},
	}
	return lab, g
}

func grade(t *testing.T, ctx context.Context, learner string, checkTimeout time.Duration) (*report.Lab, string) {
	t.Helper()
	lab, g := answerLab(checkTimeout)
	tmp := t.TempDir()
	e := &Engine{TempRoot: tmp}
	res := e.Grade(ctx, lab, g, Source{Dir: filepath.Join("testdata", "learners", learner), ModuleDir: repoRoot, Display: lab.Dir})
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, left, "the engine must remove its build and run folders")
	return res, tmp
}

func TestIsolation(t *testing.T) {
	tests := []struct {
		name        string
		learner     string
		wantStatus  report.Status
		wantMessage string
		wantOutput  string
		maxDuration time.Duration
	}{
		{name: "correct code passes", learner: "ok", wantStatus: report.Passed},
		{name: "panic", learner: "panic", wantStatus: report.Failed, wantMessage: "your code panicked: assignment to entry in nil map", wantOutput: "panic: assignment to entry in nil map"},
		{name: "panic in a goroutine", learner: "goroutinepanic", wantStatus: report.Failed, wantMessage: "your code panicked: boom in a goroutine"},
		{name: "hang", learner: "hang", wantStatus: report.Failed, wantMessage: "did not finish within 2s", maxDuration: 10 * time.Second},
		{name: "os.Exit(0) after writing the right answer", learner: "exit0", wantStatus: report.Failed, wantMessage: "ended the process (os.Exit or log.Fatal?) before returning"},
		{name: "forged result without the nonce", learner: "fakeresult", wantStatus: report.Failed, wantMessage: "ended the process"},
		{name: "out of memory", learner: "oom", wantStatus: report.Failed, wantMessage: "used more than 64.0 MiB of memory"},
		{name: "output imitating the checker's report", learner: "fakereport", wantStatus: report.Failed, wantMessage: "Run returned but wrote no answer file", wantOutput: "1/1 points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res, _ := grade(t, context.Background(), tt.learner, 2*time.Second)
			require.Len(t, res.Checks, 1)
			c := res.Checks[0]
			assert.Equal(t, tt.wantStatus, c.Status, "message: %s", c.Message)
			assert.Equal(t, tt.wantStatus, res.Status)
			assert.Contains(t, c.Message, tt.wantMessage)
			assert.Contains(t, c.LearnerOutput, tt.wantOutput)
			if tt.wantStatus == report.Failed {
				assert.Equal(t, "write 42 to the file", c.Hint)
				assert.Equal(t, 0, res.Points)
			} else {
				assert.Equal(t, 1, res.Points)
			}
			if tt.maxDuration > 0 {
				assert.Less(t, time.Since(start), tt.maxDuration)
			}
		})
	}
}

func TestImitatedReportIsShownAsLearnerOutput(t *testing.T) {
	res, _ := grade(t, context.Background(), "fakereport", 5*time.Second)
	var b bytes.Buffer
	require.NoError(t, report.WriteText(&b, &report.Run{Labs: []*report.Lab{res}}, report.TextOptions{}))
	out := b.String()
	assert.Contains(t, out, "[your code]   ✓ The answer file holds 42  (answer, 1/1)")
	assert.Contains(t, out, "[your code] PASS")
	assert.Contains(t, out, "0/1 points")
	for _, ln := range strings.Split(out, "\n") {
		if strings.Contains(ln, "PASS") {
			assert.True(t, strings.HasPrefix(strings.TrimSpace(ln), "[your code]"), "learner text must stay under its prefix: %q", ln)
		}
	}
}

func TestCompileErrorPointsAtTheLearnersFile(t *testing.T) {
	res, _ := grade(t, context.Background(), "compileerror", 5*time.Second)
	require.NotNil(t, res.Build)
	assert.Equal(t, report.Failed, res.Status)
	assert.Contains(t, res.Build.First, "labs/test/01-answer/learner.go:7:")
	assert.NotContains(t, res.Build.Output, "delab.local")
	assert.Contains(t, res.Checks[0].Message, "did not compile")
}

func TestMissingFunctionBlamesTheSignatureNotTheHarness(t *testing.T) {
	res, _ := grade(t, context.Background(), "renamed", 5*time.Second)
	require.NotNil(t, res.Build)
	assert.Contains(t, res.Build.Output, "delab's harness (the code that calls yours)")
	assert.Contains(t, res.Build.Output, "undefined: learner.Run")
	assert.Contains(t, res.Build.Output, "function names and signatures")
}

// wrapAnswer wraps the learner's Answer: 41 becomes 42.
var wrapAnswer = &grader.Wrap{Funcs: []string{"Answer"}, Source: `package anything

func Answer() string {
	if a := delabWrappedAnswer(); a != "41" {
		return a
	}
	return "42"
}
`}

func gradeWrapped(t *testing.T, learner string) *report.Lab {
	t.Helper()
	lab, g := answerLab(time.Minute)
	g.Wrap = wrapAnswer
	e := &Engine{TempRoot: t.TempDir()}
	return e.Grade(context.Background(), lab, g, Source{Dir: filepath.Join("testdata", "learners", learner), ModuleDir: repoRoot, Display: lab.Dir})
}

// TestWrapSeesTheLearnersOwnCalls: Run's call of Answer, inside the
// learner's package, goes through the lab's wrapper.
func TestWrapSeesTheLearnersOwnCalls(t *testing.T) {
	res := gradeWrapped(t, "wrapped")
	require.Nil(t, res.Build)
	assert.Equal(t, report.Passed, res.Checks[0].Status, res.Checks[0].Message)
}

// TestWrapOfAnotherSignatureBlamesTheSignature: a wrapped function whose
// signature is not the starter's is the learner's compile error, told in
// the learner's names, not the renamed ones.
func TestWrapOfAnotherSignatureBlamesTheSignature(t *testing.T) {
	res := gradeWrapped(t, "wrappedbadsig")
	require.NotNil(t, res.Build)
	assert.Contains(t, res.Build.Output, "delab's harness (the code that calls yours)")
	assert.Contains(t, res.Build.Output, "Answer")
	assert.NotContains(t, res.Build.Output, grader.WrappedPrefix)
	assert.NotContains(t, res.Build.Output, grader.WrapFile)
}

func TestChildProcessesAreKilledWithTheLearner(t *testing.T) {
	lab, g := answerLab(2 * time.Second)
	var pidFile string
	inner := g.Checks["answer"]
	g.Checks["answer"] = func(ctx context.Context, h *grader.Harness) error {
		pidFile = h.Path("answer") + ".pid"
		err := inner(ctx, h)
		data, rerr := os.ReadFile(pidFile)
		require.NoError(t, rerr)
		pid, _ := strconv.Atoi(string(data))
		// The group was killed; the child is gone (or a zombie about to be reaped by init).
		assert.Eventually(t, func() bool { return !alive(pid) }, 3*time.Second, 50*time.Millisecond, "child %d survived", pid)
		return err
	}
	start := time.Now()
	res := (&Engine{TempRoot: t.TempDir()}).Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/childhang", ModuleDir: repoRoot})
	assert.Equal(t, report.Failed, res.Status)
	assert.Contains(t, res.Checks[0].Message, "did not finish")
	assert.Less(t, time.Since(start), 15*time.Second, "a child holding stdout must not stall the checker")
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(stat), ") Z ")
}

func TestCancellationStopsTheRunAndCleansUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	lab, g := answerLab(time.Minute)
	inner := g.Checks["answer"]
	g.Checks["answer"] = func(ctx context.Context, h *grader.Harness) error {
		time.AfterFunc(300*time.Millisecond, cancel) // Ctrl-C while the learner's code hangs
		return inner(ctx, h)
	}
	tmp := t.TempDir()
	start := time.Now()
	res := (&Engine{TempRoot: tmp}).Grade(ctx, lab, g, Source{Dir: "testdata/learners/hang", ModuleDir: repoRoot})
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Equal(t, report.Skipped, res.Checks[0].Status, res.Checks[0].Message)
	assert.Equal(t, "interrupted", res.Message)
	assert.Equal(t, 0, res.Points)
	left, _ := os.ReadDir(tmp)
	assert.Empty(t, left)
}

func TestGraderPanicIsACheckerErrorNotTheLearnersFault(t *testing.T) {
	lab, g := answerLab(time.Second)
	g.Checks["answer"] = func(ctx context.Context, h *grader.Harness) error { panic("bug in grader") }
	res := (&Engine{TempRoot: t.TempDir()}).Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/ok", ModuleDir: repoRoot})
	assert.Equal(t, report.Error, res.Checks[0].Status)
	assert.Contains(t, res.Checks[0].Message, "not your fault")
	assert.Empty(t, res.Checks[0].Hint)
}

// A grader call that ignores ctx (colinmarc/hdfs takes no context) must
// not hold the grading past the lab's time limit: the check is abandoned
// after StuckGrace and reported as the checker's error, with the stacks.
func TestStuckCheckerIsAbandonedAfterTheTimeLimit(t *testing.T) {
	lab, g := answerLab(time.Second)
	lab.Timeout = catalog.Duration(2 * time.Second)
	never := make(chan struct{})
	defer close(never)
	cleaned := make(chan struct{})
	g.Checks["answer"] = func(ctx context.Context, h *grader.Harness) error {
		h.Cleanup(func() { close(cleaned) })
		h.Logf("about to block without ctx")
		<-never
		return nil
	}
	start := time.Now()
	res := (&Engine{TempRoot: t.TempDir(), StuckGrace: 500 * time.Millisecond}).Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/ok", ModuleDir: repoRoot})
	took := time.Since(start)
	assert.Less(t, took, 20*time.Second)
	assert.GreaterOrEqual(t, took, 2*time.Second, "not abandoned before the time limit")
	c := res.Checks[0]
	assert.Equal(t, report.Error, c.Status)
	assert.Contains(t, c.Message, "did not stop within 500ms")
	assert.Contains(t, c.Message, "not your fault")
	assert.Empty(t, c.Hint)
	require.Len(t, c.Log, 2)
	assert.Equal(t, "about to block without ctx", c.Log[0])
	assert.Contains(t, c.Log[1], "TestStuckCheckerIsAbandonedAfterTheTimeLimit", "the log holds the stuck goroutine's stack")
	select {
	case <-cleaned:
	default:
		t.Fatal("the abandoned check's cleanups did not run")
	}
}

func TestEmptyLabFolder(t *testing.T) {
	lab, g := answerLab(time.Second)
	res := (&Engine{TempRoot: t.TempDir()}).Grade(context.Background(), lab, g, Source{Dir: t.TempDir(), ModuleDir: repoRoot, Display: lab.Dir})
	require.NotNil(t, res.Build)
	assert.Contains(t, res.Build.Output, "no Go files found")
	assert.Contains(t, res.Build.Output, "delab reset")
}

func TestOutputIsCapped(t *testing.T) {
	c := &cappedBuffer{limit: 10}
	_, _ = c.Write([]byte("0123456789abcdef"))
	_, _ = c.Write([]byte("more"))
	assert.Equal(t, "0123456789\n… (10 more bytes not shown)\n", c.String())
}

func TestStableBuildFolderIsReusedAndRefreshed(t *testing.T) {
	lab, g := answerLab(5 * time.Second)
	root := t.TempDir()
	e := &Engine{TempRoot: t.TempDir(), BuildRoot: root}
	learner := t.TempDir()
	copyTree(t, "testdata/learners/ok", learner)
	require.NoError(t, os.WriteFile(filepath.Join(learner, "extra.go"), []byte("package learner\n\nfunc helper() {}\n"), 0o644))
	res := e.Grade(context.Background(), lab, g, Source{Dir: learner, ModuleDir: repoRoot})
	require.Equal(t, report.Passed, res.Status)
	_, err := os.Stat(filepath.Join(root, "test_01-answer", "learner", "extra.go"))
	require.NoError(t, err, "the build folder is kept for the next check")

	// The learner deletes a file and breaks another: the reused folder must not keep the old copy.
	require.NoError(t, os.Remove(filepath.Join(learner, "extra.go")))
	copyTree(t, "testdata/learners/compileerror", learner)
	res = e.Grade(context.Background(), lab, g, Source{Dir: learner, ModuleDir: repoRoot, Display: lab.Dir})
	require.NotNil(t, res.Build)
	_, err = os.Stat(filepath.Join(root, "test_01-answer", "learner", "extra.go"))
	assert.True(t, os.IsNotExist(err), "deleted learner files are gone from the build folder")
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), data, 0o644))
	}
}

func TestStartedProcessesRunTogetherAndAreStopped(t *testing.T) {
	lab, g := answerLab(time.Minute)
	var second *grader.Process
	var checkErr error
	g.Checks["answer"] = func(ctx context.Context, h *grader.Harness) error {
		outs := []string{h.Path("one"), h.Path("two")}
		first := h.Start(ctx, grader.RunOptions{Args: outs[:1]})
		second = h.Start(ctx, grader.RunOptions{Args: outs[1:]})
		// Both write their file and then never return: both run at once.
		for _, out := range outs {
			if !assert.Eventually(t, func() bool { _, err := os.Stat(out); return err == nil }, 20*time.Second, 20*time.Millisecond, out) {
				return nil
			}
		}
		assert.True(t, first.Running())
		first.Stop()
		_, checkErr = first.Wait()
		assert.False(t, first.Running())
		assert.True(t, second.Running(), "stopping one process leaves the other")
		return nil // the check ends with the second still running
	}
	res := (&Engine{TempRoot: t.TempDir()}).Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/hang", ModuleDir: repoRoot})
	assert.Equal(t, report.Passed, res.Status, res.Checks[0].Message)
	assert.ErrorIs(t, checkErr, grader.ErrStopped)
	require.NotNil(t, second)
	assert.False(t, second.Running(), "the engine stops what a check left running")
	_, err := second.Wait()
	assert.ErrorIs(t, err, grader.ErrStopped)
}

func TestStartedProcessReportsHowItEnded(t *testing.T) {
	for _, tt := range []struct{ learner, wantErr string }{{"ok", ""}, {"panic", "your code panicked"}} {
		lab, g := answerLab(time.Minute)
		var err error
		g.Checks["answer"] = func(ctx context.Context, h *grader.Harness) error {
			p := h.Start(ctx, grader.RunOptions{Args: []string{h.Path("answer")}})
			select {
			case <-p.Done():
			case <-time.After(20 * time.Second):
				t.Errorf("%s: the process did not end by itself", tt.learner)
			}
			p.Stop() // after the end: changes nothing
			_, err = p.Wait()
			return nil
		}
		(&Engine{TempRoot: t.TempDir()}).Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/" + tt.learner, ModuleDir: repoRoot})
		if tt.wantErr == "" {
			assert.NoError(t, err, tt.learner)
		} else {
			var f *grader.Failure
			require.ErrorAs(t, err, &f, tt.learner)
			assert.Contains(t, f.Message, tt.wantErr)
		}
	}
}

// threeCheckLab is answerLab with three checks that all run the learner's
// Run: the first with a short limit, the others with long ones.
func threeCheckLab(first time.Duration) (*catalog.Lab, *grader.Lab) {
	lab, g := answerLab(first)
	fn := g.Checks["answer"]
	for _, id := range []string{"second", "third"} {
		c := *lab.Checks[0]
		c.ID, c.Title, c.Timeout = id, "The "+id+" check", catalog.Duration(time.Minute)
		lab.Checks = append(lab.Checks, &c)
		g.Checks[id] = fn
	}
	return lab, g
}

func TestAHangStopsTheLaterChecksEarly(t *testing.T) {
	lab, g := threeCheckLab(2 * time.Second)
	var events []Event
	e := &Engine{TempRoot: t.TempDir(), Observer: func(ev Event) { events = append(events, ev) }}
	start := time.Now()
	res := e.Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/hang", ModuleDir: repoRoot})
	assert.Less(t, time.Since(start), 30*time.Second, "later checks must not wait out their one-minute limits")

	require.Len(t, res.Checks, 3)
	assert.Equal(t, report.Failed, res.Checks[0].Status)
	assert.Contains(t, res.Checks[0].Message, "your code did not finish within 2s")
	for _, c := range res.Checks[1:] {
		assert.Equal(t, report.Failed, c.Status, c.ID)
		assert.Equal(t, "not run: an earlier check (answer) found that your code does not finish; fix that first", c.Message, c.ID)
		assert.Equal(t, 0, c.Points)
		assert.NotNil(t, c.Log, "the JSON schema requires a log")
	}
	assert.Equal(t, report.Failed, res.Status)

	// The observer saw the build and the check that ran, in order; checks
	// that were not run are only in the report.
	var kinds []string
	for _, ev := range events {
		assert.Equal(t, lab.ID, ev.Lab)
		kinds = append(kinds, string(ev.Kind)+" "+ev.CheckID)
	}
	assert.Equal(t, []string{"build started ", "build done ", "check started answer", "check finished "}, kinds)
	require.Len(t, events, 4)
	assert.Nil(t, events[1].Build)
	assert.Equal(t, 2*time.Second, events[2].Timeout)
	assert.Equal(t, "The answer file holds 42", events[2].Title)
	assert.Same(t, res.Checks[0], events[3].Check, "the finished event carries the reported check")
}

func TestEveryCheckRunsWhenNothingHangs(t *testing.T) {
	lab, g := threeCheckLab(30 * time.Second)
	var finished []string
	e := &Engine{TempRoot: t.TempDir(), Observer: func(ev Event) {
		if ev.Kind == CheckFinished {
			finished = append(finished, ev.Check.ID+" "+string(ev.Check.Status))
		}
	}}
	res := e.Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/panic", ModuleDir: repoRoot})
	assert.Equal(t, []string{"answer failed", "second failed", "third failed"}, finished, "a crash is not a hang: every check runs")
	for _, c := range res.Checks {
		assert.Contains(t, c.Message, "your code panicked", c.ID)
	}
}

func TestAHangInALabWithServicesDoesNotStopItEarly(t *testing.T) {
	lab, g := threeCheckLab(time.Second)
	lab.Services = []catalog.Service{catalog.Kafka}
	ran := 0
	for _, id := range []string{"second", "third"} {
		// These checks need no learner run: that they pass shows they ran.
		g.Checks[id] = func(context.Context, *grader.Harness) error { ran++; return nil }
	}
	e := &Engine{TempRoot: t.TempDir(), Services: fakeProvider{}}
	res := e.Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/hang", ModuleDir: repoRoot})
	require.Len(t, res.Checks, 3)
	assert.Contains(t, res.Checks[0].Message, "your code did not finish within 1s")
	assert.Equal(t, 2, ran, "with services a timeout may be the service's doing, so later checks still run")
	assert.Equal(t, report.Passed, res.Checks[1].Status)
	assert.Equal(t, report.Passed, res.Checks[2].Status)
}

func TestACompileErrorIsObservedWithItsFirstLine(t *testing.T) {
	lab, g := answerLab(5 * time.Second)
	var events []Event
	e := &Engine{TempRoot: t.TempDir(), Observer: func(ev Event) { events = append(events, ev) }}
	res := e.Grade(context.Background(), lab, g, Source{Dir: "testdata/learners/compileerror", ModuleDir: repoRoot, Display: lab.Dir})
	require.Len(t, events, 2, "no check events when nothing ran")
	assert.Equal(t, BuildDone, events[1].Kind)
	require.NotNil(t, events[1].Build)
	assert.Equal(t, res.Build.First, events[1].Build.First)
}

// fakeProvider hands out a session whose services are always healthy.
type fakeProvider struct{}

func (fakeProvider) Acquire(context.Context, []catalog.Service) (services.Session, error) {
	return fakeSession{}, nil
}

type fakeSession struct{}

func (fakeSession) Endpoints() services.Endpoints                                 { return services.Endpoints{} }
func (fakeSession) Health(context.Context) error                                  { return nil }
func (fakeSession) Release(context.Context) error                                 { return nil }
func (fakeSession) Restart(context.Context, catalog.Service, time.Duration) error { return nil }
func (fakeSession) StopNode(context.Context, catalog.Service, int) error          { return nil }
func (fakeSession) StartNode(context.Context, catalog.Service, int) error         { return nil }
func (fakeSession) Exec(context.Context, catalog.Service, ...string) (string, error) {
	return "", nil
}
