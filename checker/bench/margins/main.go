// Command margins measures how far apart right and wrong solutions are on
// the checks that judge memory, so that a limit sits in a wide gap rather
// than on the edge of what correct code sometimes does (issue: grader
// truth, "tolerances that separate right from wrong").
//
// For each measured check it grades the lab's reference and its other
// right solutions, and the wrong solution aimed at the check, over several
// seeds, with only that check and its memory limit lifted to 1 GiB, so
// that a wrong solution runs to the end and shows its real peak instead
// of being killed at the limit. It prints each solution's peak resident
// memory (min, median, max) beside the check's real limit, and the two
// margins: limit ÷ the highest right peak, the lowest wrong peak ÷ limit.
//
//	go run ./checker/bench/margins [-runs 10] [-services] [-only regexp]
//
// It does the same for checks that judge reported times (serialization/04's
// timings), printing how far inside its window a right solution's report
// lies and how far outside a wrong one's falls.
//
// And for checks that judge a rate against a reference run on the same
// service (kafka/03's throughput), it prints the learner's share of the
// reference's rate for right and wrong solutions beside the threshold.
//
// -services adds spark/02's in-spark check and kafka/03's throughput
// (need Docker and the images; one stack per lab is started for all its
// runs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

// measured is one check whose limit is judged, and the solutions to run.
type measured struct {
	lab, check string
	right      []string // folders under checker/labs/<lab>/
	wrong      []string
	// peak finds the peak resident memory in the check's log, in MiB.
	peak     *regexp.Regexp
	services bool
}

var checks = []measured{
	{
		lab: "start/01-logs-to-metrics", check: "bounded-memory",
		right: []string{"solution", "right/reader-handrolled", "right/scanner-fields"},
		wrong: []string{"wrong/reads-whole-file"},
		peak:  regexp.MustCompile(`peak resident memory ([0-9.]+) (MiB|KiB)`),
	},
	{
		lab: "spark/02-dataframes", check: "in-spark",
		right:    []string{"solution"},
		wrong:    []string{"wrong/collect-events", "wrong/toarrow-events"},
		peak:     regexp.MustCompile(`peaked at ([0-9.]+) (MiB)`),
		services: true,
	},
}

// timed is a check that judges reported times, and the solutions to run.
type timed struct {
	lab, check   string
	right, wrong []string
}

var timedChecks = []timed{
	{
		lab: "serialization/04-format-shootout", check: "timings",
		right: []string{"solution", "right/buffers-median-avg", "right/streaming-tabwriter"},
		wrong: []string{
			"wrong/defer-evaluates-now", "wrong/total-not-per-round", "wrong/encode-includes-decode",
			"wrong/mean-not-median", "wrong/one-round", "wrong/fixed-rounds",
			"wrong/times-of-another-format", "wrong/hard-coded-times",
		},
	},
}

// rated is a check that judges a rate as a share of a reference run's.
type rated struct {
	lab, check   string
	right, wrong []string
	threshold    float64
	// share finds the learner's share of the reference's rate in the
	// check's log (passed) or message (failed).
	share *regexp.Regexp
}

var ratedChecks = []rated{
	{
		lab: "kafka/03-reliable-producer", check: "throughput",
		right:     []string{"solution"},
		wrong:     []string{"wrong/sync-one-by-one"},
		threshold: 0.25,
		share:     regexp.MustCompile(`(?:reached|under|yours: [0-9]+ events/s \(the faster of two\),) ([0-9.]+)× the reference`),
	},
}

