// Package grader is the API a lab's trusted grader is written against: a
// Lab value (harness source, pristine starter, one function per check) and
// the Harness each check function receives. The engine implements the
// process side; graders never run learner code in their own process.
package grader

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/endpoints"
)

// LearnerImport is the import path under which the learner's package is
// built; a lab's harness source imports it (usually as "learner").
const LearnerImport = "delab.local/work/learner"

// Lab is the trusted half of a lab.
type Lab struct {
	// ID matches the catalog id, e.g. "start/01-logs-to-metrics". The
	// registry (checker/registry) sets it from the grader's folder.
	ID string
	// Harness is the source of a Go main package that calls the learner's
	// code through LearnerImport, using delabStart and delabReturn from the
	// engine's kit to receive arguments and report what the code returned.
	Harness string
	// Starter is the pristine starter code as a txtar archive, used by
	// `delab reset` and by the proof that the untouched starter fails.
	Starter []byte
	// Checks implements each check id listed in the lab's lab.yaml.
	Checks map[string]CheckFunc
	// Kits names the services whose client kits the engine compiles into
	// the harness ("kafka", "hdfs", "spark"): each adds a function that
	// builds a ready client from the endpoints, so no learner fights
	// container networking. The registry (checker/registry) sets it to the
	// services the lab's lab.yaml lists.
	Kits []string
	// Wrap, when set, lets the harness see the calls the learner's own
	// code makes to some of its functions (Measure calling Encode).
	Wrap *Wrap
}

// WrappedPrefix is what the build puts before the name of each function a
// Wrap lists: the learner's func Encode becomes delabWrappedEncode.
const WrappedPrefix = "delabWrapped"

// Wrap puts trusted wrappers between the learner's code and some of its
// own top-level functions. The build renames the learner's declaration of
// each function in Funcs to WrappedPrefix+name (in place, so that line
// numbers in compile errors stay the learner's) and compiles Source into
// the learner's package as WrapFile, with its package clause replaced by
// the learner's. Source declares each function in Funcs again, calling the
// renamed one, so every call goes through it: the harness's, and the
// learner's own from inside the package.
type Wrap struct {
	Funcs  []string
	Source string
}

// WrapFile is the name Wrap.Source has in the learner's package.
const WrapFile = "delab_wrap.go"

// CheckFunc grades one check. It returns nil when the check passes, a
// *Failure when the learner's code is at fault, and any other error when
// the checker or a service failed (never charged to the learner).
type CheckFunc func(ctx context.Context, h *Harness) error

// Failure is a failed check, with the evidence to show the learner.
type Failure struct {
	Message  string
	Expected string
	Actual   string
}

func (f *Failure) Error() string { return f.Message }

// Failf returns a Failure with a formatted message.
func Failf(format string, args ...any) *Failure {
	return &Failure{Message: fmt.Sprintf(format, args...)}
}

// Mismatch returns a Failure that shows expected and actual values.
func Mismatch(message string, expected, actual any) *Failure {
	return &Failure{Message: message, Expected: fmt.Sprint(expected), Actual: fmt.Sprint(actual)}
}

// RunOptions describe one run of the learner's code.
type RunOptions struct {
	// Args are passed to the harness, which passes them on to the learner's code.
	Args []string
	// Stdin is fed to the process; nil means empty input.
	Stdin io.Reader
	// Dir is the working directory; empty means a fresh temporary directory.
	Dir string
	// Timeout overrides the check's timeout when positive.
	Timeout time.Duration
	// Memory overrides the check's memory limit (bytes) when positive.
	Memory int64
	// AllowError accepts a returned error as a normal outcome (for checks
	// that expect the learner's code to reject bad input).
	AllowError bool
	// Env adds variables to the learner's process (service endpoints are added by the harness).
	Env []string
}

// Result is what one run produced, as observed by the engine.
type Result struct {
	// Err is the error the learner's code returned, "" for nil.
	Err string
	// Value is the JSON the harness captured from the learner's return values, if any.
	Value json.RawMessage
	// Output is what the process printed, capped.
	Output string
	// PeakRSS is the highest resident memory seen, in bytes.
	PeakRSS int64
	// Duration is the wall time of the run.
	Duration time.Duration
}

// Runner runs the built learner binary; the engine implements it.
type Runner interface {
	Run(ctx context.Context, opts RunOptions) (*Result, error)
}

// Faults is how a check breaks a service on purpose, to grade code that
// must survive it. The engine passes its services session.
type Faults interface {
	// Restart kills the service's main process as a crash would, keeps
	// it down for the given time, and returns once it runs again (same
	// addresses).
	Restart(ctx context.Context, svc catalog.Service, down time.Duration) error
	// StopNode kills node i of the service (HDFS: DataNode i, 0-based,
	// transfer port 9866+10i) with SIGKILL, as a crash would, and
	// returns once the service has noticed (the NameNode declared it
	// dead). It stays down until StartNode, which starts it again (same
	// ports, same data) and returns once the service counts it again. A
	// check that stops a node starts it again in a Cleanup, so that the
	// next check finds the whole service.
	StopNode(ctx context.Context, svc catalog.Service, i int) error
	StartNode(ctx context.Context, svc catalog.Service, i int) error
	// Exec runs one of the service's own tools in its container ("hdfs",
	// "fsck", path, "-files", "-blocks", "-locations") and returns what
	// it printed (stdout and stderr, at most 1 MiB), with an error when
	// it could not run or exited non-zero.
	Exec(ctx context.Context, svc catalog.Service, cmd ...string) (string, error)
}

