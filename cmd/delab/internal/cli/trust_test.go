package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/report"
)

// evilModule is a module whose init leaves a marker file: if it is ever
// compiled into the graded binary, the marker appears.
func evilModule(t *testing.T, marker string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/evil\n\ngo 1.21\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "evil.go"), []byte(`package evil

import "os"

func init() { _ = os.WriteFile(`+"`"+marker+"`"+`, []byte("pwned"), 0o644) }

// Pass pretends the work is done.
func Pass() error { return nil }
`), 0o644))
	return dir
}

// TestStudentInfluencesGradingOnlyThroughLabGoFiles grades a reference
// solution next to attempts to change grading from outside the lab's .go
// files: go.mod replace directives, a vendor folder, an edited lab.yaml,
// Go files elsewhere in the checkout and files the build ignores. None
// changes the verdict, the points or the digest of what was graded.
func TestStudentInfluencesGradingOnlyThroughLabGoFiles(t *testing.T) {
	e := newEnv(t, solution)
	grade := func() *report.Run {
		t.Helper()
		out := filepath.Join(t.TempDir(), "r.json")
		code := e.run("grade", "--lab", "start/01", "--format", "json", "--out", out, "--seed", "3")
		r := readReportFile(t, out)
		require.Equal(t, ExitOK, code, "%s\n%+v", e.err.String(), r.Labs[0].Checks[0])
		return r
	}
	honest := grade()
	require.Equal(t, 10, honest.Points)

	marker := filepath.Join(t.TempDir(), "pwned")
	evil := evilModule(t, marker)
	gomod := mustRead(t, filepath.Join(e.repo, "go.mod"))
	write := func(rel, data string) {
		t.Helper()
		p := filepath.Join(e.repo, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	// Replace a module the build uses, and require one it does not.
	write("go.mod", string(gomod)+"\nrequire example.com/evil v0.0.0\n\nreplace example.com/evil => "+evil+"\n\nreplace github.com/stretchr/testify => "+evil+"\n")
	write("go.sum", "example.com/evil v0.0.0 h1:forged=\n")
	write("vendor/modules.txt", "# example.com/evil v0.0.0 => "+evil+"\n## explicit\nexample.com/evil\n")
	write("vendor/example.com/evil/evil.go", "package evil\n")
	// The lab's definition in the checkout: the binary's is used.
	write(labDir+"/lab.yaml", "title: Free points\nchecks:\n  - id: clean-aggregates\n    points: 1000\n")
	// Go files outside the lab folder, and ones the build leaves out.
	write(labDir+"/sub/cheat.go", "package cheat\n\nimport _ \"example.com/evil\"\n")
	write("cheat.go", "package delab\n\nimport _ \"example.com/evil\"\n")
	write(labDir+"/ignored.go", "//go:build ignore\n\npackage logmetrics\n\nimport _ \"example.com/evil\"\n")
	write(labDir+"/evil_test.go", "package logmetrics\n\nimport _ \"example.com/evil\"\n")

	tampered := grade()
	assert.Equal(t, honest.Points, tampered.Points)
	assert.Equal(t, honest.MaxPoints, tampered.MaxPoints, "lab.yaml in the checkout does not set points")
	assert.Equal(t, "Logs to metrics", tampered.Labs[0].Title)
	_, err := os.Stat(marker)
	assert.True(t, os.IsNotExist(err), "the replaced module was never compiled in")
	// The ignored file is a lab .go file the engine read, so it counts in
	// the digest; the test file, subfolder and root files are not read.
	files, err := studentFiles(e.repo, mustLabs(t, e))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	assert.Equal(t, []string{labDir + "/ignored.go", labDir + "/metrics.go"}, names)

	// The only way in is the lab's own .go files: importing the replaced
	// module from them fails to build against the trusted go.mod.
	src := string(mustRead(t, filepath.Join(e.repo, labDir, "metrics.go")))
	write(labDir+"/metrics.go", strings.Replace(src, "import (", "import (\n\t_ \"example.com/evil\"", 1))
	out := filepath.Join(t.TempDir(), "r.json")
	assert.Equal(t, ExitChecksFail, e.run("grade", "--lab", "start/01", "--format", "json", "--out", out))
	r := readReportFile(t, out)
	require.NotNil(t, r.Labs[0].Build)
	assert.Contains(t, r.Labs[0].Build.Output, "example.com/evil")
	assert.Equal(t, 0, r.Points)
	_, err = os.Stat(marker)
	assert.True(t, os.IsNotExist(err), "the student's replace directive is not used")
	assert.NotEqual(t, honest.SourceDigest, r.SourceDigest, "a changed lab file changes the digest")
}

func mustLabs(t *testing.T, e *env) []*catalog.Lab {
	t.Helper()
	labs, err := gradeLabs(e.f, []string{"start/01"})
	require.NoError(t, err)
	return labs
}
