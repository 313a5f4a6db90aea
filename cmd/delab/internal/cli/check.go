package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

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
	// Invocation is how the learner starts delab ("delab", "go run
	// ./cmd/delab"), for the command that reproduces the run; empty means
	// commandPrefix().
	Invocation string
	// Live forces the live progress line on stderr; without it the line
	// is shown only when stderr is a terminal.
	Live bool
	// Keep keeps the generated inputs and what the learner's code wrote,
	// in a folder the report names (see keepDir).
	Keep bool
	// Repeat runs the checks this many times with fresh seeds and prints
	// each check's pass rate and durations (repeat.go).
	Repeat int
}

// NewCmdCheck builds `delab check`.
func NewCmdCheck(f *Factory, repo func() string, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: f.IO, Factory: f, Repo: repo, Invocation: commandPrefix()}
	cmd := &cobra.Command{
		Use:   "check <lab>",
		Short: "Grade your code for one lab",
		Long: `Build your code for a lab and grade it, check by check. For each check you
see what the checker did, what it saw and what it expected, your program's
own output under [your code], and a hint with the lesson section to reread.

Your code runs in its own process with a time and memory limit per check;
the checker judges what it produced, never what it printed.

Labs accept short ids: "start/01", "01-logs-to-metrics", "logs-to-metrics".
Each check's result is printed as soon as it is known; on a terminal a
live line on stderr says which check is running and for how long. The
report ends with the seed and the command that reproduces the run.

--keep keeps each check's folder (the inputs the checker generated and
the files your code wrote) and prints where; with --seed it shows you
again exactly what a run saw.

Exit status: 0 when every check passes, 1 when one fails, 2 on errors
(including a checker or service error in a check, which is not your fault).`,
		Example: "  delab check start/01\n  delab check logs-to-metrics --verbose\n  delab check start/01 --seed 7 --keep",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lab = args[0]
			if opts.Repeat < 1 {
				return &exitCodeError{code: ExitError, err: errors.New("--repeat must be at least 1")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.Repeat > 1 {
				return checkRepeatRun(cmd.Context(), opts)
			}
			return checkRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "show the checker's log for passing checks too")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed for generated inputs (reproduces a run)")
	cmd.Flags().BoolVar(&opts.Keep, "keep", false, "keep the generated inputs and your code's outputs in a folder it prints")
	cmd.Flags().IntVar(&opts.Repeat, "repeat", 1, "run the checks N times with fresh seeds; print pass rates and durations")
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
	prefix := cmp.Or(opts.Invocation, commandPrefix())
	seed := opts.Seed
	if seed == 0 {
		seed = newSeed()
	}
	keep := ""
	if opts.Keep {
		if keep, err = keepDir(f); err != nil {
			return &exitCodeError{code: ExitError, err: fmt.Errorf("--keep: %w", err)}
		}
	}
	fmt.Fprintln(opts.IO.ErrOut, wrapText(fmt.Sprintf("Checking %s: building your code in %s…", short(lab), lab.Dir), textWidth(opts.IO), "  "))

	// Each check is printed as soon as it is known; what is known only at
	// the end (compile errors, checks that were not run) follows.
	stream := report.NewTextStream(opts.IO.Out, textOptions(opts.IO, c, prefix, opts.Verbose))
	// The heading waits for grading to start, so that an error before it
	// leaves stdout empty.
	heading := sync.OnceFunc(func() { stream.Start(lab.ID, lab.Title) })
	var live *liveLine
	if opts.Live || isTerminal(opts.IO.ErrOut) {
		live = startLiveLine(opts.IO.ErrOut, opts.IO.Width, liveEvery)
		// Other messages on stderr while grading (services starting) must
		// erase the line first and bring it back after.
		errOut := opts.IO.ErrOut
		opts.IO.ErrOut = live
		defer func() { opts.IO.ErrOut = errOut }()
		defer live.close()
	}
	observe := func(ev engine.Event) {
		heading()
		switch ev.Kind {
		case engine.BuildStarted:
			live.set("building your code", 0)
		case engine.CheckStarted:
			live.set(fmt.Sprintf("%s (%s)", report.Clean(ev.Title), report.Clean(ev.CheckID)), ev.Timeout)
		case engine.BuildDone:
			live.clear()
		case engine.CheckFinished:
			live.clear()
			stream.Check(ev.Check)
		}
	}
	res, err := gradeLabKeeping(ctx, f, repo, lab, seed, observe, keep)
	live.close()
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	run := newRun(f, []*report.Lab{res}, ctx.Err() != nil)
	run.Seed = seed
	run.Command = reproduceCommand(f, prefix, opts.Repo(), repo, nil, "check", short(lab), "--seed", fmt.Sprint(seed))
	heading()
	if err := stream.Finish(run); err != nil {
		return err
	}
	if run.Interrupted {
		return errInterrupted
	}
	if err := recordProgress(f, res); err != nil {
		fmt.Fprintln(opts.IO.ErrOut, "warning: could not save progress: "+err.Error())
	}
	if keep != "" {
		printKept(opts.IO, keep, lab, seed)
	}
	fmt.Fprintln(opts.IO.Out)
	fmt.Fprintln(opts.IO.Out, wrapText(checkSummary(c, lab, res, prefix), textWidth(opts.IO), ""))
	return labExit(res)
}

// errCheckerFault ends a command whose report has a check in error: the
// checker or a service failed, which is not the learner's doing (exit 2).
var errCheckerFault = &exitCodeError{code: ExitError, err: errors.New("the checker or a service failed during a check (not your fault); see the report")}

// labExit is how a graded lab ends the command: a checker error is 2, a
// failed (or skipped) check 1.
func labExit(res *report.Lab) error {
	switch res.Status {
	case report.Passed:
		return nil
	case report.Error:
		return errCheckerFault
	}
	return errChecksFailed
}

// textOptions are how check and watch render a report on ios: fitted to
// its width, with the commands it suggests as the learner runs delab
// (prefix) and short lesson ids.
func textOptions(ios *IOStreams, c *catalog.Catalog, prefix string, verbose bool) report.TextOptions {
	return report.TextOptions{
		Color: ios.Color, Verbose: verbose, Width: textWidth(ios), Command: prefix,
		LessonRef: func(id string) string {
			if l := c.Lesson(id); l != nil {
				return shortLesson(l)
			}
			return id
		},
	}
}

// keepDir is where `delab check --keep` keeps check folders: kept/ in
// delab's state folder, next to the progress file.
func keepDir(f *Factory) (string, error) {
	state, err := f.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(state, "kept"), nil
}

// keptFolder is the folder the engine keeps a lab's checks in (see
// engine.Engine.KeepDir).
func keptFolder(keep string, lab *catalog.Lab, seed uint64) string {
	return filepath.Join(keep, fmt.Sprintf("%s-%d", lab.Slug, seed))
}

// printKept says where the kept check folders are and what each holds,
// or that there are none (the code did not compile).
func printKept(ios *IOStreams, keep string, lab *catalog.Lab, seed uint64) {
	w, width := ios.Out, textWidth(ios)
	dir := keptFolder(keep, lab, seed)
	entries, _ := os.ReadDir(dir)
	fmt.Fprintln(w)
	if len(entries) == 0 {
		fmt.Fprintln(w, wrapText("Kept nothing: no check ran, so there are no inputs or outputs to keep.", width, ""))
		return
	}
	fmt.Fprintln(w, "Kept each check's inputs and your code's outputs in")
	fmt.Fprintln(w, "  "+dir+string(filepath.Separator))
	for _, e := range entries {
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		if len(files) == 0 {
			continue // a run's empty scratch folder
		}
		var names []string
		for _, f := range files {
			names = append(names, f.Name())
		}
		fmt.Fprintln(w, wrapText("    "+e.Name()+string(filepath.Separator)+"  "+strings.Join(names, " "), width, "      "))
	}
}

// gradeLab grades one lab of the checkout at repo with its trusted grader,
// telling observe (if not nil) what happens as it happens.
func gradeLab(ctx context.Context, f *Factory, repo string, lab *catalog.Lab, seed uint64, observe func(engine.Event)) (*report.Lab, error) {
	return gradeLabKeeping(ctx, f, repo, lab, seed, observe, "")
}

// gradeLabKeeping is gradeLab that, when keep is not empty, keeps the
// check folders under keep (see keptFolder).
func gradeLabKeeping(ctx context.Context, f *Factory, repo string, lab *catalog.Lab, seed uint64, observe func(engine.Event), keep string) (*report.Lab, error) {
	g := f.Grader(lab.ID)
	if g == nil {
		return nil, fmt.Errorf("lab %s has no grader in this build of delab", lab.ID)
	}
	e := f.Engine()
	if len(lab.Services) > 0 {
		f.sweepLeftovers(ctx)
		e.Services = f.Services()
	}
	e.Seed = seed
	e.Observer = observe
	e.KeepDir = keep
	return e.Grade(ctx, lab, g, engine.SourceFor(repo, lab)), nil
}

// reproduceCommand is the command line that runs the same grading again:
// prefix and args, with --repo when the checkout was named explicitly and
// is not the one delab finds from the working directory.
func reproduceCommand(f *Factory, prefix, explicitRepo, repo string, labs []string, args ...string) string {
	words := append([]string{prefix}, args...)
	if explicitRepo != "" {
		if found, err := f.findRepo(""); err != nil || found != repo {
			words = append(words, "--repo", shellQuote(explicitRepo))
		}
	}
	for _, l := range labs {
		words = append(words, "--lab", shellQuote(l))
	}
	return strings.Join(words, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func newRun(f *Factory, labs []*report.Lab, interrupted bool) *report.Run {
	r := &report.Run{SchemaVersion: report.SchemaVersion, Tool: "delab", StartedAt: f.Now().UTC(), Labs: labs, Interrupted: interrupted, Sandbox: report.SandboxOf(labs)}
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

func checkSummary(c *catalog.Catalog, lab *catalog.Lab, res *report.Lab, prefix string) string {
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
				next = fmt.Sprintf("Next lab: `%s read %s`, then `%s check %s`", prefix, lessonRef(c, labs[i+1]), prefix, short(labs[i+1]))
			}
		}
		return fmt.Sprintf("All %d checks pass (%d/%d points). %s.", len(res.Checks), res.Points, res.MaxPoints, next)
	}
	if res.Status == report.Error {
		return fmt.Sprintf("%d of %d checks pass; the checker hit a problem that is not your fault (see above).", passed, len(res.Checks))
	}
	return fmt.Sprintf("%d of %d checks pass (%d/%d points). Fix the first ✗, then check again — or `%s watch %s` to re-check on every save; `%s hint %s` for more help.",
		passed, len(res.Checks), res.Points, res.MaxPoints, prefix, short(lab), prefix, short(lab))
}

// newSeed picks a fresh non-zero seed.
func newSeed() uint64 { return rand.Uint64()>>1 + 1 }

// liveEvery is how often the live progress line is redrawn.
const liveEvery = 250 * time.Millisecond

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// liveLine is one line at the bottom of a terminal that says what is
// running and for how long, redrawn in place until it is cleared. A nil
// *liveLine does nothing, so callers need not ask whether there is one.
// Writes through it (other messages on the same stream) erase the line
// first and redraw it after.
type liveLine struct {
	mu     sync.Mutex
	w      io.Writer
	width  int
	label  string
	limit  time.Duration
	since  time.Time
	active bool // a label is set
	shown  bool // the line is on the screen
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// startLiveLine starts redrawing on w every so often; close stops it.
func startLiveLine(w io.Writer, width int, every time.Duration) *liveLine {
	l := &liveLine{w: w, width: width, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.draw()
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// set shows label with the time since now and, if positive, the limit.
func (l *liveLine) set(label string, limit time.Duration) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.label, l.limit, l.since, l.active = label, limit, time.Now(), true
	l.draw()
}

// clear erases the line until the next set.
func (l *liveLine) clear() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active = false
	l.erase()
}

// close erases the line and stops redrawing; it may be called again.
func (l *liveLine) close() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.clear()
	})
}

// Write passes p through with the line erased, then redraws it.
func (l *liveLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.erase()
	n, err := l.w.Write(p)
	l.draw()
	return n, err
}

func (l *liveLine) draw() {
	if !l.active {
		return
	}
	text := fmt.Sprintf("  … %s  %s", l.label, time.Since(l.since).Truncate(time.Second))
	if l.limit > 0 {
		text += " of " + l.limit.String()
	}
	if r := []rune(text); l.width > 1 && len(r) > l.width-1 {
		// A wrapped line could not be redrawn in place.
		text = string(r[:l.width-1])
	}
	fmt.Fprint(l.w, "\r\x1b[K"+text)
	l.shown = true
}

func (l *liveLine) erase() {
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}