// Harness is what a check function uses to run the learner's code and to
// say what it did. Its log lines become the check's transcript.
type Harness struct {
	// Check is the catalog entry being graded (limits, hints).
	Check *catalog.Check
	// Lab is the catalog entry of the lab being graded.
	Lab *catalog.Lab

	runner  Runner
	tempDir string
	seed    uint64
	// Endpoints of the lab's services, zero for service-free labs.
	Endpoints endpoints.Endpoints
	// Faults injects failures into the lab's services; nil for
	// service-free labs.
	Faults Faults
	log    []string
	// mu guards output and log: processes started with Start end
	// concurrently, and an abandoned check may still log.
	mu       sync.Mutex
	output   []string
	cleanups []func()
}

// NewHarness is used by the engine (and tests) to prepare a check's harness.
func NewHarness(lab *catalog.Lab, check *catalog.Check, r Runner, tempDir string, seed uint64, ep endpoints.Endpoints) *Harness {
	return &Harness{Lab: lab, Check: check, runner: r, tempDir: tempDir, seed: seed, Endpoints: ep}
}

// Unique returns prefix plus a random suffix ("-u" and eight hex digits),
// for topic, path and table names that no other check or run shares.
func (h *Harness) Unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = cryptorand.Read(b)
	return fmt.Sprintf("%s-u%x", prefix, b)
}

// Seed returns the seed a check uses to generate its inputs: fixed in
// golden tests, fresh in real grading so answers cannot be hard-coded.
func (h *Harness) Seed() uint64 { return h.seed }

// Logf records one line of what the checker is doing.
func (h *Harness) Logf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = append(h.log, fmt.Sprintf(format, args...))
}

// TempDir returns a directory private to this check, removed afterwards.
func (h *Harness) TempDir() string { return h.tempDir }

// Path joins elements under the check's temporary directory.
func (h *Harness) Path(elem ...string) string {
	return filepath.Join(append([]string{h.tempDir}, elem...)...)
}

// Run runs the learner's code in its own process. A panic, timeout,
// exceeded memory limit, premature exit or (unless AllowError) returned
// error comes back as a *Failure explaining it; the learner's output is
// kept for the report either way.
func (h *Harness) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = h.Check.Timeout.D()
	}
	if opts.Memory <= 0 {
		opts.Memory = int64(h.Check.Memory)
	}
	opts.Env = append(append([]string{}, opts.Env...), h.Endpoints.Env()...)
	res, err := h.runner.Run(ctx, opts)
	if res != nil && res.Output != "" {
		h.mu.Lock()
		h.output = append(h.output, res.Output)
		h.mu.Unlock()
	}
	return res, err
}

// ErrStopped is what Process.Wait returns for a process the check stopped
// itself with Stop.
var ErrStopped = errors.New("stopped by the checker")

// Process is the learner's code running in the background: a consumer, a
// service, anything a check must kill, restart or run twice at once.
type Process struct {
	cancel  context.CancelFunc
	done    chan struct{}
	stopped atomic.Bool
	res     *Result
	err     error
}

// Start runs the learner's code in its own process, as Run does, but
// returns at once. The process ends when the learner's function returns
// (Wait tells how, with Run's verdicts), when its timeout passes, or when
// the check calls Stop, which kills it as a crash would (SIGKILL, its whole
// process group). A process still running when the check ends is stopped.
func (h *Harness) Start(ctx context.Context, opts RunOptions) *Process {
	runCtx, cancel := context.WithCancel(ctx)
	p := &Process{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.res, p.err = h.Run(runCtx, opts)
		if p.stopped.Load() && ctx.Err() == nil && errors.Is(p.err, context.Canceled) {
			p.err = ErrStopped
		}
	}()
	h.Cleanup(func() { p.Stop() })
	return p
}

// Done is closed once the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not ended yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop kills the process (SIGKILL, with everything it started) and waits
// until it has ended. Stopping an ended process does nothing.
func (p *Process) Stop() {
	if p.Running() {
		p.stopped.Store(true)
		p.cancel()
	}
	<-p.done
}

// Wait waits for the process to end and returns what Run would have:
// the result, and a *Failure if the learner's code panicked, hung past its
// timeout or returned an error; ErrStopped if Stop ended it.
func (p *Process) Wait() (*Result, error) {
	<-p.done
	return p.res, p.err
}

// Cleanup registers fn to run when the check ends, last registered first.
func (h *Harness) Cleanup(fn func()) { h.cleanups = append(h.cleanups, fn) }

// RunCleanups runs the registered cleanups; the engine calls it once per check.
func (h *Harness) RunCleanups() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
}

// Log returns the checker's log lines so far.
func (h *Harness) Log() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.log...)
}

// Output returns everything the learner's processes printed, in the order
// they ended.
func (h *Harness) Output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.output, "")
}
