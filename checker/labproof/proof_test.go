package labproof

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/txtar"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/registry"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

var update = flag.Bool("update", false, "rewrite golden transcripts")

// provider serves every service lab's scenarios from one stack, started
// on first use and removed when the tests end.
var (
	providerOnce sync.Once
	provider     *services.Docker
	providerErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	writeProofTimesOrSay(os.Getenv("DELAB_PROOF_TIMES"))
	if provider != nil {
		if err := provider.Close(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "remove services:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// proofTimes sums each lab's proof subtests (starter, reference, right
// and wrong solutions) and, apart, its seed sample: CI prints them, so a
// lab that grows slow shows. The file is rewritten as each subtest starts
// and ends, naming what is running, so that when go test's -timeout kills
// the package the file still says where the time went and what hung.
var proofTimes = struct {
	sync.Mutex
	by      map[string]time.Duration
	running map[string]time.Time
}{by: map[string]time.Duration{}, running: map[string]time.Time{}}

func timeProof(t *testing.T, lab string) {
	start := time.Now()
	proofTimes.Lock()
	proofTimes.running[t.Name()] = start
	proofTimes.Unlock()
	writeProofTimesOrSay(os.Getenv("DELAB_PROOF_TIMES"))
	t.Cleanup(func() {
		proofTimes.Lock()
		proofTimes.by[lab] += time.Since(start)
		delete(proofTimes.running, t.Name())
		proofTimes.Unlock()
		writeProofTimesOrSay(os.Getenv("DELAB_PROOF_TIMES"))
	})
}

func writeProofTimesOrSay(path string) {
	if err := writeProofTimes(path); err != nil {
		fmt.Fprintln(os.Stderr, "proof times:", err)
	}
}

// writeProofTimes writes "lab seconds" lines, slowest first, to path
// (DELAB_PROOF_TIMES, set by .ci/run), then the subtests still running
// and since when; nothing when path is empty or no lab was proved.
func writeProofTimes(path string) error {
	proofTimes.Lock()
	defer proofTimes.Unlock()
	if path == "" || len(proofTimes.by)+len(proofTimes.running) == 0 {
		return nil
	}
	labs := make([]string, 0, len(proofTimes.by))
	var total time.Duration
	for l, d := range proofTimes.by {
		labs = append(labs, l)
		total += d
	}
	sort.Slice(labs, func(i, j int) bool { return proofTimes.by[labs[i]] > proofTimes.by[labs[j]] })
	var b strings.Builder
	for _, l := range labs {
		fmt.Fprintf(&b, "%-44s %6.0f s\n", l, proofTimes.by[l].Seconds())
	}
	fmt.Fprintf(&b, "%-44s %6.0f s\n", "sum over labs", total.Seconds())
	for name, since := range proofTimes.running {
		fmt.Fprintf(&b, "still running: %s, for %.0f s (since %s)\n", name, time.Since(since).Seconds(), since.UTC().Format("15:04:05"))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// serviceProvider returns the shared provider, skipping the test under
// -short (make test-short), and when no Docker engine answers — except in
// CI (CI=true), where it fails, so that a green run always means the
// service labs were proved.
func serviceProvider(t *testing.T) services.Provider {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: service labs are proved by the full make test")
	}
	providerOnce.Do(func() {
		if providerErr = services.CheckDocker(context.Background()); providerErr == nil {
			all := services.Names()
			// Repeated runs of one track start only its services, e.g.
			// DELAB_PROOF_SERVICES=kafka: lighter when runs go in parallel.
			if only := os.Getenv("DELAB_PROOF_SERVICES"); only != "" {
				all = nil
				for _, s := range strings.Split(only, ",") {
					all = append(all, catalog.Service(strings.TrimSpace(s)))
				}
			}
			provider = &services.Docker{Keep: true, KeepAll: all}
		}
	})
	if providerErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("service labs must be proved in CI: %v", providerErr)
		}
		t.Skipf("skipping service lab: %v", providerErr)
	}
	return provider
}

const repoRoot = "../.."

// goldenSeed fixes generated inputs so transcripts are stable.
const goldenSeed = 20261123

func loadCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Load(lessons.FS, labs.FS)
	require.NoError(t, err)
	return c
}

func loadCatalogB(b *testing.B) *catalog.Catalog {
	b.Helper()
	c, err := catalog.Load(lessons.FS, labs.FS)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func TestEveryLabHasAGraderAndEveryGraderALab(t *testing.T) {
	c := loadCatalog(t)
	for _, l := range c.Labs() {
		g := registry.ByID(l.ID)
		if assert.NotNil(t, g, "lab %s has no grader under checker/labs (then run go generate ./checker/registry)", l.ID) {
			for _, ch := range l.Checks {
				assert.NotNil(t, g.Checks[ch.ID], "lab %s: grader has no function for check %q", l.ID, ch.ID)
			}
			for id := range g.Checks {
				assert.NotNil(t, l.Check(id), "lab %s: grader implements %q, which lab.yaml does not list", l.ID, id)
			}
		}
	}
	for _, g := range registry.All() {
		assert.NotNil(t, c.Lab(g.ID), "grader %s has no lab.yaml", g.ID)
	}
}

// TestWorkingCopyMatchesStarter keeps labs/ (what a learner edits) equal to
// the pristine starter that `delab reset` restores and the proof grades.
func TestWorkingCopyMatchesStarter(t *testing.T) {
	for _, g := range registry.All() {
		a := txtar.Parse(g.Starter)
		require.NotEmpty(t, a.Files, g.ID)
		dir := filepath.Join(repoRoot, "labs", filepath.FromSlash(g.ID))
		var onDisk []string
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			// A lab's local test (*_test.go) is the learner's, not the starter's.
			if strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
				onDisk = append(onDisk, e.Name())
			}
		}
		assert.ElementsMatch(t, grader.StarterFiles(g.Starter), onDisk, "%s: starter.txtar and labs/ list different files (run `make starters`)", g.ID)
		for _, f := range a.Files {
			data, err := os.ReadFile(filepath.Join(dir, f.Name))
			if assert.NoError(t, err) {
				assert.Equal(t, string(f.Data), string(data), "%s/%s differs from starter.txtar: run `make starters` after changing a starter, or `delab reset` to discard local edits", g.ID, f.Name)
			}
		}
	}
}

