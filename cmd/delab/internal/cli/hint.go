package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/progress"
	"github.com/delab-dev/delab/checker/report"
)

// HintOptions are the inputs of `delab hint`.
type HintOptions struct {
	IO      *IOStreams
	Factory *Factory
	Lab     string
	// Check picks a check; empty means the first one not passing.
	Check string
}

// NewCmdHint builds `delab hint`.
func NewCmdHint(f *Factory, runF func(*HintOptions) error) *cobra.Command {
	opts := &HintOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "hint <lab>",
		Short: "Reveal the next hint for a lab",
		Long: `Show the next hint, in increasing detail, for the first check of the lab
that is not passing yet (or the one named with --check). Each call reveals
one more; hints you have seen are recorded in your progress.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lab = args[0]
			if runF != nil {
				return runF(opts)
			}
			return hintRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Check, "check", "", "the check id to get a hint for")
	return cmd
}

func hintRun(opts *HintOptions) error {
	f := opts.Factory
	_, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	store, err := f.Progress()
	if err != nil {
		return err
	}
	var check *catalog.Check
	var shown int
	warn, err := store.Update(func(p *progress.Progress) {
		lp := p.LabOf(lab.ID)
		check = pickCheck(lab, lp, opts.Check)
		if check == nil {
			return
		}
		if lp.HintsShown[check.ID] < len(check.Hints) {
			lp.HintsShown[check.ID]++
		}
		shown = lp.HintsShown[check.ID]
	})
	if warn != "" {
		fmt.Fprintln(opts.IO.ErrOut, "warning: "+warn)
	}
	if err != nil {
		return err
	}
	if check == nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("lab %s has no check %q (its checks: %s)", lab.ID, opts.Check, checkIDs(lab))}
	}
	st := newStyle(opts.IO.Color)
	w := opts.IO.Out
	fmt.Fprintf(w, "%s %s  %s\n\n", st.bold("Check:"), check.Title, st.dim("("+check.ID+")"))
	for i := 0; i < shown; i++ {
		label := fmt.Sprintf("Hint %d of %d:", i+1, len(check.Hints))
		if i == shown-1 {
			label = st.bold(label)
		}
		fmt.Fprintf(w, "%s %s\n", label, check.Hints[i])
	}
	fmt.Fprintln(w)
	if shown < len(check.Hints) {
		args := []string{"hint", short(lab)}
		if opts.Check != "" {
			args = append(args, "--check", check.ID)
		}
		fmt.Fprintf(w, "Run %s again for a more detailed hint.\n", cmdline(args...))
	} else {
		fmt.Fprintln(w, "That is every hint for this check.")
	}
	fmt.Fprintf(w, "Reread: \"%s\" in %s.\n", check.Section, cmdline("read", lab.Lesson))
	return nil
}

// pickCheck returns the named check, or the first whose last result was
// not a pass (the first check when the lab was never checked).
func pickCheck(lab *catalog.Lab, lp *progress.Lab, id string) *catalog.Check {
	if id != "" {
		return lab.Check(id)
	}
	for _, c := range lab.Checks {
		if pc := lp.Checks[c.ID]; pc == nil || pc.Status != report.Passed {
			return c
		}
	}
	return lab.Checks[0]
}

func checkIDs(lab *catalog.Lab) string {
	s := ""
	for i, c := range lab.Checks {
		if i > 0 {
			s += ", "
		}
		s += c.ID
	}
	return s
}
