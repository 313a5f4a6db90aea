package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/delab-dev/delab/checker/grader"
)

// processRunner runs one built lab binary per call in a process of its
// own; it implements grader.Runner. It is the sandbox without Docker: the
// run's whole process tree is followed (this process is a child subreaper,
// so even a child that called setsid is found), its memory summed, and all
// of it killed when the run ends. Run as root, learner code runs as the
// unprivileged "nobody" user, so it cannot write outside the check's
// folders nor read the grader's environment, files or build cache.
type processRunner struct {
	bin         *labBinary
	workDir     string
	shareDir    string // learner-writable folders (the checks' own) live here
	outputLimit int
	pollEvery   time.Duration
}

// nobody is the user learner code runs as when the grader runs as root.
const nobody = 65534

type harnessResult struct {
	Nonce string `json:"nonce"`
	// HarnessError is set when the harness reports that it could not set
	// up the run (a service unreachable, say). It comes from the learner's
	// process, so it is not trusted: see runOutcome.verdict.
	HarnessError string          `json:"harness_error"`
	Returned     bool            `json:"returned"`
	Error        string          `json:"error"`
	Value        json.RawMessage `json:"value"`
	PeakRSS      int64           `json:"peak_rss"`
}

// Run starts the binary in its own process group, feeds the nonce, watches
// time and the resident memory of its whole process tree, and classifies
// how it ended.
func (p *processRunner) Run(ctx context.Context, opts grader.RunOptions) (*grader.Result, error) {
	nonceHex, dir, err := prepareRun(p.bin, p.shareDir, opts)
	if err != nil {
		return nil, err
	}
	asNobody := os.Geteuid() == 0
	if asNobody {
		if err := shareWithNobody(p.workDir, p.shareDir, dir); err != nil {
			return nil, fmt.Errorf("prepare the run folder: %w", err)
		}
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, err
	}
	defer ctlW.Close()
	defer resR.Close()

	out := &cappedBuffer{limit: p.outputLimit}
	cmd := exec.Command(p.bin.path, opts.Args...)
	cmd.Dir = dir
	cmd.Env = append(learnerEnv(dir), opts.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = opts.Stdin
	cmd.ExtraFiles = []*os.File{ctlR, resW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if asNobody {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody, NoSetGroups: true}
	}
	// A learner's child process may keep the output pipes open after the
	// group is killed; don't wait on it forever.
	cmd.WaitDelay = 2 * time.Second

	becomeSubreaper()
	start := time.Now()
	if err := startOwn(cmd); err != nil {
		ctlR.Close()
		resW.Close()
		return nil, fmt.Errorf("start learner process: %w", err)
	}
	defer forgetOwn(cmd.Process.Pid)
	ctlR.Close()
	resW.Close()
	tree := newProcTree(cmd.Process.Pid)
	// The harness now waits for its nonce: a baseline sample before any learner code runs.
	peak := residentBytes(cmd.Process.Pid)
	_, _ = io.WriteString(ctlW, nonceHex+"\n")
	ctlW.Close()

	resultCh := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(io.LimitReader(resR, 16<<20))
		resultCh <- data
	}()

	// reason and peak are written only by the watcher goroutine until it
	// has finished (watcherDone).
	var reason string // why we killed it: "timeout", "memory", "cancelled"
	kill := func(why string) {
		reason = why
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		tree.killAll()
	}
	done := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		tick := time.NewTicker(p.pollEvery)
		defer tick.Stop()
		timer := time.NewTimer(opts.Timeout)
		defer timer.Stop()
		for n := 0; ; n++ {
			select {
			case <-done:
				return
			case <-ctx.Done():
				kill("cancelled")
				return
			case <-timer.C:
				kill("timeout")
				return
			case <-tick.C:
				// rss is the high-water mark (VmHWM), so a spike between
				// two samples is still seen for the main process.
				rss := residentBytes(cmd.Process.Pid)
				// The whole tree is summed less often: reading every
				// process in /proc costs more than one status file.
				if n%5 == 0 {
					rss = max(rss, tree.residentTotal())
				}
				if rss > peak {
					peak = rss
				}
				if opts.Memory > 0 && rss > opts.Memory {
					kill("memory")
					return
				}
			}
		}
	}()
	waitErr := cmd.Wait()
	close(done)
	<-watcherDone // from here on peak and reason are ours alone
	// Anything the learner started goes too: its group, and every process
	// of its tree, including ones that left the group.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	tree.killAll()
	elapsed := time.Since(start)
	// A process that escaped the kill could still hold the result pipe
	// open: never wait for it past a short grace.
	_ = resR.SetReadDeadline(time.Now().Add(time.Second))
	raw := <-resultCh

	o := runOutcome{
		reason: reason, raw: raw, output: out.String(), peak: peak, elapsed: elapsed,
		exitCode: cmd.ProcessState.ExitCode(), nonce: nonceHex,
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		o.signal = ws.Signal().String()
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return o.result(), fmt.Errorf("wait for learner process: %w", waitErr)
	}
	return o.verdict(ctx, opts)
}