// TestLabsProveTheirGraders is the rustlings `dev check` of delab.
func TestLabsProveTheirGraders(t *testing.T) {
	c := loadCatalog(t)
	inLanes(t, c.Labs(), func(t *testing.T, lab *catalog.Lab) {
		g := registry.ByID(lab.ID)
		require.NotNil(t, g)
		graderDir := filepath.Join(repoRoot, "checker", "labs", filepath.FromSlash(lab.ID))
		proof, err := LoadProof(filepath.Join(graderDir, "proof.yaml"))
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(proof.Wrong), 3, "%s: a lab needs at least three wrong solutions", lab.ID)

		engineFor := func(t *testing.T) *engine.Engine {
			if testing.Short() {
				t.Skip("-short: the labs are proved by the full make test")
			}
			timeProof(t, lab.ID)
			e := &engine.Engine{Seed: goldenSeed, Sandbox: proofSandbox(t, lab)}
			if len(lab.Services) > 0 {
				e.Services = serviceProvider(t)
			}
			return e
		}
		t.Run(lab.ID+"/starter", func(t *testing.T) {
			eng := engineFor(t)
			dir := t.TempDir()
			require.NoError(t, grader.ExtractStarter(g.Starter, dir))
			res := eng.Grade(context.Background(), lab, g, engine.Source{Dir: dir, ModuleDir: repoRoot, Display: lab.Dir})
			assert.NotEqual(t, report.Passed, res.Status, "the untouched starter must not pass")
			assert.Less(t, res.Points, res.MaxPoints)
			checkGolden(t, graderDir, "starter", res, proof.Normalise)
		})
		t.Run(lab.ID+"/reference", func(t *testing.T) {
			eng := engineFor(t)
			res := eng.Grade(context.Background(), lab, g, engine.Source{Dir: filepath.Join(graderDir, "solution"), ModuleDir: repoRoot, Display: lab.Dir})
			for _, ch := range res.Checks {
				assert.Equal(t, report.Passed, ch.Status, "reference must pass %s: %s %s", ch.ID, ch.Message, strings.Join(ch.Log, "; "))
			}
			assert.Equal(t, res.MaxPoints, res.Points)
			checkGolden(t, graderDir, "reference", res, proof.Normalise)
		})
		for _, r := range proof.Right {
			name := filepath.Base(r.Dir)
			t.Run(lab.ID+"/right/"+name, func(t *testing.T) {
				eng := engineFor(t)
				res := eng.Grade(context.Background(), lab, g, engine.Source{Dir: filepath.Join(graderDir, r.Dir), ModuleDir: repoRoot, Display: lab.Dir})
				for _, ch := range res.Checks {
					assert.Equal(t, report.Passed, ch.Status, "%s (%s) must pass %s: %s %s", name, r.Why, ch.ID, ch.Message, strings.Join(ch.Log, "; "))
				}
				checkGolden(t, graderDir, "right-"+name, res, proof.Normalise)
			})
		}
		for _, w := range proof.Wrong {
			w := w
			name := filepath.Base(w.Dir)
			t.Run(lab.ID+"/wrong/"+name, func(t *testing.T) {
				eng := engineFor(t)
				check := lab.Check(w.Fails)
				require.NotNil(t, check, "proof.yaml names unknown check %q", w.Fails)
				res := eng.Grade(context.Background(), lab, g, engine.Source{Dir: filepath.Join(graderDir, w.Dir), ModuleDir: repoRoot, Display: lab.Dir})
				var got *report.Check
				for _, ch := range res.Checks {
					if ch.ID == w.Fails {
						got = ch
					}
				}
				require.NotNil(t, got)
				assert.Equal(t, report.Failed, got.Status, "%s must fail check %s (message %q)", name, w.Fails, got.Message)
				assert.Equal(t, check.Hints[0], got.Hint, "a failed check shows its first hint")
				assert.NotEqual(t, report.Passed, res.Status)
				checkGolden(t, graderDir, "wrong-"+name, res, proof.Normalise)
			})
		}
	})
}

