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
		Long: `Show the next hint you have not seen, in increasing detail, for the first
check of the lab that is not passing yet (or the one named with --check).
A failed check's report shows its first hint, so after a failed check the
first call shows the second. Hints you have seen are recorded in your
progress; after the last one, delab points you to the lesson section.`,
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
	_ = cmd.RegisterFlagCompletionFunc("check", completeChecks(f))
	return cmd
}

func hintRun(opts *HintOptions) error {
	f := opts.Factory
	c, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	store, err := f.Progress()
	if err != nil {
		return err
	}
	var check *catalog.Check
	var seen, shown int
	warn, err := store.Update(func(p *progress.Progress) {
		lp := p.LabOf(lab.ID)
		check = pickCheck(lab, lp, opts.Check)
		if check == nil {
			return
		}
		// A failed check's report showed the first hint already
		// (progress.Record counts it), so this reveals the next unseen one.
		seen = min(lp.HintsShown[check.ID], len(check.Hints))
		shown = min(seen+1, len(check.Hints))
		lp.HintsShown[check.ID] = shown
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
	w, width := opts.IO.Out, textWidth(opts.IO)
	reread := fmt.Sprintf("Reread %q: %s.", check.Section, cmdline("read", lessonRef(c, lab)))
	fmt.Fprintf(w, "%s %s  %s\n\n", st.bold("Check:"), check.Title, st.dim("("+check.ID+")"))
	if shown == seen {
		// Nothing left to reveal: recall them all rather than repeat one.
		fmt.Fprintln(w, wrapText(fmt.Sprintf("No more hints: you have seen all %d for this check.", len(check.Hints)), width, ""))
		for i, h := range check.Hints {
			fmt.Fprintln(w, wrapText(fmt.Sprintf("  %d. %s", i+1, h), width, "     "))
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, wrapText(reread, width, ""))
		return nil
	}
	fmt.Fprintln(w, wrapText(st.bold(fmt.Sprintf("Hint %d of %d:", shown, len(check.Hints)))+" "+check.Hints[shown-1], width, ""))
	fmt.Fprintln(w)
	if shown < len(check.Hints) {
		args := []string{"hint", short(lab)}
		if opts.Check != "" {
			args = append(args, "--check", check.ID)
		}
		fmt.Fprintln(w, wrapText(fmt.Sprintf("Run %s again for a more detailed hint. %s", cmdline(args...), reread), width, ""))
		return nil
	}
	fmt.Fprintln(w, wrapText("That was the last hint for this check. "+reread, width, ""))
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
