package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

// Each test here is one way a hostile or careless learner tried to get
// past the sandbox, run in every sandbox mode this machine offers. The
// container mode needs Docker: without it the test skips, except in CI,
// where it fails.

func sandboxModes(t *testing.T) []string {
	t.Helper()
	modes := []string{SandboxProcess}
	if testing.Short() {
		t.Log("-short: the container sandbox is tried by the full make test")
		return modes
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := services.CheckDocker(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but Docker is not reachable for the container sandbox: %v", err)
		}
		t.Logf("container sandbox not tried: %v", err)
		return modes
	}
	return append(modes, SandboxContainer)
}

// writeLearner writes a learner package (one file, Run(out string) error)
// into a fresh folder and returns it.
func writeLearner(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "learner.go"), []byte(src), 0o644))
	return dir
}

func gradeIn(t *testing.T, ctx context.Context, mode, learnerDir string, timeout time.Duration, buildRoot string) *report.Lab {
	t.Helper()
	lab, g := answerLab(timeout)
	e := &Engine{TempRoot: t.TempDir(), Sandbox: mode, BuildRoot: buildRoot}
	return e.Grade(ctx, lab, g, Source{Dir: learnerDir, ModuleDir: repoRoot, Display: lab.Dir})
}

// A file planted in a lab's reused build folder (by an earlier run's code,
// or by anything else) must not be compiled into a later build: planted
// code that writes the answer would turn a starter into a pass, and a
// planted panic would fail a correct solution.
func TestBuildFolderPlantIsNotCompiledIn(t *testing.T) {
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			buildRoot := t.TempDir()
			labDir := filepath.Join(buildRoot, "test_01-answer")
			require.NoError(t, os.MkdirAll(labDir, 0o755))
			forge := "package main\n\nimport \"os\"\n\nfunc init() { _ = os.WriteFile(os.Args[1], []byte(\"42\"), 0o644); delabReturn(nil, nil) }\n"
			require.NoError(t, os.WriteFile(filepath.Join(labDir, "zz_forge.go"), []byte(forge), 0o644))
			require.NoError(t, os.MkdirAll(filepath.Join(labDir, "vendor"), 0o755))
			starter := writeLearner(t, "package learner\n\nfunc Run(out string) error { return nil }\n")
			res := gradeIn(t, context.Background(), mode, starter, 10*time.Second, buildRoot)
			assert.Equal(t, report.Failed, res.Status, "the untouched starter must fail: %s", res.Checks[0].Message)
			assert.NoFileExists(t, filepath.Join(labDir, "zz_forge.go"))

			boom := "package main\n\nfunc init() { panic(\"planted\") }\n"
			require.NoError(t, os.WriteFile(filepath.Join(labDir, "zz_boom.go"), []byte(boom), 0o644))
			res = gradeIn(t, context.Background(), mode, "testdata/learners/ok", 10*time.Second, buildRoot)
			assert.Equal(t, report.Passed, res.Status, "a correct solution must pass: %s", res.Checks[0].Message)
		})
	}
}

// Learner code that tries to plant a file into the build folder while it
// runs must not reach it (as root the process sandbox runs it as nobody;
// the container sees no build folder at all).
func TestLearnerCannotWriteIntoTheBuildFolder(t *testing.T) {
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			if mode == SandboxProcess && os.Geteuid() != 0 {
				t.Skip("the process sandbox confines writes only when delab runs as root (it then runs learner code as nobody)")
			}
			buildRoot := t.TempDir()
			labDir := filepath.Join(buildRoot, "test_01-answer")
			src := fmt.Sprintf(`package learner

import (
	"os"
	"path/filepath"
)

func Run(out string) error {
	forge := []byte("package main\n\nfunc init() { panic(\"planted\") }\n")
	exe, _ := os.Executable()
	_ = os.WriteFile(filepath.Join(filepath.Dir(exe), "zz_forge.go"), forge, 0o644)
	_ = os.WriteFile(filepath.Join(%q, "zz_forge.go"), forge, 0o644)
	_ = os.WriteFile(exe, []byte("overwritten"), 0o755)
	return os.WriteFile(out, []byte("42"), 0o644)
}
`, labDir)
			res := gradeIn(t, context.Background(), mode, writeLearner(t, src), 10*time.Second, buildRoot)
			assert.Equal(t, report.Passed, res.Status, res.Checks[0].Message)
			assert.NoFileExists(t, filepath.Join(labDir, "zz_forge.go"))
		})
	}
}

// A child that calls setsid leaves the learner's process group and holds
// the result pipe and stdout open: the check must still end at its
// deadline (plus a small grace), and no process of the run may survive.
func TestEscapedChildNeitherHangsTheCheckNorSurvives(t *testing.T) {
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			pids := t.TempDir()
			require.NoError(t, os.Chmod(pids, 0o777))
			src := fmt.Sprintf(`package learner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func Run(out string) error {
	if os.Getenv("ESCAPED_CHILD") == "1" {
		_ = os.WriteFile(filepath.Join(%q, "child-"+strconv.Itoa(os.Getpid())), nil, 0o666)
		time.Sleep(300 * time.Second)
		return nil
	}
	exe, _ := os.Executable()
	null, _ := os.Open(os.DevNull)
	cmd := exec.Command(exe, out)
	cmd.Env = append(os.Environ(), "ESCAPED_CHILD=1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{null, os.NewFile(4, "result")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	return os.WriteFile(out, []byte("42"), 0o644)
}
`, pids)
			learner := writeLearner(t, src)
			for _, cancelAfter := range []time.Duration{0, 300 * time.Millisecond} {
				ctx, cancel := context.WithCancel(context.Background())
				if cancelAfter > 0 {
					time.AfterFunc(cancelAfter+time.Second, cancel) // Ctrl-C while the child is running
				}
				start := time.Now()
				res := gradeIn(t, ctx, mode, learner, 3*time.Second, "")
				cancel()
				took := time.Since(start)
				assert.Less(t, took, 15*time.Second, "the check must end at its deadline, not when the escaped child does")
				if cancelAfter == 0 {
					assert.Equal(t, report.Passed, res.Status, res.Checks[0].Message)
				}
				entries, _ := os.ReadDir(pids)
				if mode == SandboxProcess {
					require.NotEmpty(t, entries, "the escaped child never started")
				}
				for _, e := range entries {
					pid, _ := strconv.Atoi(strings.TrimPrefix(e.Name(), "child-"))
					if mode == SandboxProcess {
						assert.Eventually(t, func() bool { return !alive(pid) }, 3*time.Second, 50*time.Millisecond, "escaped child %d survived", pid)
					}
					_ = os.Remove(filepath.Join(pids, e.Name()))
				}
			}
		})
	}
}

