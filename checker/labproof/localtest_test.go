package labproof

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/registry"
)

// serviceVars are the variables the labs' local tests read the addresses
// of `delab up`'s services from (the harness kits read the same).
var serviceVars = map[catalog.Service]string{
	catalog.Kafka: "DELAB_KAFKA_BROKERS",
	catalog.HDFS:  "DELAB_HDFS_NAMENODE",
	catalog.Spark: "DELAB_SPARK_THRIFT",
}

// TestLearnerLocalTestsProveThemselves runs each lab's own tests
// (labs/<lab>/*_test.go and testdata/, what a learner runs with
// `go test ./labs/<lab>/`) the way a learner would, in a copy of the module:
// against the untouched starter they must fail and point at the lesson,
// against the reference solution they must pass. A service lab's tests
// need running services: they are run when the DELAB_* variables of all its
// services are set (to what `delab up` prints), and otherwise only vetted
// against the starter and the reference, which compiles them.
func TestLearnerLocalTestsProveThemselves(t *testing.T) {
	c := loadCatalog(t)
	goBin := goTool(t)
	for _, lab := range c.Labs() {
		lab := lab
		g := registry.ByID(lab.ID)
		require.NotNil(t, g, lab.ID)
		run := true
		for _, s := range lab.Services {
			run = run && os.Getenv(serviceVars[s]) != ""
		}
		t.Run(lab.ID, func(t *testing.T) {
			t.Parallel()
			t.Run("starter", func(t *testing.T) {
				mod := localModule(t, lab)
				require.NoError(t, grader.ExtractStarter(g.Starter, filepath.Join(mod, filepath.FromSlash(lab.Dir))))
				if !run {
					vet(t, goBin, mod, lab)
					return
				}
				out, err := goTest(t, goBin, mod, lab)
				require.Error(t, err, "the untouched starter must fail its lab's local tests:\n%s", out)
				assert.NotContains(t, out, "[build failed]", "the local tests must compile against the starter")
				assert.NotContains(t, out, "[setup failed]")
				assert.Contains(t, out, "--- FAIL: Test")
				assert.Contains(t, out, `reread "`, "a failure names the lesson section to reread")
				assert.Contains(t, out, "delab read "+lessonShort(lab), "a failure says how to open the lesson")
			})
			t.Run("reference", func(t *testing.T) {
				mod := localModule(t, lab)
				copyGoFiles(t, filepath.Join(repoRoot, "checker", "labs", filepath.FromSlash(lab.ID), "solution"), filepath.Join(mod, filepath.FromSlash(lab.Dir)))
				if !run {
					vet(t, goBin, mod, lab)
					return
				}
				out, err := goTest(t, goBin, mod, lab)
				require.NoError(t, err, "the reference solution must pass its lab's local tests:\n%s", out)
				assert.Contains(t, out, "ok  \tgithub.com/delab-dev/delab/"+lab.Dir)
			})
		})
	}
}

// TestEveryLabHasALocalTest checks the files a learner's local loop needs,
// and that they stay out of the starter snapshot and hints out of lab.yaml.
func TestEveryLabHasALocalTest(t *testing.T) {
	c := loadCatalog(t)
	for _, lab := range c.Labs() {
		dir := filepath.Join(repoRoot, filepath.FromSlash(lab.Dir))
		tests, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
		require.NoError(t, err)
		assert.NotEmpty(t, tests, "%s: a learner needs a *_test.go to run with go test", lab.Dir)
		var samples int
		_ = filepath.WalkDir(filepath.Join(dir, "testdata"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				samples++
			}
			return nil
		})
		assert.Positive(t, samples, "%s: testdata/ holds the local tests' sample input", lab.Dir)
		for _, name := range grader.StarterFiles(registry.ByID(lab.ID).Starter) {
			assert.False(t, strings.HasSuffix(name, "_test.go"), "%s: starter.txtar holds %s: `make starters` must leave tests out", lab.ID, name)
		}
	}
	yamls, err := filepath.Glob(filepath.Join(repoRoot, "labs", "*", "*", "lab.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, yamls)
	for _, p := range yamls {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "hints:", "%s is in the learner's folder: hints live in checker/labs/<lab>/hints.yaml", p)
	}
}

// localModule lays out a copy of the module with only what `go test` of one
// lab needs: go.mod, go.sum, and the lab folder's tests and testdata.
func localModule(t *testing.T, lab *catalog.Lab) string {
	t.Helper()
	mod := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(repoRoot, f), filepath.Join(mod, f))
	}
	src := filepath.Join(repoRoot, filepath.FromSlash(lab.Dir))
	dst := filepath.Join(mod, filepath.FromSlash(lab.Dir))
	tests, err := filepath.Glob(filepath.Join(src, "*_test.go"))
	require.NoError(t, err)
	require.NotEmpty(t, tests, "%s has no *_test.go", lab.Dir)
	for _, f := range tests {
		copyFile(t, f, filepath.Join(dst, filepath.Base(f)))
	}
	err = filepath.WalkDir(filepath.Join(src, "testdata"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		copyFile(t, p, filepath.Join(dst, rel))
		return nil
	})
	require.NoError(t, err, "%s/testdata", lab.Dir)
	return mod
}

// copyGoFiles copies the non-test .go files of one folder into another.
func copyGoFiles(t *testing.T, from, to string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(from, "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, files, from)
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			copyFile(t, f, filepath.Join(to, filepath.Base(f)))
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, data, 0o644))
}

// goTest runs `go test` on the lab's package inside mod, sharing the
// caller's build and module caches, and returns its combined output.
func goTest(t *testing.T, goBin, mod string, lab *catalog.Lab) (string, error) {
	t.Helper()
	return goCmd(t, goBin, mod, lab, "test", "-count=1", "./"+lab.Dir+"/")
}

// vet type-checks the lab's package and its tests inside mod.
func vet(t *testing.T, goBin, mod string, lab *catalog.Lab) {
	t.Helper()
	out, err := goCmd(t, goBin, mod, lab, "vet", "./"+lab.Dir+"/")
	require.NoError(t, err, "the local tests of %s must compile:\n%s", lab.ID, out)
}

// goCmd runs the go command with args inside mod.
func goCmd(t *testing.T, goBin, mod string, lab *catalog.Lab, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly", "GOPROXY=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "go %s of %s did not finish:\n%s", args[0], lab.ID, out.String())
	return out.String(), err
}

// goTool is the go command of the toolchain running this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	p, err := exec.LookPath("go")
	require.NoError(t, err, "no go command to run the labs' local tests with")
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// lessonShort is how the local tests name a lab's lesson: "start/00".
func lessonShort(lab *catalog.Lab) string {
	track, name, _ := strings.Cut(lab.Lesson, "/")
	number, _, _ := strings.Cut(name, "-")
	return track + "/" + number
}
