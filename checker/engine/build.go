package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/report"
)

//go:embed kit.go.txt
var kitSource string

// kits are the per-service client helpers a harness may ask for: one
// kit_<service>.go.txt each, written into the build as kitFile(<service>).
//
//go:embed kit_*.go.txt
var kits embed.FS

// kitFile is the name a kit has in the build folder.
func kitFile(kit string) string { return "delab_kit_" + kit + ".go" }

var moduleLine = regexp.MustCompile(`(?m)^module\s+\S+\s*$`)

// build assembles a throw-away module — the learner's .go files as package
// LearnerImport, the lab's harness and the engine's kit as main — and
// compiles it. The learner's folder is only read. A compile error comes
// back as a BuildFailure with paths rewritten to the learner's files.
func (e *Engine) build(ctx context.Context, work string, src Source, g *grader.Lab) (string, *report.BuildFailure, error) {
	files, err := learnerFiles(src.Dir)
	if err != nil {
		return "", nil, err
	}
	if len(files) == 0 {
		return "", &report.BuildFailure{
			Output: fmt.Sprintf("%s: no Go files found (run `delab reset` to restore the starter)", src.display()),
			First:  fmt.Sprintf("%s: no Go files found", src.display()),
		}, nil
	}
	gomod, sum, err := e.moduleFiles(src)
	if err != nil {
		return "", nil, err
	}
	if !moduleLine.Match(gomod) {
		return "", nil, fmt.Errorf("%s: no module line", filepath.Join(src.ModuleDir, "go.mod"))
	}
	gomod = moduleLine.ReplaceAll(gomod, []byte("module delab.local/work"))
	if err := os.WriteFile(filepath.Join(work, "go.mod"), gomod, 0o644); err != nil {
		return "", nil, err
	}
	// A reused build folder may hold an earlier go.sum: it goes either way.
	_ = os.Remove(filepath.Join(work, "go.sum"))
	if sum != nil {
		if err := os.WriteFile(filepath.Join(work, "go.sum"), sum, 0o644); err != nil {
			return "", nil, err
		}
	}
	learnerDir := filepath.Join(work, "learner")
	// A reused build folder must hold exactly the trusted files and the
	// learner's current ones: anything else (a .go file planted by an
	// earlier run's learner code, a vendor folder, a stale kit) is removed,
	// or it would be compiled into this build.
	if err := cleanBuildDir(work, g.Kits); err != nil {
		return "", nil, err
	}
	if err := os.RemoveAll(learnerDir); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(learnerDir, 0o755); err != nil {
		return "", nil, err
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(src.Dir, f))
		if err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(filepath.Join(learnerDir, f), data, 0o644); err != nil {
			return "", nil, err
		}
	}
	if g.Wrap != nil {
		if fail, err := applyWrap(learnerDir, files, g.Wrap, src.display()); fail != nil || err != nil {
			return "", fail, err
		}
	}
	if err := os.WriteFile(filepath.Join(work, "harness.go"), []byte(g.Harness), 0o644); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "delab_kit.go"), []byte(kitSource), 0o644); err != nil {
		return "", nil, err
	}
	if err := writeKits(work, g); err != nil {
		return "", nil, err
	}

	bin := filepath.Join(work, "lab.bin")
	// -trimpath keeps build-folder paths out of the binary (panic traces
	// name the learner's package, not a temp folder).
	cmd := exec.CommandContext(ctx, e.goBin(), "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = work
	// CGO_ENABLED=0: a static binary runs in the container sandbox's
	// empty root file system as it does on the host.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly -buildvcs=false", "CGO_ENABLED=0")
	cmd.Env = append(cmd.Env, e.BuildEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = startOwn(cmd)
	if err == nil {
		err = cmd.Wait()
		forgetOwn(cmd.Process.Pid)
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if _, ok := err.(*exec.ExitError); !ok {
			return "", nil, fmt.Errorf("run go build: %w", err)
		}
		return "", compileFailure(out.String(), src.display()), nil
	}
	return bin, nil, nil
}

// applyWrap renames, in the learner's copied files, the declarations of
// the functions w wraps, and writes w's source beside them as the
// learner's package (see grader.Wrap). Files that do not parse are left
// alone: the compiler will say why.
func applyWrap(learnerDir string, files []string, w *grader.Wrap, display string) (*report.BuildFailure, error) {
	if slices.Contains(files, grader.WrapFile) {
		msg := fmt.Sprintf("%s/%s: this file name is the checker's own; rename your file", display, grader.WrapFile)
		return &report.BuildFailure{Output: msg, First: msg}, nil
	}
	pkg := ""
	for _, f := range files {
		path := filepath.Join(learnerDir, f)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, data, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		if pkg == "" {
			pkg = file.Name.Name
		}
		var at []int
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && slices.Contains(w.Funcs, fd.Name.Name) {
				at = append(at, fset.Position(fd.Name.Pos()).Offset)
			}
		}
		if len(at) == 0 {
			continue
		}
		var out []byte
		last := 0
		for _, off := range at {
			out = append(append(out, data[last:off]...), grader.WrappedPrefix...)
			last = off
		}
		out = append(out, data[last:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return nil, err
		}
	}
	if pkg == "" {
		return nil, nil
	}
	source := packageClause.ReplaceAllString(w.Source, "package "+pkg)
	return nil, os.WriteFile(filepath.Join(learnerDir, grader.WrapFile), []byte(source), 0o644)
}

var packageClause = regexp.MustCompile(`(?m)^package\s+\w+`)

// moduleFiles returns the go.mod and go.sum (nil when there is none) to
// build against: the trusted ones when set, else Source.ModuleDir's.
func (e *Engine) moduleFiles(src Source) (gomod, sum []byte, err error) {
	if e.TrustedGoMod != nil {
		return e.TrustedGoMod, e.TrustedGoSum, nil
	}
	gomod, err = os.ReadFile(filepath.Join(src.ModuleDir, "go.mod"))
	if err != nil {
		return nil, nil, fmt.Errorf("read go.mod: %w", err)
	}
	if s, err := os.ReadFile(filepath.Join(src.ModuleDir, "go.sum")); err == nil {
		sum = s
	}
	return gomod, sum, nil
}

// writeKits writes the client kit of each of g.Kits into work; a service
// the engine has no kit for gets none.
func writeKits(work string, g *grader.Lab) error {
	for _, k := range g.Kits {
		src, err := kits.ReadFile("kit_" + k + ".go.txt")
		switch {
		case err != nil && slices.Contains(catalog.Services, catalog.Service(k)):
			continue
		case err != nil:
			return fmt.Errorf("lab %s asks for unknown kit %q", g.ID, k)
		}
		if err := os.WriteFile(filepath.Join(work, kitFile(k)), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// cleanBuildDir removes every entry of a build folder that the next build
// does not write itself.
func cleanBuildDir(work string, kits []string) error {
	keep := map[string]bool{"go.mod": true, "go.sum": true, "learner": true, "harness.go": true, "delab_kit.go": true, ".lock": true}
	for _, k := range kits {
		keep[kitFile(k)] = true
	}
	entries, err := os.ReadDir(work)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(work, e.Name())); err != nil {
				return fmt.Errorf("clean build folder: %w", err)
			}
		}
	}
	return nil
}

// labBinary is the built lab, copied out of the build folder into the
// grading run's own folder, with the digest it had then: each run checks
// it, so a binary changed by learner code between two runs is caught.
type labBinary struct {
	path   string
	digest [sha256.Size]byte
}

// installBinary copies the built binary to dir/lab.bin (read and execute
// for everyone, writable by the grader only) and records its digest.
func installBinary(built, dir string) (*labBinary, error) {
	data, err := os.ReadFile(built)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "lab.bin")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		return nil, err
	}
	return &labBinary{path: path, digest: sha256.Sum256(data)}, nil
}

