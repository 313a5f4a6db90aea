package labproof

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/registry"
	"github.com/delab-dev/delab/checker/report"
)

// BenchmarkCheckLogsToMetrics times what `delab check start/01` does —
// build the learner's code with the harness, generate the inputs and run
// all three checks — on the reference solution, so every check runs to
// the end. "warm" reuses the Go build cache; "cold" gives every iteration
// an empty GOCACHE, as on a learner's first check after installing Go.
// Run with `make bench`.
func BenchmarkCheckLogsToMetrics(b *testing.B) {
	c := loadCatalogB(b)
	lab := c.Lab("start/01-logs-to-metrics")
	g := registry.ByID(lab.ID)
	src := engine.Source{Dir: filepath.Join(repoRoot, "checker", "labs", "start", "01-logs-to-metrics", "solution"), ModuleDir: repoRoot, Display: lab.Dir}
	for _, mode := range []string{"warm", "cold"} {
		b.Run(mode, func(b *testing.B) {
			e := &engine.Engine{Seed: goldenSeed}
			if mode == "warm" {
				if r := e.Grade(context.Background(), lab, g, src); r.Status != report.Passed {
					b.Fatalf("reference did not pass: %+v", r)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if mode == "cold" {
					b.StopTimer()
					e.BuildEnv = []string{"GOCACHE=" + b.TempDir()}
					b.StartTimer()
				}
				r := e.Grade(context.Background(), lab, g, src)
				if r.Status != report.Passed {
					b.Fatalf("reference did not pass: %s", Transcript(r))
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/check")
		})
	}
}

// BenchmarkSandboxOverhead times a warm `delab check start/01` of the
// reference in each sandbox, one after the other in one run, so the
// container sandbox's cost per check (three learner runs) reads as a
// difference and a ratio. Needs Docker for the container half.
func BenchmarkSandboxOverhead(b *testing.B) {
	c := loadCatalogB(b)
	lab := c.Lab("start/01-logs-to-metrics")
	g := registry.ByID(lab.ID)
	src := engine.Source{Dir: filepath.Join(repoRoot, "checker", "labs", "start", "01-logs-to-metrics", "solution"), ModuleDir: repoRoot, Display: lab.Dir}
	for _, mode := range []string{engine.SandboxProcess, engine.SandboxContainer} {
		b.Run(mode, func(b *testing.B) {
			e := &engine.Engine{Seed: goldenSeed, Sandbox: mode, BuildRoot: b.TempDir()}
			if r := e.Grade(context.Background(), lab, g, src); r.Status != report.Passed {
				b.Skipf("%s sandbox unavailable or reference failed: %s", mode, Transcript(r))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r := e.Grade(context.Background(), lab, g, src); r.Status != report.Passed {
					b.Fatalf("reference did not pass: %s", Transcript(r))
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/check")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/3, "s/run")
		})
	}
}