func main() {
	tclog.SetDefault(tclog.NewNoopLogger())
	repo := flag.String("repo", ".", "the delab checkout")
	runs := flag.Int("runs", 10, "seeds per solution")
	withServices := flag.Bool("services", false, "also measure checks that need Docker (spark/02)")
	only := flag.String("only", "", "measure only the checks whose \"<lab> <check>\" matches this regexp")
	flag.Parse()
	var err error
	if selected, err = regexp.Compile(*only); err != nil {
		fmt.Fprintln(os.Stderr, "margins: -only:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), *repo, *runs, *withServices); err != nil {
		fmt.Fprintln(os.Stderr, "margins:", err)
		os.Exit(1)
	}
}

// selected matches the "<lab> <check>" of the checks to measure.
var selected *regexp.Regexp

func run(ctx context.Context, repo string, runs int, withServices bool) error {
	root, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	c, err := catalog.Load(lessons.FS, labs.FS)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "check\tsolution\truns\tmin MiB\tmedian MiB\tmax MiB\tlimit MiB\t\n")
	for _, m := range checks {
		if m.services && !withServices || !selected.MatchString(m.lab+" "+m.check) {
			continue
		}
		lab := c.Lab(m.lab)
		if lab == nil {
			return fmt.Errorf("no lab %s", m.lab)
		}
		only, limit, err := lifted(lab, m.check)
		if err != nil {
			return err
		}
		e := &engine.Engine{}
		if m.services {
			stack, err := services.Start(ctx, lab.Services, services.StackOptions{})
			if err != nil {
				return err
			}
			defer stack.Terminate(context.WithoutCancel(ctx))
			e.Services = kept{stack}
		}
		var rightMax, wrongMin float64
		wrongMin = -1
		g := registry.ByID(lab.ID)
		for gi, group := range [][]string{m.right, m.wrong} {
			for _, dir := range group {
				src := engine.Source{Dir: filepath.Join(root, "checker", "labs", filepath.FromSlash(m.lab), dir), ModuleDir: root, Display: dir}
				var peaks []float64
				for i := range runs {
					e.Seed = uint64(1_000_003*i + 17)
					r := e.Grade(ctx, only, g, src)
					p, err := peakOf(r.Checks[0].Log, m.peak)
					if err != nil {
						return fmt.Errorf("%s %s seed %d: %w (status %s: %s)", m.lab, dir, e.Seed, err, r.Checks[0].Status, r.Checks[0].Message)
					}
					peaks = append(peaks, p)
				}
				slices.Sort(peaks)
				fmt.Fprintf(w, "%s %s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%d\t\n", m.lab, m.check, dir, len(peaks), peaks[0], peaks[len(peaks)/2], peaks[len(peaks)-1], limit>>20)
				if gi == 0 { // right solutions
					rightMax = max(rightMax, peaks[len(peaks)-1])
				} else if wrongMin < 0 || peaks[0] < wrongMin {
					wrongMin = peaks[0]
				}
			}
		}
		w.Flush()
		fmt.Printf("%s %s: limit ÷ highest right peak %.1f×, lowest wrong peak ÷ limit %.1f×\n\n", m.lab, m.check, float64(limit>>20)/rightMax, wrongMin/float64(limit>>20))
	}
	if err := runTimed(ctx, root, runs, c); err != nil {
		return err
	}
	if !withServices {
		return nil
	}
	return runRated(ctx, root, runs, c)
}

