// Package engine grades labs. It builds the learner's package together
// with the lab's trusted harness into a separate binary, runs it in its own
// process for each check, and returns a report. It never prints: renderers
// in package report turn the result into text, JSON, JUnit or Markdown.
package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

// Engine grades labs. The zero value is usable.
type Engine struct {
	// GoBin is the go command used to build learner code; "go" when empty.
	GoBin string
	// BuildEnv is appended to the build environment (tests point GOCACHE elsewhere).
	BuildEnv []string
	// OutputLimit caps the learner output kept per run, in bytes (default 2048).
	OutputLimit int
	// PollEvery is how often resident memory is sampled (default 10ms).
	PollEvery time.Duration
	// StuckGrace is how long a check function may run on after the lab's
	// time limit or an interrupt before it is abandoned (default 30s).
	StuckGrace time.Duration
	// TempRoot is where run folders (and, without BuildRoot, build
	// folders) are made; os.TempDir() when empty.
	TempRoot string
	// BuildRoot, if set, holds one build folder per lab that is reused
	// from check to check, so that Go's build cache recompiles only what
	// changed (about 0.2s instead of 0.9s for a fresh folder).
	BuildRoot string
	// Seed makes generated inputs reproducible (golden tests); 0 picks a
	// fresh seed per check so a learner cannot hard-code answers.
	Seed uint64
	// Services provides the real systems a lab needs; nil means no Docker:
	// such labs are skipped with an explanation.
	Services services.Provider
	// Observer, if set, is told what happens while a lab is graded (see
	// Event), on the grading goroutine; the CLI shows progress with it.
	Observer func(Event)
	// Sandbox is where learner code runs: SandboxContainer (a throw-away
	// container per run; needs Docker) or SandboxProcess (a process tree
	// on this host), the default.
	Sandbox string
	// KeepDir, if set, keeps each graded lab's check folders (the inputs
	// the checker generated and what the learner's code wrote) in
	// KeepDir/<lab slug>-<seed>/ instead of removing them.
	KeepDir string
	// TrustedGoMod and TrustedGoSum, when TrustedGoMod is set, are the
	// go.mod and go.sum learner code is built against instead of the
	// ones in Source.ModuleDir (the student's checkout), so that a
	// student's replace directive or extra requirement never reaches the
	// build. `delab grade` sets them to the binary's own.
	TrustedGoMod, TrustedGoSum []byte
}

// Sandbox modes, as reports name them.
const (
	SandboxProcess   = "process"
	SandboxContainer = "container"
)

// newRunner makes the runner for one lab's grading in the chosen sandbox.
func (e *Engine) newRunner(ctx context.Context, built, work string, session services.Session) (grader.Runner, string, func(), error) {
	bin, err := installBinary(built, filepath.Join(work, "bin"))
	if err != nil {
		return nil, "", nil, err
	}
	share := filepath.Join(work, "checks")
	if err := os.MkdirAll(share, 0o711); err != nil {
		return nil, "", nil, err
	}
	if e.Sandbox == SandboxContainer {
		services.Prepare()
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return nil, "", nil, fmt.Errorf("container sandbox: %w", err)
		}
		if err := ensureSandboxImage(ctx, cli); err != nil {
			cli.Close()
			return nil, "", nil, fmt.Errorf("container sandbox: %w", err)
		}
		r := &containerRunner{cli: cli, bin: bin, workDir: work, shareDir: share, outputLimit: e.outputLimit(), pollEvery: max(e.pollEvery(), 20*time.Millisecond), network: "none"}
		if session != nil {
			// The learner's container joins the services' network and
			// reaches them by alias; it gets no other network.
			ep := session.Endpoints()
			r.network, r.serviceEnv = ep.Network, ep.InNetworkEnv()
		}
		return r, SandboxContainer, r.close, nil
	}
	r := &processRunner{bin: bin, workDir: work, shareDir: share, outputLimit: e.outputLimit(), pollEvery: e.pollEvery()}
	return r, SandboxProcess, func() {}, nil
}

// Source is where the learner's code for one lab is.
type Source struct {
	// Dir holds the learner's .go files.
	Dir string
	// ModuleDir holds the go.mod and go.sum whose requirements the build may use.
	ModuleDir string
	// Display is how Dir is named in messages, e.g. "labs/start/01-logs-to-metrics".
	Display string
}