// verify reports a binary that no longer matches what was built.
func (b *labBinary) verify() error {
	data, err := os.ReadFile(b.path)
	if err != nil {
		return grader.Failf("the checker's build of your code is gone (%v): something, likely your code, removed it", err)
	}
	if sha256.Sum256(data) != b.digest {
		return grader.Failf("the checker's build of your code was changed after it was built: your code must not write outside the folders it is given")
	}
	return nil
}

// learnerFiles lists the non-test .go files directly in dir.
func learnerFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read lab folder: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			out = append(out, n)
		}
	}
	return out, nil
}

var compileLine = regexp.MustCompile(`^(\S+\.go):\d+(:\d+)?: `)

// compileFailure rewrites the throw-away module's paths into the learner's
// and explains errors in the harness, which mean the learner's package does
// not offer what the lab asks for.
func compileFailure(out, display string) *report.BuildFailure {
	var lines []string
	first := ""
	for _, ln := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.HasPrefix(ln, "# ") {
			continue
		}
		wrapped := strings.Contains(ln, "learner/"+grader.WrapFile)
		ln = strings.ReplaceAll(ln, grader.WrappedPrefix, "")
		ln = strings.ReplaceAll(ln, "learner/", display+"/")
		if wrapped {
			// The checker's wrappers in the learner's package call the
			// learner's functions by the starter's signatures.
			ln = strings.TrimPrefix(strings.TrimPrefix(ln, "./"), display+"/")
			ln = "harness.go" + strings.TrimPrefix(ln, grader.WrapFile)
		}
		ln = strings.Replace(ln, "./"+display, display, 1)
		if strings.HasPrefix(ln, "./harness.go") || strings.HasPrefix(ln, "harness.go") {
			ln = strings.TrimPrefix(strings.TrimPrefix(ln, "./"), "harness.go")
			ln = "delab's harness (the code that calls yours)" + ln + " — check that your package still has the function names and signatures the starter had"
		}
		if first == "" && compileLine.MatchString(ln) || first == "" && strings.HasPrefix(ln, "delab's harness") {
			first = ln
		}
		lines = append(lines, ln)
	}
	if first == "" && len(lines) > 0 {
		first = lines[0]
	}
	return &report.BuildFailure{Output: strings.Join(lines, "\n"), First: first}
}

// buildDir returns the folder to build lab in: a stable per-lab folder
// under BuildRoot, locked for this process, or a fresh one under work when
// BuildRoot is unset or the stable one is busy (another delab grading the
// same lab).
func (e *Engine) buildDir(work string, lab *catalog.Lab) (string, func(), error) {
	fresh := func() (string, func(), error) {
		d := filepath.Join(work, "build")
		return d, func() {}, os.MkdirAll(d, 0o755)
	}
	if e.BuildRoot == "" {
		return fresh()
	}
	dir := filepath.Join(e.BuildRoot, strings.ReplaceAll(lab.ID, "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fresh()
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fresh()
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return fresh()
	}
	return dir, func() {
		_ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		lock.Close()
	}, nil
}
