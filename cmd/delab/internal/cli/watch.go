package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/progress"
	"github.com/delab-dev/delab/checker/report"
)

// WatchOptions are the inputs of `delab watch`.
type WatchOptions struct {
	IO      *IOStreams
	Factory *Factory
	Lab     string
	Repo    func() string
	// Poll compares file times on an interval instead of using file system
	// notifications, which some mounts (WSL, network, containers) lack.
	Poll     bool
	Interval time.Duration
	// Debounce waits for a burst of saves to settle before checking.
	Debounce time.Duration
	Verbose  bool
	// Interactive reads single keys from IO.In: n (next lab, once this
	// one passes), h (a hint), q (quit). Set when stdin and stdout are
	// terminals; otherwise watch ends with exit 0 when the lab passes.
	Interactive bool
	// RawMode switches the terminal to single keys without echo and
	// returns how to switch it back; nil leaves the terminal as it is.
	RawMode func() (restore func(), err error)
	// Check grades the lab once, printing its report: nil when every
	// check passes, errChecksFailed when one fails. Nil means watchCheck.
	Check func(ctx context.Context, lab *catalog.Lab) error
}

// NewCmdWatch builds `delab watch`.
func NewCmdWatch(f *Factory, repo func() string, runF func(context.Context, *WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f.IO, Factory: f, Repo: repo}
	if f.IO.IsTerminal && inputIsTerminal(f.IO.In) {
		opts.Interactive = true
		opts.RawMode = rawStdin
	}
	cmd := &cobra.Command{
		Use:   "watch <lab>",
		Short: "Re-check a lab every time you save",
		Long: `Check a lab now and again after every save of one of its .go files.
On a terminal the screen is cleared for each check, a bar shows how far
you are in the track, and keys act at once: h shows the next hint, q
quits, and once the lab passes, n (or Enter) moves on to the next lab.
When stdin is not a terminal, watch ends (exit 0) as soon as the lab passes.

Use --poll where file notifications do not arrive (WSL's /mnt drives,
network mounts, some containers).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lab = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return watchRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Poll, "poll", false, "poll for changes instead of using file system notifications")
	cmd.Flags().DurationVar(&opts.Interval, "interval", time.Second, "how often --poll looks for changes")
	cmd.Flags().DurationVar(&opts.Debounce, "debounce", 200*time.Millisecond, "quiet time after a save before checking")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "show the checker's log for passing checks too")
	return cmd
}

// clearScreen moves the cursor home and clears the screen and its
// scrollback, so that each check starts on a clean terminal.
const clearScreen = "\x1b[H\x1b[2J\x1b[3J"

func watchRun(ctx context.Context, opts *WatchOptions) error {
	f := opts.Factory
	c, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ios := opts.IO
	var keys <-chan byte
	if opts.Interactive {
		if opts.RawMode != nil {
			restore, err := opts.RawMode()
			if err != nil {
				return &exitCodeError{code: ExitError, err: fmt.Errorf("read single keys from the terminal: %w", err)}
			}
			defer restore()
			// Raw mode turns off the terminal's own "\n" to "\r\n".
			raw := *ios
			raw.Out, raw.ErrOut = crlfWriter{ios.Out}, crlfWriter{ios.ErrOut}
			ios = &raw
		}
		keys = readKeys(ctx, ios.In)
	}
	check := opts.Check
	if check == nil {
		check = func(ctx context.Context, lab *catalog.Lab) error {
			return watchCheck(ctx, ios, f, c, opts.Repo(), repo, lab, opts.Verbose)
		}
	}
	w := ios.Out
	checkNow := true
	for {
		dir := filepath.Join(repo, filepath.FromSlash(lab.Dir))
		labCtx, stopWatching := context.WithCancel(ctx)
		changes, err := watchChanges(labCtx, dir, opts.Poll, opts.Interval)
		if err != nil {
			stopWatching()
			return &exitCodeError{code: ExitError, err: fmt.Errorf("watch %s: %w (try --poll)", lab.Dir, err)}
		}
		passed := false
		next := nextLab(c, lab)
		if !checkNow {
			// Moved on: the starter fails anyway, so wait for a save.
			if ios.IsTerminal {
				fmt.Fprint(w, clearScreen)
			}
			fmt.Fprintln(w, newStyle(ios.Color).bold(fmt.Sprintf("Next: %s — %s", lab.ID, lab.Title)))
			fmt.Fprintln(w)
			fmt.Fprintln(w, wrapText(fmt.Sprintf("Read the lesson with %s, then edit %s/%s; delab checks every time you save.",
				cmdline("read", lessonRef(c, lab)), lab.Dir, strings.Join(lab.Entry, ", ")), textWidth(ios), ""))
			watchFooter(ios, f, c, lab, passed, next, opts)
		}
		for moveOn := false; !moveOn; {
			if checkNow {
				if ios.IsTerminal {
					fmt.Fprint(w, clearScreen)
				}
				err := check(labCtx, lab)
				if ctx.Err() != nil {
					stopWatching()
					return nil // Ctrl-C is how watch ends
				}
				var ec *exitCodeError
				if err != nil && !(errors.As(err, &ec) && ec.code != ExitError) {
					fmt.Fprintln(ios.ErrOut, "error: "+err.Error())
				}
				passed = err == nil
				watchSummary(ios, f, c, lab, passed, next)
				if passed && !opts.Interactive {
					stopWatching()
					return nil
				}
				watchFooter(ios, f, c, lab, passed, next, opts)
			}
			checkNow = false
			select {
			case <-ctx.Done():
				stopWatching()
				return nil
			case k, ok := <-keys:
				if !ok {
					keys = nil // stdin ended: only saves and Ctrl-C are left
					continue
				}
				switch k {
				case 'q', 'Q', 3, 4: // q, Ctrl-C and Ctrl-D (raw mode sends no signal)
					stopWatching()
					return nil
				case 'h', 'H':
					fmt.Fprintln(w)
					if err := hintRun(&HintOptions{IO: ios, Factory: f, Lab: lab.ID}); err != nil {
						fmt.Fprintln(ios.ErrOut, "error: "+err.Error())
					}
				case 'n', 'N', '\r', '\n':
					if passed && next != nil {
						lab, moveOn = next, true
					}
				}
			case <-changes:
				if !settle(ctx, changes, opts.Debounce) {
					stopWatching()
					return nil
				}
				checkNow = true
			}
		}
		stopWatching()
	}
}

// settle waits until no change has arrived for d (editors often write a
// file twice); false when ctx ended first.
func settle(ctx context.Context, changes <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-changes:
			t.Reset(d)
		case <-t.C:
			return true
		}
	}
}

// watchCheck grades the lab once as `delab check` does, each check
// printed as soon as it is known, and records the result; its summary is
// watch's own.
func watchCheck(ctx context.Context, ios *IOStreams, f *Factory, c *catalog.Catalog, explicitRepo, repo string, lab *catalog.Lab, verbose bool) error {
	seed := newSeed()
	fmt.Fprintf(ios.ErrOut, "Checking %s…\n", short(lab))
	stream := report.NewTextStream(ios.Out, textOptions(ios, c, commandPrefix(), verbose))
	stream.Start(lab.ID, lab.Title)
	// On a terminal a live line says which check runs and for how long,
	// as in `delab check`.
	var live *liveLine
	if ios.IsTerminal {
		live = startLiveLine(ios.ErrOut, ios.Width, liveEvery)
		defer live.close()
	}
	res, err := gradeLab(ctx, f, repo, lab, seed, func(ev engine.Event) {
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
	})
	live.close()
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	run := newRun(f, []*report.Lab{res}, ctx.Err() != nil)
	run.Seed = seed
	run.Command = reproduceCommand(f, commandPrefix(), explicitRepo, repo, nil, "check", short(lab), "--seed", fmt.Sprint(seed))
	if err := stream.Finish(run); err != nil {
		return err
	}
	if run.Interrupted {
		return errInterrupted
	}
	if err := recordProgress(f, res); err != nil {
		fmt.Fprintln(ios.ErrOut, "warning: could not save progress: "+err.Error())
	}
	return labExit(res)
}

// watchSummary says where the lab stands after a check, with a bar of
// the track's progress.
func watchSummary(ios *IOStreams, f *Factory, c *catalog.Catalog, lab *catalog.Lab, passed bool, next *catalog.Lab) {
	w, st, width := ios.Out, newStyle(ios.Color), textWidth(ios)
	_, p, err := f.loadProgress()
	if err != nil {
		p = progress.New()
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, trackBar(c, p, lab.Track, width, ios.Color))
	lp := p.Labs[lab.ID]
	points := ""
	if lp != nil && !lp.LastChecked.IsZero() {
		points = fmt.Sprintf(" (%d/%d points)", lp.Points, lab.MaxPoints())
	}
	switch {
	case passed && next != nil:
		fmt.Fprintln(w, wrapText(st.paint("32", "✓ ")+fmt.Sprintf("%s passes%s. Next: %s — %s.", short(lab), points, short(next), next.Title), width, "  "))
	case passed:
		fmt.Fprintln(w, wrapText(st.paint("32", "✓ ")+fmt.Sprintf("%s passes%s. That was the last lab for now.", short(lab), points), width, "  "))
	default:
		fmt.Fprintln(w, wrapText(st.paint("31", "✗ ")+fmt.Sprintf("%s is not there yet%s. Fix the first ✗ and save: delab checks again.", short(lab), points), width, "  "))
	}
	if passed && next != nil && !readLesson(p, next) {
		fmt.Fprintln(w, wrapText(fmt.Sprintf("  Its lesson first: %s.", cmdline("read", lessonRef(c, next))), width, "  "))
	}
}

// watchFooter says what watch is waiting for and which keys work.
func watchFooter(ios *IOStreams, f *Factory, c *catalog.Catalog, lab *catalog.Lab, passed bool, next *catalog.Lab, opts *WatchOptions) {
	w, st := ios.Out, newStyle(ios.Color)
	mode := "file notifications"
	if opts.Poll {
		mode = "polling every " + opts.Interval.String()
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, st.dim(wrapText(fmt.Sprintf("Watching %s for saves (%s).", lab.Dir, mode), textWidth(ios), "")))
	if !opts.Interactive {
		fmt.Fprintln(w, st.dim("Ctrl-C to stop."))
		return
	}
	var keys []string
	if passed && next != nil {
		keys = append(keys, st.bold("n")+" next lab")
	}
	keys = append(keys, st.bold("h")+" hint", st.bold("q")+" quit")
	fmt.Fprintln(w, strings.Join(keys, " · "))
}

// trackBar is one line: the track's title, a bar and how many of its labs
// passed, fitted to width.
func trackBar(c *catalog.Catalog, p *progress.Progress, trackID string, width int, color bool) string {
	t := c.Track(trackID)
	if t == nil || len(t.Labs) == 0 {
		return ""
	}
	passed := 0
	for _, l := range t.Labs {
		if p.Status(l.ID) == progress.Passed {
			passed++
		}
	}
	count := fmt.Sprintf("%d/%d labs passed", passed, len(t.Labs))
	// "title  [bar]  count": the bar gets what is left, 10 to 30 columns,
	// and the title is cut when even 10 do not fit.
	const minBar, maxBar = 10, 30
	title := truncate(t.Title, max(width-len(count)-6-minBar, 10))
	barWidth := min(maxBar, width-visibleWidth(title)-len(count)-6)
	full, empty := "#", "-"
	if color {
		full, empty = "█", "░"
	}
	done := barWidth * passed / len(t.Labs)
	bar := strings.Repeat(full, done) + strings.Repeat(empty, barWidth-done)
	return fmt.Sprintf("%s  [%s]  %s", title, newStyle(color).paint("32", bar), count)
}

// nextLab is the lab after lab in course order, nil after the last.
func nextLab(c *catalog.Catalog, lab *catalog.Lab) *catalog.Lab {
	labs := c.Labs()
	for i, l := range labs {
		if l.ID == lab.ID && i+1 < len(labs) {
			return labs[i+1]
		}
	}
	return nil
}

// lessonRef is the short id of a lab's lesson, for `delab read`.
func lessonRef(c *catalog.Catalog, lab *catalog.Lab) string {
	if l := c.Lesson(lab.Lesson); l != nil {
		return shortLesson(l)
	}
	return lab.Lesson
}

func readLesson(p *progress.Progress, lab *catalog.Lab) bool {
	_, ok := p.Lessons[lab.Lesson]
	return ok
}

// watchChanges signals saves of the .go files in dir until ctx ends.
func watchChanges(ctx context.Context, dir string, poll bool, every time.Duration) (<-chan struct{}, error) {
	if poll {
		return pollChanges(ctx, dir, every), nil
	}
	return notifyChanges(ctx, dir)
}

// readKeys sends each byte read from r until r ends or ctx does.
func readKeys(ctx context.Context, r io.Reader) <-chan byte {
	ch := make(chan byte)
	go func() {
		defer close(ch)
		buf := make([]byte, 1)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				select {
				case ch <- buf[0]:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// rawStdin puts the terminal on stdin into raw mode.
func rawStdin() (func(), error) {
	fd := int(os.Stdin.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, err
	}
	return func() { _ = term.Restore(fd, state) }, nil
}

// crlfWriter ends lines with "\r\n", as a terminal in raw mode needs.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isSource reports whether name is part of the learner's solution: a .go
// file that is not a test (a lab's local test is the learner's to keep and
// extend; the checker never builds it, and reset leaves it alone).
func isSource(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")
}

// notifyChanges signals on every write, create, rename or removal of a .go
// file in dir.
func notifyChanges(ctx context.Context, dir string) (<-chan struct{}, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, err
	}
	out := make(chan struct{}, 1)
	go func() {
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if isSource(ev.Name) && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
					signal(out)
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
			}
		}
	}()
	return out, nil
}

// pollChanges signals when the names, sizes or modification times of the
// .go files in dir change.
func pollChanges(ctx context.Context, dir string, every time.Duration) <-chan struct{} {
	out := make(chan struct{}, 1)
	go func() {
		prev := snapshot(dir)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if cur := snapshot(dir); cur != prev {
					prev = cur
					signal(out)
				}
			}
		}
	}()
	return out
}

func snapshot(dir string) string {
	entries, _ := os.ReadDir(dir)
	var b strings.Builder
	for _, e := range entries {
		if !isSource(e.Name()) {
			continue
		}
		if info, err := e.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
		}
	}
	return b.String()
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