// Lane names: the labs that need no service, and those that do.
const (
	laneDockerFree = "docker-free"
	laneServices   = "services"
)

// inLanes runs fn for each lab in two lanes side by side, one lab at a
// time in each: the Docker-free labs (start, serialization) and the
// service labs (Kafka, HDFS, Spark). The service lane is most of the
// proofs' time, and the Docker-free lane fits beside it without a second
// set of services on a 2-core machine: running two service labs at once
// would starve both. Subtests are named <test>/<lane>/<track>/<lab>/…, so
// `-run 'TestLabsProveTheirGraders//kafka/'` picks one track.
func inLanes(t *testing.T, labs []*catalog.Lab, fn func(t *testing.T, lab *catalog.Lab)) {
	lanes := map[string][]*catalog.Lab{}
	for _, lab := range labs {
		lane := laneDockerFree
		if len(lab.Services) > 0 {
			lane = laneServices
		}
		lanes[lane] = append(lanes[lane], lab)
	}
	for _, lane := range []string{laneServices, laneDockerFree} {
		if len(lanes[lane]) == 0 {
			continue
		}
		t.Run(lane, func(t *testing.T) {
			t.Parallel()
			for _, lab := range lanes[lane] {
				fn(t, lab)
			}
		})
	}
}

func checkGolden(t *testing.T, graderDir, name string, res *report.Lab, extra []Normaliser) {
	t.Helper()
	path := filepath.Join(graderDir, "testdata", name+".golden")
	got := Transcript(res, extra...)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./checker/labproof -update")
	assert.Equal(t, string(want), got, "transcript changed: review it, then run go test ./checker/labproof -update")
}

// proofSandbox is the sandbox a lab's proof runs in: the container sandbox
// (what `delab grade` uses with Docker) when Docker answers — always in CI —
// and the process sandbox otherwise. The seed sweep below runs in the
// process sandbox, so both are proved.
func proofSandbox(t *testing.T, lab *catalog.Lab) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := services.CheckDocker(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but Docker is not reachable for the container sandbox: %v", err)
		}
		return engine.SandboxProcess
	}
	return engine.SandboxContainer
}

