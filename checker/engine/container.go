package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/services"
)

// SandboxImage is the image learner code runs in under the container
// sandbox: an empty root file system (the lab binary is static), made
// locally with `docker import`, so no registry is needed.
const SandboxImage = "delab/sandbox:1"

// containerRunner runs one built lab binary per call in a throw-away
// container: non-root, read-only root file system, no capabilities, no
// network (or only the lab's service network), pids and memory limits that
// count every process the learner starts, and nothing of the host but the
// binary (read-only), the check folders and a result folder. It
// implements grader.Runner.
type containerRunner struct {
	cli         *client.Client
	bin         *labBinary
	workDir     string
	shareDir    string
	outputLimit int
	pollEvery   time.Duration
	// network is the Docker network the container joins: "none" for labs
	// without services.
	network string
	// serviceEnv replaces the host-side service variables a run is given
	// with their in-network values.
	serviceEnv []string
	pending    sync.WaitGroup // container removals in flight
}

// close waits until every container this runner started is removed.
func (c *containerRunner) close() {
	c.pending.Wait()
	c.cli.Close()
}

var sandboxImageOnce struct {
	sync.Mutex
	ready bool
}

// ensureSandboxImage imports SandboxImage once if the engine lacks it.
func ensureSandboxImage(ctx context.Context, cli *client.Client) error {
	sandboxImageOnce.Lock()
	defer sandboxImageOnce.Unlock()
	if sandboxImageOnce.ready {
		return nil
	}
	if _, err := cli.ImageInspect(ctx, SandboxImage); err == nil {
		sandboxImageOnce.ready = true
		return nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []struct {
		name string
		mode int64
	}{{"delab/", 0o755}, {"tmp/", 0o1777}, {"etc/", 0o755}} {
		if err := tw.WriteHeader(&tar.Header{Name: d.name, Typeflag: tar.TypeDir, Mode: d.mode}); err != nil {
			return err
		}
	}
	passwd := []byte("nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")
	if err := tw.WriteHeader(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(passwd))}); err != nil {
		return err
	}
	if _, err := tw.Write(passwd); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	rc, err := cli.ImageImport(ctx, client.ImageImportSource{Source: &buf, SourceName: "-"}, SandboxImage,
		client.ImageImportOptions{Changes: []string{"LABEL " + services.LabelOwner + "=delab"}})
	if err != nil {
		return fmt.Errorf("create the sandbox image: %w", err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
	sandboxImageOnce.ready = true
	return nil
}

// Run runs the binary in a fresh container and classifies how it ended,
// exactly as the process sandbox does.
func (c *containerRunner) Run(ctx context.Context, opts grader.RunOptions) (*grader.Result, error) {
	if opts.Stdin != nil {
		return nil, errors.New("the container sandbox does not feed standard input")
	}
	nonceHex, dir, err := prepareRun(c.bin, c.shareDir, opts)
	if err != nil {
		return nil, err
	}
	resultDir, err := os.MkdirTemp(c.workDir, "result-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(resultDir)
	if err := shareWithNobody(c.workDir, c.shareDir, dir); err != nil {
		return nil, fmt.Errorf("prepare the run folder: %w", err)
	}
	if err := os.Chown(resultDir, nobody, nobody); err != nil && !errors.Is(err, syscall.EPERM) {
		return nil, err
	}
	_ = os.Chmod(resultDir, 0o777)

	env := append(learnerEnv(dir), "DELAB_NONCE="+nonceHex, "DELAB_RESULT_FILE=/delab/out/result")
	env = append(env, withoutKeys(opts.Env, c.serviceEnv)...)
	env = append(env, c.serviceEnv...)
	// The kernel's limit is a backstop for a burst between two samples;
	// the limit the lesson states is judged on the sampled resident memory
	// (anonymous memory of every process), as in the process sandbox,
	// since the kernel's count also holds the page cache of files read.
	hardLimit := int64(0)
	if opts.Memory > 0 {
		hardLimit = max(2*opts.Memory, opts.Memory+64<<20)
	}
	pids := int64(256)
	init := true
	create, err := c.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{
			Image:      SandboxImage,
			Cmd:        append([]string{"/delab/lab.bin"}, opts.Args...),
			Env:        env,
			WorkingDir: dir,
			User:       strconv.Itoa(nobody) + ":" + strconv.Itoa(nobody),
			// Labelled like delab's services, so that a sweep by another
			// delab process leaves it alone while this one lives, and
			// removes it if this one was killed before it could.
			Labels: map[string]string{services.LabelOwner: "delab", services.LabelRole: "sandbox", services.LabelPID: strconv.Itoa(os.Getpid()), services.LabelWarm: "false"},
		},
		HostConfig: &container.HostConfig{
			Binds: []string{
				c.bin.path + ":/delab/lab.bin:ro",
				c.shareDir + ":" + c.shareDir,
				resultDir + ":/delab/out",
			},
			ReadonlyRootfs: true,
			CapDrop:        []string{"ALL"},
			SecurityOpt:    []string{"no-new-privileges"},
			NetworkMode:    container.NetworkMode(c.network),
			// An init process as PID 1 reaps the learner's children and
			// lets the harness stop itself (SIGSTOP) at a crash point.
			Init:      &init,
			Tmpfs:     map[string]string{"/tmp": "rw,size=64m,mode=1777"},
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}},
			Resources: container.Resources{Memory: hardLimit, MemorySwap: hardLimit, PidsLimit: &pids},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("create the sandbox container: %w", err)
	}
	id := create.ID
	// Removal runs in the background (it is most of a short run's cost);
	// close waits for every removal, so nothing outlives the grading.
	c.pending.Add(1)
	defer func() {
		go func() {
			defer c.pending.Done()
			rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			_, _ = c.cli.ContainerRemove(rmCtx, id, client.ContainerRemoveOptions{Force: true})
		}()
	}()

	start := time.Now()
	if _, err := c.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		if ctx.Err() != nil {
			return &grader.Result{}, ctx.Err()
		}
		return nil, fmt.Errorf("start the sandbox container: %w", err)
	}
	wait := c.cli.ContainerWait(context.WithoutCancel(ctx), id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	memFile := cgroupMemoryStat(id)

	var reason string
	var peak int64
	kill := func(why string) {
		reason = why
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = c.cli.ContainerKill(kctx, id, client.ContainerKillOptions{Signal: "KILL"})
	}
	tick := time.NewTicker(c.pollEvery)
	defer tick.Stop()
	timer := time.NewTimer(opts.Timeout)
	defer timer.Stop()
	exitCode := -1
loop:
	for {
		select {
		case r := <-wait.Result:
			exitCode = int(r.StatusCode)
			break loop
		case err := <-wait.Error:
			return nil, fmt.Errorf("wait for the sandbox container: %w", err)
		case <-ctx.Done():
			if reason == "" {
				kill("cancelled")
			}
		case <-timer.C:
			if reason == "" {
				kill("timeout")
			}
		case <-tick.C:
			if rss := anonBytes(memFile); rss > peak {
				peak = rss
				if reason == "" && opts.Memory > 0 && rss > opts.Memory {
					kill("memory")
				}
			}
		}
	}
	elapsed := time.Since(start)
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	o := runOutcome{reason: reason, exitCode: exitCode, nonce: nonceHex, peak: peak, elapsed: elapsed}
	// Only a kill can be the kernel's memory limit: ask the engine then.
	if o.exitCode == 137 {
		if ins, err := c.cli.ContainerInspect(ictx, id, client.ContainerInspectOptions{}); err == nil && ins.Container.State != nil {
			o.oomKill = ins.Container.State.OOMKilled
		}
	}
	// The init process reports a child killed by signal N as 128+N.
	if o.exitCode > 128 && o.exitCode < 128+65 {
		o.signal = syscall.Signal(o.exitCode - 128).String()
	}
	out := &cappedBuffer{limit: c.outputLimit}
	if logs, err := c.cli.ContainerLogs(ictx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true}); err == nil {
		_, _ = stdcopy.StdCopy(out, out, io.LimitReader(logs, 4<<20))
		logs.Close()
	}
	o.output = out.String()
	if f, err := os.Open(filepath.Join(resultDir, "result")); err == nil {
		o.raw, _ = io.ReadAll(io.LimitReader(f, 16<<20))
		f.Close()
	}
	return o.verdict(ctx, opts)
}

