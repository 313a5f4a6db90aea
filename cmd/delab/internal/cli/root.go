// Package cli implements the delab commands. Each command lives in its own
// file with an options struct, a constructor that parses flags into it and
// a run function that does the work on injected streams.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"golang.org/x/term"

	"github.com/delab-dev/delab/checker/progress"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0
	ExitChecksFail  = 1   // a check failed, or not every lab passed
	ExitError       = 2   // bad usage, unknown id, broken content, checker error
	ExitInterrupted = 130 // Ctrl-C
)

// exitCodeError carries an exit code; with a nil err nothing more is printed.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// errChecksFailed ends a command that already printed its failing report.
var errChecksFailed = &exitCodeError{code: ExitChecksFail}

// errInterrupted ends a command that was stopped by Ctrl-C.
var errInterrupted = &exitCodeError{code: ExitInterrupted}

// NewRootCmd builds the command tree. Every command is listed here.
func NewRootCmd(f *Factory) *cobra.Command {
	var repo string
	root := &cobra.Command{
		Use:   "delab",
		Short: "Learn data engineering by doing it, in your terminal",
		Long: `delab is a terminal sandbox for learning data engineering: read a lesson,
write Go in a lab, and let the checker grade your code against real systems.

Run delab with no command for your dashboard and the next step to take.`,
		Args:          unknownCommand,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return dashboardRun(&DashboardOptions{IO: f.IO, Factory: f})
		},
	}
	root.PersistentFlags().StringVar(&repo, "repo", "", "your delab checkout (default: the folder holding labs/ at or above the working directory, or $DELAB_REPO)")
	repoFlag := func() string { return repo }
	addImageFlags(root, f)
	check := NewCmdCheck(f, repoFlag, nil)
	watch := NewCmdWatch(f, repoFlag, nil)
	hint := NewCmdHint(f, nil)
	reset := NewCmdReset(f, repoFlag, nil)
	grade := NewCmdGrade(f, repoFlag, nil)
	// The commands that take one lab: without it they list the labs, and
	// the shell completes lab ids.
	for _, c := range []*cobra.Command{check, watch, hint, reset} {
		c.Args = labArg(f)
		c.ValidArgsFunction = completeLabs(f)
	}
	_ = grade.RegisterFlagCompletionFunc("lab", completeLabs(f))
	root.AddCommand(
		NewCmdList(f, nil),
		NewCmdRead(f, nil),
		check,
		watch,
		hint,
		reset,
		grade,
		NewCmdGradebook(f, nil),
		NewCmdCI(f, repoFlag, nil),
		NewCmdUp(f, nil),
		NewCmdDown(f, nil),
		NewCmdStatus(f, nil),
		NewCmdDoctor(f, nil),
		NewCmdCompletion(f, nil),
	)
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.DisableDefaultCmd = true // NewCmdCompletion replaces it
	return root
}

// unknownCommand rejects arguments to delab itself: the first one is a
// command delab does not have, perhaps a typo of one it has.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return &exitCodeError{code: ExitError, err: fmt.Errorf("%s\nThe commands are in %s.", msg, cmdline("--help"))}
}

// labArg accepts exactly one lab id; without one, the error lists the
// labs to choose from.
func labArg(f *Factory) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return &exitCodeError{code: ExitError, err: fmt.Errorf("%s needs a lab, e.g. %s. The labs:\n%s",
				cmd.Name(), cmdline(cmd.Name(), "start/01"), labMenu(f))}
		}
		return &exitCodeError{code: ExitError, err: fmt.Errorf("%s takes one lab, not %d: %s", cmd.Name(), len(args), strings.Join(args, " "))}
	}
}

// labMenu lists every lab, one a line: status mark, short id and title.
func labMenu(f *Factory) string {
	c, err := f.Catalog()
	if err != nil {
		return "  (the course content is invalid: " + err.Error() + ")"
	}
	p := progress.New()
	if s, err := f.Progress(); err == nil {
		if loaded, _, err := s.Load(); err == nil {
			p = loaded
		}
	}
	width := 0
	for _, l := range c.Labs() {
		width = max(width, len(short(l)))
	}
	var b strings.Builder
	for i, l := range c.Labs() {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "  %s %-*s  %s", newStyle(false).mark(p.Status(l.ID)), width, short(l), l.Title)
	}
	return b.String()
}

// Main runs delab with args and returns the process exit code. Errors go
// to stderr; output goes to stdout.
func Main(ctx context.Context, io *IOStreams, args []string) int {
	// testcontainers reports every container it starts; delab says what
	// matters itself.
	tclog.SetDefault(tclog.NewNoopLogger())
	return run(ctx, NewFactory(io), args)
}

func run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintln(f.IO.ErrOut, "error: "+ec.err.Error())
		}
		return ec.code
	}
	if ctx.Err() != nil {
		fmt.Fprintln(f.IO.ErrOut, "interrupted")
		return ExitInterrupted
	}
	fmt.Fprintln(f.IO.ErrOut, "error: "+err.Error())
	return ExitError
}

// inputIsTerminal reports whether r is an interactive terminal, which can
// answer a question or send single keys.
func inputIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