// prepareRun is what both sandboxes do before a run: check the binary is
// the one that was built, draw the run's nonce, and find (or make, under
// the shared folder) the folder it runs in.
func prepareRun(bin *labBinary, shareDir string, opts grader.RunOptions) (nonce, dir string, err error) {
	if err := bin.verify(); err != nil {
		return "", "", err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	dir = opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp(shareDir, "run-*"); err != nil {
			return "", "", err
		}
	}
	return hex.EncodeToString(b), dir, nil
}

// runOutcome is how one learner run ended, as the trusted side saw it;
// both sandboxes fill one in and share its verdict.
type runOutcome struct {
	reason   string // why the checker stopped it: "timeout", "memory", "cancelled", or ""
	exitCode int
	signal   string // the signal that ended it, if one did
	oomKill  bool   // the kernel's memory limit ended it (container sandbox)
	raw      []byte // what came over the result channel
	nonce    string
	output   string
	peak     int64
	elapsed  time.Duration
}

func (o *runOutcome) result() *grader.Result {
	return &grader.Result{Output: o.output, PeakRSS: o.peak, Duration: o.elapsed}
}

// verdict classifies a finished run. The result channel is written from
// inside the learner's process, so everything on it is the learner's own
// claim: a "returned" value is judged like any output, and a harness error
// is not taken as the checker's fault (the engine asks the services
// whether they are healthy before it blames them).
func (o *runOutcome) verdict(ctx context.Context, opts grader.RunOptions) (*grader.Result, error) {
	res := o.result()
	why := o.reason
	if why == "" && (o.oomKill || opts.Memory > 0 && o.peak > opts.Memory) {
		why = "memory"
	}
	switch why {
	case "cancelled":
		return res, ctx.Err()
	case "timeout":
		return res, grader.Failf("your code did not finish within %s and was stopped (is it waiting for input, or looping forever?)", opts.Timeout)
	case "memory":
		// The peak counts every process the learner started.
		if o.peak <= opts.Memory {
			return res, grader.Failf("your code used more than %s of memory and was stopped; stream the input instead of holding it all", mib(opts.Memory))
		}
		return res, grader.Failf("your code used more than %s of memory (peak seen: %s) and was stopped; stream the input instead of holding it all", mib(opts.Memory), mib(o.peak))
	}

	var hr harnessResult
	valid := false
	for _, line := range bytes.Split(o.raw, []byte("\n")) {
		if json.Unmarshal(line, &hr) == nil && hr.Nonce == o.nonce && (hr.Returned || hr.HarnessError != "") {
			valid = true
			break
		}
	}
	switch {
	case valid && hr.HarnessError != "":
		return res, grader.Failf("the run stopped before your code was called: %s", hr.HarnessError)
	case valid && o.exitCode == 0:
		// The harness saw the learner's function return.
	case o.exitCode == 2 && strings.Contains(o.output, "fatal error: runtime: out of memory"):
		return res, grader.Failf("your code ran out of memory; stream the input instead of holding it all")
	case o.exitCode == 2 && (strings.Contains(o.output, "panic: ") || strings.Contains(o.output, "fatal error: ")):
		return res, grader.Failf("your code panicked: %s", firstPanicLine(o.output))
	case o.exitCode == 0:
		return res, grader.Failf("your code ended the process (os.Exit or log.Fatal?) before returning; the checker only trusts results your function returns")
	case o.signal != "":
		return res, grader.Failf("your code was killed by signal %s", o.signal)
	default:
		return res, grader.Failf("your code exited with status %d before returning (os.Exit or log.Fatal?)", o.exitCode)
	}
	// The harness's own peak is the main process's high-water mark: it can
	// only raise what the checker measured, never lower it.
	res.PeakRSS = max(o.peak, hr.PeakRSS)
	if opts.Memory > 0 && res.PeakRSS > opts.Memory {
		return res, grader.Failf("your code used more than %s of memory (peak: %s); stream the input instead of holding it all", mib(opts.Memory), mib(res.PeakRSS))
	}
	res.Err = hr.Error
	res.Value = hr.Value
	if res.Err != "" && !opts.AllowError {
		return res, grader.Failf("your code returned an error: %s", res.Err)
	}
	return res, nil
}