// runRated grades each solution's rate check over runs seeds on one warm
// stack and prints the learner's share of the reference's rate (min,
// median, max) beside the threshold, then the margins: the lowest right
// share ÷ threshold and threshold ÷ the highest wrong share. A wrong run
// stopped at its time budget reports an upper bound on its share.
func runRated(ctx context.Context, root string, runs int, c *catalog.Catalog) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "check\tsolution\truns\tpassed\tmin share\tmedian share\tmax share\tthreshold\t\n")
	for _, m := range ratedChecks {
		if !selected.MatchString(m.lab + " " + m.check) {
			continue
		}
		lab := c.Lab(m.lab)
		if lab == nil {
			return fmt.Errorf("no lab %s", m.lab)
		}
		only, _, err := lifted(lab, m.check)
		if err != nil {
			return err
		}
		stack, err := services.Start(ctx, lab.Services, services.StackOptions{})
		if err != nil {
			return err
		}
		defer stack.Terminate(context.WithoutCancel(ctx))
		e := &engine.Engine{Services: kept{stack}}
		g := registry.ByID(lab.ID)
		rightMin, wrongMax := math.Inf(1), 0.0
		for gi, group := range [][]string{m.right, m.wrong} {
			for _, dir := range group {
				src := engine.Source{Dir: filepath.Join(root, "checker", "labs", filepath.FromSlash(m.lab), dir), ModuleDir: root, Display: dir}
				var vals []float64
				passed := 0
				for i := range runs {
					e.Seed = uint64(1_000_003*i + 17)
					ch := e.Grade(ctx, only, g, src).Checks[0]
					if ch.Status == report.Passed {
						passed++
					}
					v, err := shareOf(ch, m.share)
					if err != nil {
						return fmt.Errorf("%s %s seed %d: %w (status %s: %s)", m.lab, dir, e.Seed, err, ch.Status, ch.Message)
					}
					vals = append(vals, v)
				}
				slices.Sort(vals)
				fmt.Fprintf(os.Stderr, "margins: %s %s: %v\n", m.lab, dir, vals)
				fmt.Fprintf(w, "%s %s\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.2f\t\n", m.lab, m.check, dir, len(vals), passed, vals[0], vals[len(vals)/2], vals[len(vals)-1], m.threshold)
				if gi == 0 {
					rightMin = min(rightMin, vals[0])
				} else {
					wrongMax = max(wrongMax, vals[len(vals)-1])
				}
			}
		}
		w.Flush()
		fmt.Printf("%s %s: lowest right share ÷ threshold %.1f×, threshold ÷ highest wrong share %.1f×\n\n", m.lab, m.check, rightMin/m.threshold, m.threshold/wrongMax)
	}
	return nil
}

// shareOf reads the learner's share of the reference's rate from a graded
// check: its log when it passed, its message when it failed.
func shareOf(ch *report.Check, re *regexp.Regexp) (float64, error) {
	for _, l := range append([]string{ch.Message}, ch.Log...) {
		if m := re.FindStringSubmatch(l); m != nil {
			return strconv.ParseFloat(m[1], 64)
		}
	}
	return 0, fmt.Errorf("the check names no share of the reference's rate")
}

var (
	// slackLine is the timings check's last line when it passes: how far
	// inside its window the report nearest an edge lies.
	slackLine = regexp.MustCompile(`nearest an edge: ([0-9.]+)× the tolerance inside`)
	between   = regexp.MustCompile(`^between (\S+) and (\S+)$`)
	calls     = regexp.MustCompile(`^(\d+) calls$`)
)

// runTimed grades each solution's timing check over runs seeds and prints,
// for right solutions, how far inside its window the closest report lay
// (in tolerances: ≥ 1 is inside the exact window, 0 the edge of the
// tolerance), and for wrong ones how far outside the first failing report
// lay: reported ÷ upper edge or lower edge ÷ reported, or the ratio of the
// call counts when Measure made too few or too many calls.
func runTimed(ctx context.Context, root string, runs int, c *catalog.Catalog) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "check\tsolution\truns\tpassed\tmeasure\tmin\tmedian\tmax\t\n")
	for _, m := range timedChecks {
		if !selected.MatchString(m.lab + " " + m.check) {
			continue
		}
		lab := c.Lab(m.lab)
		if lab == nil {
			return fmt.Errorf("no lab %s", m.lab)
		}
		only, _, err := lifted(lab, m.check)
		if err != nil {
			return err
		}
		e := &engine.Engine{}
		g := registry.ByID(lab.ID)
		rightMin, wrongMin := math.Inf(1), math.Inf(1)
		for gi, group := range [][]string{m.right, m.wrong} {
			for _, dir := range group {
				src := engine.Source{Dir: filepath.Join(root, "checker", "labs", filepath.FromSlash(m.lab), dir), ModuleDir: root, Display: dir}
				var vals []float64
				passed, measure := 0, ""
				for i := range runs {
					e.Seed = uint64(1_000_003*i + 17)
					ch := e.Grade(ctx, only, g, src).Checks[0]
					if ch.Status == report.Passed {
						passed++
					}
					v, what, err := timedMargin(ch, gi == 0)
					if err != nil {
						return fmt.Errorf("%s %s seed %d: %w (status %s: %s)", m.lab, dir, e.Seed, err, ch.Status, ch.Message)
					}
					vals = append(vals, v)
					if measure == "" || measure == what {
						measure = what
					} else {
						measure = "mixed"
					}
				}
				slices.Sort(vals)
				// The table prints when the lab is done; say how far it got.
				fmt.Fprintf(os.Stderr, "margins: %s %s: %v\n", m.lab, dir, vals)
				fmt.Fprintf(w, "%s %s\t%s\t%d\t%d\t%s\t%.2f\t%.2f\t%.2f\t\n", m.lab, m.check, dir, len(vals), passed, measure, vals[0], vals[len(vals)/2], vals[len(vals)-1])
				if gi == 0 {
					rightMin = min(rightMin, vals[0])
				} else {
					wrongMin = min(wrongMin, vals[0])
				}
			}
		}
		w.Flush()
		fmt.Printf("%s %s: right reports lie at least %.2f tolerances inside their windows; wrong ones fail by at least %.2f×\n\n", m.lab, m.check, rightMin, wrongMin)
	}
	return nil
}