func (s Source) display() string {
	if s.Display != "" {
		return s.Display
	}
	return s.Dir
}

func (e *Engine) goBin() string {
	if e.GoBin != "" {
		return e.GoBin
	}
	return "go"
}

// Grade builds and grades one lab. Learner failures, compile errors and
// checker errors all end up in the returned report; ctx cancellation
// (Ctrl-C) stops the running process, skips the remaining checks and marks
// the lab interrupted. Temporary files are always removed.
func (e *Engine) Grade(ctx context.Context, lab *catalog.Lab, g *grader.Lab, src Source) *report.Lab {
	start := time.Now()
	res := &report.Lab{ID: lab.ID, Title: lab.Title}
	defer func() {
		res.Finish()
		res.Duration = report.Sec(time.Since(start))
	}()
	ctx, cancel := context.WithTimeout(ctx, lab.Timeout.D())
	defer cancel()

	if missing := missingChecks(lab, g); len(missing) > 0 {
		e.allChecks(res, lab, report.Error, fmt.Sprintf("the grader has no function for check(s) %v", missing))
		return res
	}
	work, err := os.MkdirTemp(e.TempRoot, "delab-"+lab.Slug+"-*")
	if err != nil {
		e.allChecks(res, lab, report.Error, "create build folder: "+err.Error())
		return res
	}
	defer os.RemoveAll(work)
	if e.KeepDir != "" {
		// Deferred here, so it runs once the sandbox and the services are
		// done with the check folders, just before they would be removed.
		defer func() {
			keep, checks := filepath.Join(e.KeepDir, fmt.Sprintf("%s-%d", lab.Slug, e.Seed)), filepath.Join(work, "checks")
			_ = os.RemoveAll(keep) // an earlier run with this seed
			if os.MkdirAll(e.KeepDir, 0o755) == nil && os.Rename(checks, keep) != nil {
				_ = os.CopyFS(keep, os.DirFS(checks)) // another file system
			}
		}()
	}

	// Services start (or are found warm) while the learner's code compiles.
	type acquired struct {
		s   services.Session
		err error
	}
	acq := make(chan acquired, 1)
	if len(lab.Services) > 0 && e.Services != nil {
		go func() {
			s, err := e.Services.Acquire(ctx, lab.Services)
			acq <- acquired{s, err}
		}()
	}
	// release is called on every path once acquisition was started.
	var session services.Session
	release := func() {}
	if len(lab.Services) > 0 && e.Services != nil {
		release = func() {
			a := <-acq
			if a.s != nil {
				_ = a.s.Release(ctx)
			}
		}
	}
	defer func() { release() }()

	buildDir, unlock, err := e.buildDir(work, lab)
	if err != nil {
		e.allChecks(res, lab, report.Error, "prepare build folder: "+err.Error())
		return res
	}
	defer unlock()
	e.emit(Event{Kind: BuildStarted, Lab: lab.ID})
	bin, buildFail, err := e.build(ctx, buildDir, src, g)
	e.emit(Event{Kind: BuildDone, Lab: lab.ID, Build: buildFail})
	switch {
	case ctx.Err() != nil:
		e.interrupted(res, lab, ctx)
		return res
	case err != nil:
		e.allChecks(res, lab, report.Error, "build: "+err.Error())
		return res
	case buildFail != nil:
		res.Build = buildFail
		e.allChecks(res, lab, report.Failed, "not run: your code did not compile ("+buildFail.First+")")
		return res
	}

	if len(lab.Services) > 0 {
		if e.Services == nil {
			e.allChecks(res, lab, report.Skipped, "skipped: this lab needs Docker to run "+serviceList(lab.Services)+" (see `delab doctor`)")
			return res
		}
		a := <-acq
		release = func() {
			if a.s != nil {
				_ = a.s.Release(ctx)
			}
		}
		switch {
		case ctx.Err() != nil:
			e.interrupted(res, lab, ctx)
			return res
		case errors.Is(a.err, services.ErrNoDocker):
			e.allChecks(res, lab, report.Skipped, "skipped: this lab needs "+serviceList(lab.Services)+", and "+a.err.Error())
			return res
		case a.err != nil:
			e.allChecks(res, lab, report.Error, "could not start "+serviceList(lab.Services)+" (not your fault): "+a.err.Error())
			return res
		}
		session = a.s
	}

	runner, mode, closeRunner, err := e.newRunner(ctx, bin, work, session)
	if err != nil {
		e.allChecks(res, lab, report.Error, "prepare the sandbox: "+err.Error())
		return res
	}
	defer closeRunner()
	res.Sandbox = mode
	var hang *report.Check // the check that found the learner's code does not finish
	for i, c := range lab.Checks {
		if ctx.Err() != nil {
			e.interruptedFrom(res, lab, ctx, i)
			return res
		}
		if hang != nil {
			res.Checks = append(res.Checks, notRunAfterHang(lab, c, hang))
			continue
		}
		e.emit(Event{Kind: CheckStarted, Lab: lab.ID, CheckID: c.ID, Title: c.Title, Timeout: c.Timeout.D()})
		rc := e.runCheck(ctx, lab, c, g.Checks[c.ID], runner, work, session)
		res.Checks = append(res.Checks, rc)
		// With services a timeout may be the service's doing, so only
		// service-free labs stop early.
		if len(lab.Services) == 0 && hung(rc) {
			hang = rc
		}
		if session != nil && rc.Status != report.Passed && ctx.Err() == nil {
			// A failure while a service was down is the service's, not the learner's.
			if herr := session.Health(ctx); herr != nil {
				rc.Status, rc.Points, rc.Hint = report.Error, 0, ""
				rc.Message = "service failure (not your fault): " + herr.Error()
				e.emit(Event{Kind: CheckFinished, Lab: lab.ID, Check: rc})
				e.interruptedFrom(res, lab, ctx, i+1)
				res.Message = "a service stopped during grading: " + firstLine(herr.Error())
				return res
			}
		}
		e.emit(Event{Kind: CheckFinished, Lab: lab.ID, Check: rc})
	}
	if ctx.Err() != nil {
		e.interrupted(res, lab, ctx)
	}
	return res
}