// The memory limit counts every process the learner starts: code that
// does its work in a child process is measured with the child.
func TestChildMemoryCountsAgainstTheLimit(t *testing.T) {
	src := `package learner

import (
	"os"
	"os/exec"
	"time"
)

func Run(out string) error {
	if os.Getenv("MEMORY_CHILD") == "1" {
		b := make([]byte, 300<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		time.Sleep(2 * time.Second)
		_ = b[len(b)-1]
		return nil
	}
	exe, _ := os.Executable()
	null, _ := os.Open(os.DevNull)
	cmd := exec.Command(exe, out+".child")
	cmd.Env = append(os.Environ(), "MEMORY_CHILD=1")
	cmd.ExtraFiles = []*os.File{null, null}
	_ = cmd.Run()
	return os.WriteFile(out, []byte("42"), 0o644)
}
`
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			res := gradeIn(t, context.Background(), mode, writeLearner(t, src), 20*time.Second, "")
			require.Len(t, res.Checks, 1)
			assert.Equal(t, report.Failed, res.Status, "a 300 MiB child must not pass a 64 MiB limit")
			assert.Contains(t, res.Checks[0].Message, "used more than 64.0 MiB")
		})
	}
}

// Learner code can read the nonce and write on the harness's result
// channel; a forged "the harness failed" line must not turn its failure
// into "checker error (not your fault)".
func TestForgedHarnessErrorIsChargedToTheLearner(t *testing.T) {
	src := `package learner

import (
	"encoding/json"
	"os"
	_ "unsafe"
)

//go:linkname nonce main.delabNonce
var nonce string

//go:linkname out main.delabOut
var out *os.File

func Run(path string) error {
	_ = json.NewEncoder(out).Encode(map[string]any{"nonce": nonce, "harness_error": "kafka is unreachable"})
	os.Exit(0)
	return nil
}
`
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			res := gradeIn(t, context.Background(), mode, writeLearner(t, src), 10*time.Second, "")
			require.Len(t, res.Checks, 1)
			assert.Equal(t, report.Failed, res.Checks[0].Status, res.Checks[0].Message)
			assert.NotContains(t, res.Checks[0].Message, "not your fault")
		})
	}
}

// Learner code must not write outside the folders a check gives it (the
// repository, the progress file) nor read the grader's environment.
func TestLearnerIsConfinedToItsFolders(t *testing.T) {
	t.Setenv("DELAB_TEST_SECRET", "s3cret-of-the-grader")
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			if mode == SandboxProcess && os.Geteuid() != 0 {
				t.Skip("the process sandbox confines files and the parent's environment only when delab runs as root")
			}
			state := t.TempDir()
			require.NoError(t, os.Chmod(state, 0o755))
			progressFile := filepath.Join(state, "progress.json")
			require.NoError(t, os.WriteFile(progressFile, []byte(`{"labs":{}}`), 0o644))
			repoFile := filepath.Join(state, "README.md")
			src := fmt.Sprintf(`package learner

import (
	"os"
	"strconv"
	"strings"
)

func Run(out string) error {
	_ = os.WriteFile(%q, []byte("{\"labs\":{\"all\":\"passed\"}}"), 0o644)
	_ = os.WriteFile(%q, []byte("planted"), 0o644)
	seen := strings.Join(os.Environ(), "\n")
	for _, p := range []string{"/proc/" + strconv.Itoa(os.Getppid()) + "/environ", "/proc/1/environ"} {
		data, _ := os.ReadFile(p)
		seen += string(data)
	}
	if strings.Contains(seen, "s3cret") {
		return os.WriteFile(out, []byte("secret seen"), 0o644)
	}
	return os.WriteFile(out, []byte("42"), 0o644)
}
`, progressFile, repoFile)
			res := gradeIn(t, context.Background(), mode, writeLearner(t, src), 10*time.Second, "")
			require.Len(t, res.Checks, 1)
			assert.Equal(t, report.Passed, res.Status, "the learner must not see the grader's environment: %s %s", res.Checks[0].Message, res.Checks[0].Actual)
			data, err := os.ReadFile(progressFile)
			require.NoError(t, err)
			assert.Equal(t, `{"labs":{}}`, string(data), "progress.json rewritten by learner code")
			assert.NoFileExists(t, repoFile)
		})
	}
}

// The report says which sandbox ran the learner's code.
func TestReportNamesTheSandbox(t *testing.T) {
	for _, mode := range sandboxModes(t) {
		t.Run(mode, func(t *testing.T) {
			res := gradeIn(t, context.Background(), mode, "testdata/learners/ok", 10*time.Second, "")
			assert.Equal(t, report.Passed, res.Status, res.Checks[0].Message)
			assert.Equal(t, mode, res.Sandbox)
		})
	}
}
