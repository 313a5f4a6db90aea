package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/report"
)

// checkTally is how one check fared over repeated runs.
type checkTally struct {
	lab, id   string
	passed    int
	failed    int
	errored   int
	durations []time.Duration
}

// repeatLabs grades labs of repo n times, each with a fresh seed, and
// prints per check its pass rate and the spread of its durations: a check
// that passes only sometimes is flaky (or the code is), and the spread
// shows how close a check runs to its time limit. grade uses the trusted
// go.mod (trusted); check the checkout's, as a single check does.
func repeatLabs(ctx context.Context, f *Factory, w, progress io.Writer, repo string, labs []*catalog.Lab, n int, trusted bool) error {
	tallies := map[string]*checkTally{}
	var order []string
	var seeds []string
	for i := 1; i <= n && ctx.Err() == nil; i++ {
		seed := newSeed()
		seeds = append(seeds, fmt.Sprint(seed))
		for _, lab := range labs {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(progress, "run %d/%d (seed %d): %s… ", i, n, seed, lab.ID)
			var res *report.Lab
			var err error
			if trusted {
				res, err = gradeLabTrusted(ctx, f, repo, lab, seed, nil, nil)
			} else {
				res, err = gradeLab(ctx, f, repo, lab, seed, nil)
			}
			if err != nil {
				return &exitCodeError{code: ExitError, err: err}
			}
			fmt.Fprintf(progress, "%s, %d/%d points\n", res.Status, res.Points, res.MaxPoints)
			if ctx.Err() != nil {
				break // an interrupted run's verdicts are not verdicts
			}
			for _, c := range res.Checks {
				key := lab.ID + "\x00" + c.ID
				t := tallies[key]
				if t == nil {
					t = &checkTally{lab: lab.ID, id: c.ID}
					tallies[key] = t
					order = append(order, key)
				}
				switch c.Status {
				case report.Passed:
					t.passed++
				case report.Failed:
					t.failed++
				case report.Error:
					t.errored++
				default:
					continue // skipped: no duration worth counting
				}
				t.durations = append(t.durations, time.Duration(float64(c.Duration)*float64(time.Second)))
			}
		}
	}
	writeTallies(w, tallies, order, seeds)
	if ctx.Err() != nil {
		return errInterrupted
	}
	allPassed := true
	for _, t := range tallies {
		if t.errored > 0 {
			return errCheckerFault
		}
		allPassed = allPassed && t.failed == 0 && t.passed == len(seeds)
	}
	if !allPassed || len(tallies) == 0 {
		return errChecksFailed
	}
	return nil
}

func writeTallies(w io.Writer, tallies map[string]*checkTally, order, seeds []string) {
	fmt.Fprintf(w, "%d runs, seeds %s\n", len(seeds), strings.Join(seeds, ", "))
	lab := ""
	width := 0
	for _, k := range order {
		width = max(width, len(tallies[k].id))
	}
	for _, k := range order {
		t := tallies[k]
		if t.lab != lab {
			lab = t.lab
			fmt.Fprintf(w, "%s\n", lab)
		}
		runs := t.passed + t.failed + t.errored
		line := fmt.Sprintf("  %-*s  %d/%d passed", width, t.id, t.passed, runs)
		if t.errored > 0 {
			line += fmt.Sprintf(", %d checker errors", t.errored)
		}
		if len(t.durations) > 0 {
			d := append([]time.Duration(nil), t.durations...)
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			line += fmt.Sprintf("  duration min %s  median %s  max %s", round(d[0]), round(d[len(d)/2]), round(d[len(d)-1]))
		}
		if t.passed > 0 && t.passed < runs {
			line += "  (not the same verdict every run)"
		}
		fmt.Fprintln(w, line)
	}
}

func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// gradeRepeatRun is `delab grade --repeat N`.
func gradeRepeatRun(ctx context.Context, opts *GradeOptions) error {
	f := opts.Factory
	labs, err := gradeLabs(f, opts.Labs)
	if err != nil {
		return err
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	return repeatLabs(ctx, f, opts.IO.Out, opts.IO.ErrOut, repo, labs, opts.Repeat, true)
}

// checkRepeatRun is `delab check <lab> --repeat N`.
func checkRepeatRun(ctx context.Context, opts *CheckOptions) error {
	f := opts.Factory
	_, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	return repeatLabs(ctx, f, opts.IO.Out, opts.IO.ErrOut, repo, []*catalog.Lab{lab}, opts.Repeat, false)
}