// TestReferencesPassUnderOtherSeeds grades each reference with seeds other
// than the golden one: learners get a fresh seed on every check, so a
// generator that disagrees with the lesson's rules for some inputs would
// fail correct code at random.
func TestReferencesPassUnderOtherSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the labs are proved by the full make test")
	}
	c := loadCatalog(t)
	inLanes(t, c.Labs(), func(t *testing.T, lab *catalog.Lab) {
		for _, seed := range sweepSeeds(lab, false) {
			t.Run(fmt.Sprintf("%s/seed-%d", lab.ID, seed), func(t *testing.T) {
				timeProof(t, lab.ID+" (seed sample)")
				e := &engine.Engine{Seed: seed}
				if len(lab.Services) > 0 {
					e.Services = serviceProvider(t)
				}
				src := engine.Source{Dir: filepath.Join(repoRoot, "checker", "labs", filepath.FromSlash(lab.ID), "solution"), ModuleDir: repoRoot, Display: lab.Dir}
				res := e.Grade(context.Background(), lab, registry.ByID(lab.ID), src)
				for _, ch := range res.Checks {
					assert.Equal(t, report.Passed, ch.Status, "%s with seed %d: %s %s", ch.ID, seed, ch.Message, ch.Actual)
				}
			})
		}
	})
}

// sweepSeeds is the seeds a sweep grades a lab with. By default (CI) a
// sample: four seeds for a Docker-free lab, one for a service lab. `make
// sweep` sets DELAB_SWEEP_SEEDS=n: n seeds for a Docker-free lab, n/5 (at
// least 2) for a service lab. Wrong solutions get the first five of them
// at most: each must fail its check whatever the seed.
func sweepSeeds(lab *catalog.Lab, wrong bool) []uint64 {
	n := 4
	if v, err := strconv.Atoi(os.Getenv("DELAB_SWEEP_SEEDS")); err == nil && v > 0 {
		n = v
	}
	if len(lab.Services) > 0 {
		// CI's sample grades a service lab's reference with one seed
		// besides the proof's golden seed: each service run costs 30 s to
		// 4 min, and make sweep covers more before grader work is resolved.
		if os.Getenv("DELAB_SWEEP_SEEDS") != "" {
			n = max(2, n/5)
		} else {
			n = 1
		}
	}
	if wrong {
		n = min(n, 5)
	}
	seeds := []uint64{7, 1001, 424242, 99991}
	for i := uint64(1); len(seeds) < n; i++ {
		seeds = append(seeds, 1_000_003*i+11)
	}
	return seeds[:n]
}

// TestWrongSolutionsFailUnderOtherSeeds runs only in `make sweep`: each
// wrong solution must fail the check aimed at it under several seeds, so
// that a mistake caught only when the seed happens to reach its edge is
// found here, not by a learner.
func TestWrongSolutionsFailUnderOtherSeeds(t *testing.T) {
	if testing.Short() || os.Getenv("DELAB_SWEEP_SEEDS") == "" {
		t.Skip("runs in make sweep (DELAB_SWEEP_SEEDS)")
	}
	c := loadCatalog(t)
	inLanes(t, c.Labs(), func(t *testing.T, lab *catalog.Lab) {
		graderDir := filepath.Join(repoRoot, "checker", "labs", filepath.FromSlash(lab.ID))
		proof, err := LoadProof(filepath.Join(graderDir, "proof.yaml"))
		require.NoError(t, err)
		for _, w := range proof.Wrong {
			for _, seed := range sweepSeeds(lab, true) {
				t.Run(fmt.Sprintf("%s/%s/seed-%d", lab.ID, filepath.Base(w.Dir), seed), func(t *testing.T) {
					e := &engine.Engine{Seed: seed}
					if len(lab.Services) > 0 {
						e.Services = serviceProvider(t)
					}
					res := e.Grade(context.Background(), lab, registry.ByID(lab.ID), engine.Source{Dir: filepath.Join(graderDir, w.Dir), ModuleDir: repoRoot, Display: lab.Dir})
					for _, ch := range res.Checks {
						if ch.ID == w.Fails {
							assert.Equal(t, report.Failed, ch.Status, "%s with seed %d must fail %s", w.Dir, seed, w.Fails)
						}
					}
				})
			}
		}
	})
}
