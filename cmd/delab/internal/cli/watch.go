package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/spf13/cobra"
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
	// Check runs one check; nil means `delab check` itself.
	Check func(ctx context.Context) error
}

// NewCmdWatch builds `delab watch`.
func NewCmdWatch(f *Factory, repo func() string, runF func(context.Context, *WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{IO: f.IO, Factory: f, Repo: repo}
	cmd := &cobra.Command{
		Use:   "watch <lab>",
		Short: "Re-check a lab every time you save",
		Long: `Check a lab now and again after every save of one of its .go files,
until Ctrl-C. Use --poll where file notifications do not arrive (WSL's
/mnt drives, network mounts, some containers).`,
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

func watchRun(ctx context.Context, opts *WatchOptions) error {
	f := opts.Factory
	_, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	dir := filepath.Join(repo, filepath.FromSlash(lab.Dir))
	check := opts.Check
	if check == nil {
		check = func(ctx context.Context) error {
			return checkRun(ctx, &CheckOptions{IO: opts.IO, Factory: f, Lab: lab.ID, Repo: func() string { return repo }, Verbose: opts.Verbose})
		}
	}
	var changes <-chan struct{}
	if opts.Poll {
		changes = pollChanges(ctx, dir, opts.Interval)
	} else {
		ch, err := notifyChanges(ctx, dir)
		if err != nil {
			return &exitCodeError{code: ExitError, err: fmt.Errorf("watch %s: %w (try --poll)", lab.Dir, err)}
		}
		changes = ch
	}
	mode := "file notifications"
	if opts.Poll {
		mode = "polling every " + opts.Interval.String()
	}
	for {
		if opts.IO.IsTerminal {
			fmt.Fprint(opts.IO.Out, "\x1b[H\x1b[2J")
		}
		err := check(ctx)
		if ctx.Err() != nil {
			return nil // Ctrl-C is how watch ends
		}
		var ec *exitCodeError
		if err != nil && !(errors.As(err, &ec) && ec.code == ExitChecksFail) {
			fmt.Fprintln(opts.IO.ErrOut, "error: "+err.Error())
		}
		fmt.Fprintf(opts.IO.ErrOut, "\nWatching %s for saves (%s); Ctrl-C to stop.\n", lab.Dir, mode)
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		}
		// Let a burst of saves (editors often write twice) settle.
		settle := time.NewTimer(opts.Debounce)
	drain:
		for {
			select {
			case <-ctx.Done():
				settle.Stop()
				return nil
			case <-changes:
				settle.Reset(opts.Debounce)
			case <-settle.C:
				break drain
			}
		}
	}
}

func isSource(name string) bool { return strings.HasSuffix(name, ".go") }

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