// traversable makes sure the unprivileged learner user can reach dir: a
// folder on the way that others may not enter gets "x" for them (enter,
// not list) when it is a temporary folder; elsewhere it is an error.
func traversable(dir string) error {
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Clean(dir); d != "/" && d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 != 0 {
			continue
		}
		if d != tmp && !strings.HasPrefix(d, tmp+string(filepath.Separator)) {
			return fmt.Errorf("the learner's sandbox user cannot enter %s: grade from a folder under %s", d, tmp)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
			return err
		}
	}
	return nil
}

// shareWithNobody lets the unprivileged learner user reach its run folder:
// the work folder becomes traversable (not listable), and everything under
// the shared folder (the checks' inputs and outputs) becomes nobody's, so
// files a grader prepared there can be read and written. The build folder
// and the binary stay root's.
func shareWithNobody(workDir, shareDir, runDir string) error {
	if err := os.Chmod(workDir, 0o711); err != nil {
		return err
	}
	if err := traversable(filepath.Dir(workDir)); err != nil {
		return err
	}
	if err := os.Chmod(shareDir, 0o711); err != nil {
		return err
	}
	// A learner process already running (a check's first consumer, while a
	// second one starts) may write under the shared folder meanwhile: a file
	// gone before the walk reaches it (a temporary file renamed) is no error.
	return filepath.WalkDir(shareDir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if path == shareDir {
			return nil
		}
		if err := os.Lchown(path, nobody, nobody); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// learnerEnv is a small, predictable environment: no checker settings leak
// into the learner's process, and HOME and TMPDIR point at its run folder.
func learnerEnv(dir string) []string {
	env := []string{"HOME=" + dir, "TMPDIR=" + dir, "GOTRACEBACK=single"}
	for _, k := range []string{"PATH", "LANG", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// residentBytes reads the peak resident memory (VmHWM) of pid from /proc;
// 0 when unavailable.
func residentBytes(pid int) int64 { return statusField(pid, "VmHWM:") }

func firstPanicLine(out string) string {
	for _, ln := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(ln, "panic: "); ok {
			return s
		}
		if s, ok := strings.CutPrefix(ln, "fatal error: "); ok {
			return s
		}
	}
	return "see your program's output below"
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// cappedBuffer keeps the first limit bytes written and counts the rest.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	limit   int
	dropped int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - c.buf.Len()
	if room >= len(p) {
		c.buf.Write(p)
	} else {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += len(p) - max(room, 0)
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()
	if c.dropped > 0 {
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += fmt.Sprintf("… (%d more bytes not shown)\n", c.dropped)
	}
	return s
}
