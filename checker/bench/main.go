// Command bench measures delab's services on this machine and prints a
// table: cold start time per service and for all three together, warm
// `delab check` latency on each smoke lab (reference solution, services
// already running, Go build cache warm), and peak memory per service.
// Run it with `make bench`; it needs a Docker engine and the images.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/registry"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

var all = services.Names()

func main() {
	tclog.SetDefault(tclog.NewNoopLogger())
	repo := flag.String("repo", ".", "the delab checkout")
	runs := flag.Int("runs", 5, "warm checks per smoke lab")
	flag.Parse()
	if err := run(context.Background(), *repo, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, repo string, runs int) error {
	if err := services.CheckDocker(ctx); err != nil {
		return err
	}
	images := services.ImagesFromEnv()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "images:\t%s, %s, %s\n\n", images.Of(catalog.Kafka), images.Of(catalog.HDFS), images.Of(catalog.Spark))

	fmt.Fprintln(w, "cold start (container created → ready)\tseconds")
	for _, s := range all {
		st, err := services.Start(ctx, []catalog.Service{s}, services.StackOptions{})
		if err != nil {
			_ = st.Terminate(ctx)
			return err
		}
		fmt.Fprintf(w, "%s\t%.1f\n", s, st.StartDurations[s].Seconds())
		if err := st.Terminate(ctx); err != nil {
			return err
		}
	}
	t0 := time.Now()
	st, err := services.Start(ctx, all, services.StackOptions{})
	defer st.Terminate(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "all three together\t%.1f\n\n", time.Since(t0).Seconds())

	c, err := catalog.Load(lessons.FS, labs.FS)
	if err != nil {
		return err
	}
	provider := &fixed{st}
	buildRoot, err := os.MkdirTemp("", "delab-bench-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(buildRoot)
	fmt.Fprintln(w, "warm check (reference solution)\tmedian s\tmin s\tmax s")
	for _, id := range []string{"kafka/01-first-produce-consume", "hdfs/01-put-and-get", "spark/01-first-sql"} {
		lab, g := c.Lab(id), registry.ByID(id)
		src := engine.Source{Dir: filepath.Join(repo, "checker", "labs", filepath.FromSlash(id), "solution"), ModuleDir: repo, Display: lab.Dir}
		// Build the way `delab check` does: in a reused per-lab folder.
		e := &engine.Engine{Services: provider, BuildRoot: buildRoot}
		if r := e.Grade(ctx, lab, g, src); r.Status != report.Passed { // warms the build cache
			return fmt.Errorf("%s: reference did not pass: %s", id, r.Message)
		}
		var ds []float64
		for i := 0; i < runs; i++ {
			t := time.Now()
			if r := e.Grade(ctx, lab, g, src); r.Status != report.Passed {
				return fmt.Errorf("%s: reference did not pass", id)
			}
			ds = append(ds, time.Since(t).Seconds())
		}
		sort.Float64s(ds)
		fmt.Fprintf(w, "%s\t%.2f\t%.2f\t%.2f\n", id, ds[len(ds)/2], ds[0], ds[len(ds)-1])
	}
	mem, err := st.MemoryUse(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nmemory after the checks\tcurrent MiB\tpeak MiB")
	var total, peak int64
	for _, s := range all {
		m := mem[s]
		total += m.Usage
		peak += m.Peak
		fmt.Fprintf(w, "%s\t%d\t%d\n", s, m.Usage>>20, m.Peak>>20)
	}
	fmt.Fprintf(w, "all three\t%d\t%d (sum of peaks)\n", total>>20, peak>>20)
	return w.Flush()
}

// fixed serves one running stack to every lab and never removes it.
type fixed struct{ st *services.Stack }

type noRelease struct{ *services.Stack }

func (noRelease) Release(context.Context) error { return nil }

func (f *fixed) Acquire(context.Context, []catalog.Service) (services.Session, error) {
	return noRelease{f.st}, nil
}