func (e *Engine) runCheck(ctx context.Context, lab *catalog.Lab, c *catalog.Check, fn grader.CheckFunc, r grader.Runner, work string, session services.Session) (out *report.Check) {
	start := time.Now()
	out = &report.Check{ID: c.ID, Title: c.Title, MaxPoints: c.Points, Lesson: lab.Lesson, Section: c.Section}
	// Check folders live under checks/, the only part of the grading
	// folder that learner code may write to.
	dir, err := os.MkdirTemp(filepath.Join(work, "checks"), "check-"+c.ID+"-*")
	if err != nil {
		out.Status, out.Message = report.Error, err.Error()
		return out
	}
	var ep services.Endpoints
	if session != nil {
		ep = session.Endpoints()
	}
	h := grader.NewHarness(lab, c, r, dir, e.seedFor(c.ID), ep)
	if session != nil {
		h.Faults = session
	}
	abandoned := false
	defer func() {
		if abandoned {
			// The check function still runs: its cleanups may be what
			// unblocks it, but they must not hold the grading either.
			cleaned := make(chan struct{})
			go func() { defer close(cleaned); defer func() { _ = recover() }(); h.RunCleanups() }()
			select {
			case <-cleaned:
			case <-time.After(e.stuckGrace()):
			}
		} else {
			h.RunCleanups()
		}
		out.Duration = report.Sec(time.Since(start))
		out.Log = append([]string{}, h.Log()...)
		out.LearnerOutput = h.Output()
		if out.Status == report.Failed {
			out.Hint = c.Hints[0]
		}
		if out.Status == report.Passed {
			out.Points = c.Points
		}
	}()
	// The check runs on its own goroutine so that a grader call that does
	// not honour ctx (a service client without contexts, a stuck read)
	// cannot hold the grading past the lab's time limit: once ctx ends,
	// the check has stuckGrace to return before it is abandoned and
	// reported as the checker's error.
	type result struct {
		err   error
		panic any
		stack []byte
	}
	done := make(chan result, 1)
	go func() {
		var got result
		defer func() {
			if p := recover(); p != nil {
				got.panic, got.stack = p, debug.Stack()
			}
			done <- got
		}()
		got.err = fn(ctx, h)
	}()
	var got result
	select {
	case got = <-done:
	case <-ctx.Done():
		select {
		case got = <-done:
		case <-time.After(e.stuckGrace()):
			abandoned = true
			out.Status = report.Error
			out.Message = fmt.Sprintf("the checker did not stop within %s of the lab's time limit or an interrupt (not your fault): %v", e.stuckGrace(), context.Cause(ctx))
			h.Logf("abandoned the check; its goroutines:\n%s", stuckStacks())
			return out
		}
	}
	if got.panic != nil {
		out.Status = report.Error
		out.Message = fmt.Sprintf("the checker itself crashed (not your fault): %v", got.panic)
		h.Logf("%s", got.stack)
		return out
	}
	err = got.err
	var f *grader.Failure
	switch {
	case err == nil:
		out.Status = report.Passed
	case ctx.Err() != nil:
		out.Status, out.Message = report.Skipped, "interrupted"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			out.Status, out.Message = report.Failed, fmt.Sprintf("the lab's time limit (%s) ran out during this check", lab.Timeout.D())
		}
	case errors.As(err, &f):
		out.Status, out.Message, out.Expected, out.Actual = report.Failed, f.Message, f.Expected, f.Actual
	default:
		out.Status, out.Message = report.Error, "checker error (not your fault): "+err.Error()
	}
	return out
}

