package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/delab-dev/delab/checker/grader"
)

// processRunner runs one built lab binary per call; it implements grader.Runner.
type processRunner struct {
	bin         string
	workDir     string
	outputLimit int
	pollEvery   time.Duration
}

type harnessResult struct {
	Nonce string `json:"nonce"`
	// HarnessError is set when the trusted harness itself failed (for
	// example, it could not reach a service): not the learner's doing.
	HarnessError string          `json:"harness_error"`
	Returned     bool            `json:"returned"`
	Error        string          `json:"error"`
	Value        json.RawMessage `json:"value"`
	PeakRSS      int64           `json:"peak_rss"`
}

// Run starts the binary in its own process group, feeds the nonce, watches
// time and resident memory, and classifies how it ended.
func (p *processRunner) Run(ctx context.Context, opts grader.RunOptions) (*grader.Result, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	nonceHex := hex.EncodeToString(nonce)

	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp(p.workDir, "run-*")
		if err != nil {
			return nil, err
		}
		dir = d
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
	cmd := exec.Command(p.bin, opts.Args...)
	cmd.Dir = dir
	cmd.Env = append(learnerEnv(dir), opts.Env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = opts.Stdin
	cmd.ExtraFiles = []*os.File{ctlR, resW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A learner's child process may keep the output pipes open after the
	// group is killed; don't wait on it forever.
	cmd.WaitDelay = 2 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		ctlR.Close()
		resW.Close()
		return nil, fmt.Errorf("start learner process: %w", err)
	}
	ctlR.Close()
	resW.Close()
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
	}
	done := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		tick := time.NewTicker(p.pollEvery)
		defer tick.Stop()
		timer := time.NewTimer(opts.Timeout)
		defer timer.Stop()
		for {
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
				if rss := residentBytes(cmd.Process.Pid); rss > 0 {
					// rss is the high-water mark (VmHWM), so a spike between
					// two samples is still seen.
					if rss > peak {
						peak = rss
					}
					if opts.Memory > 0 && rss > opts.Memory {
						kill("memory")
						return
					}
				}
			}
		}
	}()
	waitErr := cmd.Wait()
	close(done)
	<-watcherDone // from here on peak and reason are ours alone
	// Any process the learner started in its group goes too.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	elapsed := time.Since(start)
	raw := <-resultCh

	// rusage's Maxrss is not used: for a forked child it can include the
	// parent's resident memory at fork time, which would charge the
	// checker's memory to the learner. VmHWM, sampled above, is the child's own.
	res := &grader.Result{Output: out.String(), PeakRSS: peak, Duration: elapsed}

	why := reason
	if why == "" && opts.Memory > 0 && peak > opts.Memory {
		why = "memory"
	}
	switch why {
	case "cancelled":
		return res, ctx.Err()
	case "timeout":
		return res, grader.Failf("your code did not finish within %s and was stopped (is it waiting for input, or looping forever?)", opts.Timeout)
	case "memory":
		return res, grader.Failf("your code used more than %s of memory (peak seen: %s) and was stopped; stream the input instead of holding it all", mib(opts.Memory), mib(peak))
	}

	var hr harnessResult
	valid := false
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if json.Unmarshal(line, &hr) == nil && hr.Nonce == nonceHex && (hr.Returned || hr.HarnessError != "") {
			valid = true
			break
		}
	}
	exitCode := cmd.ProcessState.ExitCode()
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return res, fmt.Errorf("wait for learner process: %w", waitErr)
	}
	switch {
	case valid && hr.HarnessError != "":
		return res, fmt.Errorf("the harness could not set up the run: %s", hr.HarnessError)
	case valid && exitCode == 0:
		// The harness saw the learner's function return.
	case exitCode == 2 && strings.Contains(res.Output, "fatal error: runtime: out of memory"):
		return res, grader.Failf("your code ran out of memory; stream the input instead of holding it all")
	case exitCode == 2 && (strings.Contains(res.Output, "panic: ") || strings.Contains(res.Output, "fatal error: ")):
		return res, grader.Failf("your code panicked: %s", firstPanicLine(res.Output))
	case exitCode == 0:
		return res, grader.Failf("your code ended the process (os.Exit or log.Fatal?) before returning; the checker only trusts results your function returns")
	default:
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return res, grader.Failf("your code was killed by signal %s", ws.Signal())
		}
		return res, grader.Failf("your code exited with status %d before returning (os.Exit or log.Fatal?)", exitCode)
	}
	res.PeakRSS = max(peak, hr.PeakRSS)
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
func residentBytes(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				kb, _ := strconv.ParseInt(fields[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

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