// withoutKeys returns env without the variables that override sets.
func withoutKeys(env, override []string) []string {
	keys := map[string]bool{}
	for _, kv := range override {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var out []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !keys[k] {
			out = append(out, kv)
		}
	}
	return out
}

// cgroupMemoryStat finds the memory.stat file of a container's cgroup as
// the engine lays them out (cgroup v1 or v2, cgroupfs or systemd driver);
// "" when none is visible here (a remote or VM-hosted engine). The path is
// built from the container's id, never read from a process that may have
// ended: a pid that has exited, or not yet joined its cgroup, would point
// at the root cgroup and charge the whole machine's memory to the learner.
func cgroupMemoryStat(id string) string {
	for _, p := range []string{
		"/sys/fs/cgroup/memory/docker/" + id,
		"/sys/fs/cgroup/memory/system.slice/docker-" + id + ".scope",
		"/sys/fs/cgroup/docker/" + id,
		"/sys/fs/cgroup/system.slice/docker-" + id + ".scope",
	} {
		f := filepath.Join(p, "memory.stat")
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}

// anonBytes reads the resident anonymous memory of a cgroup (every
// process in it) from its memory.stat: "total_rss" under cgroup v1,
// "anon" under v2.
func anonBytes(statFile string) int64 {
	if statFile == "" {
		return 0
	}
	data, err := os.ReadFile(statFile)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && (k == "total_rss" || k == "anon") {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