func (e *Engine) allChecks(res *report.Lab, lab *catalog.Lab, st report.Status, msg string) {
	for _, c := range lab.Checks {
		rc := &report.Check{ID: c.ID, Title: c.Title, Status: st, MaxPoints: c.Points, Message: msg, Lesson: lab.Lesson, Section: c.Section, Log: []string{}}
		res.Checks = append(res.Checks, rc)
	}
	if st != report.Failed {
		res.Message = msg
	}
}

func (e *Engine) interrupted(res *report.Lab, lab *catalog.Lab, ctx context.Context) {
	e.interruptedFrom(res, lab, ctx, len(res.Checks))
}

func (e *Engine) interruptedFrom(res *report.Lab, lab *catalog.Lab, ctx context.Context, from int) {
	msg := "interrupted before this check ran"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg = fmt.Sprintf("the lab's time limit (%s) ran out before this check ran", lab.Timeout.D())
	}
	st := report.Skipped
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		st = report.Failed
	}
	for _, c := range lab.Checks[min(from, len(lab.Checks)):] {
		res.Checks = append(res.Checks, &report.Check{ID: c.ID, Title: c.Title, Status: st, MaxPoints: c.Points, Message: msg, Lesson: lab.Lesson, Section: c.Section, Log: []string{}})
	}
	if st == report.Skipped {
		res.Message = "interrupted"
	}
}

func missingChecks(lab *catalog.Lab, g *grader.Lab) []string {
	var missing []string
	for _, c := range lab.Checks {
		if g.Checks[c.ID] == nil {
			missing = append(missing, c.ID)
		}
	}
	return missing
}

func (e *Engine) outputLimit() int {
	if e.OutputLimit > 0 {
		return e.OutputLimit
	}
	return 2048
}

func (e *Engine) stuckGrace() time.Duration {
	if e.StuckGrace > 0 {
		return e.StuckGrace
	}
	return 30 * time.Second
}

// stuckStacks is every goroutine's stack, cut to a size a report can
// hold: what an abandoned check was blocked on.
func stuckStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	const most = 64 << 10
	if len(buf) > most {
		return string(buf[:most]) + "\n[... cut]"
	}
	return string(buf)
}

func (e *Engine) pollEvery() time.Duration {
	if e.PollEvery > 0 {
		return e.PollEvery
	}
	return 10 * time.Millisecond
}

func serviceList(s []catalog.Service) string {
	var names []string
	for _, x := range s {
		name := string(x)
		if d := services.Lookup(x); d != nil {
			name = d.Title
		}
		names = append(names, name)
	}
	return strings.Join(names, " and ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// SourceFor returns the Source of a lab inside a repository checkout.
func SourceFor(repoRoot string, lab *catalog.Lab) Source {
	return Source{Dir: filepath.Join(repoRoot, filepath.FromSlash(lab.Dir)), ModuleDir: repoRoot, Display: lab.Dir}
}

// seedFor derives a per-check seed: fixed when Engine.Seed is set, fresh otherwise.
func (e *Engine) seedFor(checkID string) uint64 {
	if e.Seed == 0 {
		return rand.Uint64()
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", e.Seed, checkID)
	return h.Sum64()
}