// timedMargin reads one graded timing check: for a right solution the
// slack its passing log names, for a wrong one how far its failure lay
// outside (1 or less would be a pass).
func timedMargin(ch *report.Check, right bool) (float64, string, error) {
	if right {
		for _, l := range ch.Log {
			if m := slackLine.FindStringSubmatch(l); m != nil {
				v, err := strconv.ParseFloat(m[1], 64)
				return v, "slack (tolerances)", err
			}
		}
		return 0, "", fmt.Errorf("the check's log names no slack")
	}
	if ch.Status == report.Passed {
		return 0, "passed!", nil
	}
	if m := calls.FindStringSubmatch(ch.Expected); m != nil {
		if n := calls.FindStringSubmatch(ch.Actual); n != nil {
			a, _ := strconv.ParseFloat(m[1], 64)
			b, _ := strconv.ParseFloat(n[1], 64)
			return max(a, b) / max(min(a, b), 0.5), "call count ×", nil
		}
	}
	m := between.FindStringSubmatch(ch.Expected)
	if m == nil {
		return 0, "", fmt.Errorf("the failure shows no window: expected %q", ch.Expected)
	}
	lo, err1 := time.ParseDuration(m[1])
	hi, err2 := time.ParseDuration(m[2])
	got, err3 := time.ParseDuration(ch.Actual)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, "", err
	}
	if got > hi {
		return float64(got) / float64(hi), "outside ×", nil
	}
	return float64(lo) / float64(max(got, 1)), "outside ×", nil
}

// lifted returns a copy of lab with only the named check, its memory
// limit raised to 1 GiB, and the check's real limit.
func lifted(lab *catalog.Lab, id string) (*catalog.Lab, int64, error) {
	for _, ch := range lab.Checks {
		if ch.ID == id {
			cp := *ch
			cp.Memory = 1 << 30
			out := *lab
			out.Checks = []*catalog.Check{&cp}
			return &out, int64(ch.Memory), nil
		}
	}
	return nil, 0, fmt.Errorf("%s has no check %s", lab.ID, id)
}

// peakOf reads the peak the grader logged, in MiB.
func peakOf(log []string, re *regexp.Regexp) (float64, error) {
	for _, l := range log {
		if m := re.FindStringSubmatch(l); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return 0, err
			}
			if m[2] == "KiB" {
				v /= 1024
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("the check's log names no peak")
}

// kept lends one started stack to every grading and keeps it running.
type kept struct{ *services.Stack }

func (k kept) Acquire(context.Context, []catalog.Service) (services.Session, error) {
	return session{k.Stack}, nil
}

type session struct{ *services.Stack }

func (session) Release(context.Context) error { return nil }
