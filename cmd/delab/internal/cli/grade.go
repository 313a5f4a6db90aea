package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/report"
)

// GradeOptions are the inputs of `delab grade`.
type GradeOptions struct {
	IO      *IOStreams
	Factory *Factory
	Repo    func() string
	// Format is text, json, junit or markdown.
	Format string
	// Out is a file to write the report to; empty means stdout.
	Out string
	// Labs limits grading to these ids; empty means every lab.
	Labs []string
	// Seed fixes generated inputs; 0 picks one (recorded in the report).
	Seed uint64
	// Invocation is how the user starts delab, for the command in the
	// report that reproduces the run; empty means commandPrefix().
	Invocation string
}

// NewCmdGrade builds `delab grade`.
func NewCmdGrade(f *Factory, repo func() string, runF func(context.Context, *GradeOptions) error) *cobra.Command {
	opts := &GradeOptions{IO: f.IO, Factory: f, Repo: repo, Invocation: commandPrefix()}
	cmd := &cobra.Command{
		Use:   "grade",
		Short: "Grade every lab of a checkout, with points and a machine-readable report",
		Long: `Grade every lab (or those named with --lab) in a checkout, for instructors
and CI. Only the learner's .go files are read from the checkout: lab
definitions, checks, points and graders come from this delab binary.

Formats: text (terminal), json (see checker/report/schema.json), junit
(one testsuite per lab, one testcase per check), markdown (for a CI job
summary). Every format carries the seed and the command that reproduces
the run. Exit status: 0 when every lab passes, 1 when a check fails, 2 on
errors (including a checker or service error in a check), 130 when
interrupted.`,
		Example: "  delab grade --repo ./student --format junit --out report.xml\n  delab grade --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.Format {
			case "text", "json", "junit", "markdown":
			default:
				return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown --format %q (use text, json, junit or markdown)", opts.Format)}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return gradeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "report format: text, json, junit or markdown")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the report to this file instead of stdout")
	cmd.Flags().StringSliceVar(&opts.Labs, "lab", nil, "grade only these labs (repeatable)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed for generated inputs (reproduces a run)")
	return cmd
}

func gradeRun(ctx context.Context, opts *GradeOptions) error {
	f := opts.Factory
	c, err := f.Catalog()
	if err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("course content is invalid:\n%w", err)}
	}
	labs := c.Labs()
	if len(opts.Labs) > 0 {
		labs = nil
		for _, id := range opts.Labs {
			l, err := c.ResolveLab(id)
			if err != nil {
				return &exitCodeError{code: ExitError, err: err}
			}
			labs = append(labs, l)
		}
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	// A report that cannot be written is found out before grading, not after.
	if opts.Out != "" {
		if err := checkOutPath(opts.Out); err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
	}
	seed := opts.Seed
	if seed == 0 {
		seed = newSeed()
	}
	var results []*report.Lab
	for _, lab := range labs {
		if ctx.Err() != nil {
			results = append(results, skippedLab(lab, "interrupted before this lab was graded"))
			continue
		}
		fmt.Fprintf(opts.IO.ErrOut, "grading %s… ", lab.ID)
		res, err := gradeLab(ctx, f, repo, lab, seed, nil)
		if err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s, %d/%d points\n", res.Status, res.Points, res.MaxPoints)
		results = append(results, res)
	}
	run := newRun(f, results, ctx.Err() != nil)
	run.Seed = seed
	run.Command = reproduceCommand(f, cmp.Or(opts.Invocation, commandPrefix()), opts.Repo(), repo, opts.Labs, "grade", "--seed", fmt.Sprint(seed))
	var buf bytes.Buffer
	switch opts.Format {
	case "json":
		err = report.WriteJSON(&buf, run)
	case "junit":
		err = report.WriteJUnit(&buf, run)
	case "markdown":
		err = report.WriteMarkdown(&buf, run)
	default:
		err = report.WriteText(&buf, run, report.TextOptions{Color: opts.IO.Color && opts.Out == ""})
	}
	if err != nil {
		return err
	}
	if opts.Out == "" {
		if _, err := opts.IO.Out.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := writeFileAtomic(opts.Out, buf.Bytes()); err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		fmt.Fprintf(opts.IO.ErrOut, "%d/%d points; %s report written to %s\n", run.Points, run.MaxPoints, opts.Format, opts.Out)
	}
	if run.Interrupted {
		return errInterrupted
	}
	for _, l := range run.Labs {
		if l.Status == report.Error {
			return errCheckerFault
		}
	}
	if !run.AllPassed() {
		return errChecksFailed
	}
	return nil
}

func skippedLab(lab *catalog.Lab, why string) *report.Lab {
	l := &report.Lab{ID: lab.ID, Title: lab.Title, Message: why}
	for _, c := range lab.Checks {
		l.Checks = append(l.Checks, &report.Check{ID: c.ID, Title: c.Title, Status: report.Skipped, MaxPoints: c.Points, Message: why, Log: []string{}})
	}
	l.Finish()
	return l
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".delab-report-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
