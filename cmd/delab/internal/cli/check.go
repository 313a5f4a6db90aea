package cli

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/progress"
	"github.com/delab-dev/delab/checker/report"
)

// CheckOptions are the inputs of `delab check`.
type CheckOptions struct {
	IO      *IOStreams
	Factory *Factory
	// Lab is a full or short lab id.
	Lab string
	// Repo is the --repo flag.
	Repo func() string
	// Verbose shows the checker log of passing checks too.
	Verbose bool
	// Seed fixes generated inputs, to reproduce a run; 0 picks one.
	Seed uint64
}

// NewCmdCheck builds `delab check`.
func NewCmdCheck(f *Factory, repo func() string, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO, Factory: f, Repo: repo}
	cmd := &cobra.Command{
		Use:   "check <lab>",
		Short: "Grade your code for one lab",
		Long: `Build your code for a lab and grade it, check by check. For each check you
see what the checker did, what it saw and what it expected, your program's
own output under [your code], and a hint with the lesson section to reread.

Your code runs in its own process with a time and memory limit per check;
the checker judges what it produced, never what it printed.

Labs accept short ids: "start/01", "01-logs-to-metrics", "logs-to-metrics".
Exit status: 0 when every check passes, 1 when one fails, 2 on errors.`,
		Example: "  delab check start/01\n  delab check logs-to-metrics --verbose",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lab = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "show the checker's log for passing checks too")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed for generated inputs (reproduces a run)")
	return cmd
}

func checkRun(ctx context.Context, opts *CheckOptions) error {
	f := opts.Factory
	c, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	fmt.Fprintf(opts.IO.ErrOut, "Checking %s (building your code in %s)…\n", lab.ID, lab.Dir)
	res, err := gradeLab(ctx, f, repo, lab, opts.Seed)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	run := newRun(f, []*report.Lab{res}, ctx.Err() != nil)
	if err := report.WriteText(opts.IO.Out, run, report.TextOptions{Color: opts.IO.Color, Verbose: opts.Verbose}); err != nil {
		return err
	}
	if run.Interrupted {
		return errInterrupted
	}
	if err := recordProgress(f, res); err != nil {
		fmt.Fprintln(opts.IO.ErrOut, "warning: could not save progress: "+err.Error())
	}
	fmt.Fprintln(opts.IO.Out)
	fmt.Fprintln(opts.IO.Out, checkSummary(c, lab, res))
	if res.Status != report.Passed {
		return errChecksFailed
	}
	return nil
}

// gradeLab grades one lab of the checkout at repo with its trusted grader.
func gradeLab(ctx context.Context, f *Factory, repo string, lab *catalog.Lab, seed uint64) (*report.Lab, error) {
	g := f.Grader(lab.ID)
	if g == nil {
		return nil, fmt.Errorf("lab %s has no grader in this build of delab", lab.ID)
	}
	e := f.Engine()
	if len(lab.Services) > 0 {
		f.sweepLeftovers(ctx)
		e.Services = f.Services()
	}
	if seed == 0 {
		seed = newSeed()
	}
	e.Seed = seed
	return e.Grade(ctx, lab, g, engine.SourceFor(repo, lab)), nil
}

func newRun(f *Factory, labs []*report.Lab, interrupted bool) *report.Run {
	r := &report.Run{SchemaVersion: report.SchemaVersion, Tool: "delab", StartedAt: f.Now().UTC(), Labs: labs, Interrupted: interrupted}
	var d report.Seconds
	for _, l := range labs {
		d += l.Duration
	}
	r.Duration = d
	r.Total()
	return r
}

func recordProgress(f *Factory, res *report.Lab) error {
	s, err := f.Progress()
	if err != nil {
		return err
	}
	warn, err := s.Update(func(p *progress.Progress) { p.Record(res, f.Now()) })
	if warn != "" {
		fmt.Fprintln(f.IO.ErrOut, "warning: "+warn)
	}
	return err
}

func checkSummary(c *catalog.Catalog, lab *catalog.Lab, res *report.Lab) string {
	passed := 0
	for _, ch := range res.Checks {
		if ch.Status == report.Passed {
			passed++
		}
	}
	if res.Status == report.Passed {
		next := "That was the last lab for now"
		labs := c.Labs()
		for i, l := range labs {
			if l.ID == lab.ID && i+1 < len(labs) {
				next = fmt.Sprintf("Next lab: `delab read %s`, then `delab check %s`", labs[i+1].Lesson, short(labs[i+1]))
			}
		}
		return fmt.Sprintf("All %d checks pass (%d/%d points). %s.", len(res.Checks), res.Points, res.MaxPoints, next)
	}
	if res.Status == report.Error {
		return fmt.Sprintf("%d of %d checks pass; the checker hit a problem that is not your fault (see above).", passed, len(res.Checks))
	}
	return fmt.Sprintf("%d of %d checks pass (%d/%d points). Fix the first ✗, then check again — or `delab watch %s` to re-check on every save; `delab hint %s` for more help.",
		passed, len(res.Checks), res.Points, res.MaxPoints, short(lab), short(lab))
}

// newSeed picks a fresh non-zero seed.
func newSeed() uint64 { return rand.Uint64()>>1 + 1 }
