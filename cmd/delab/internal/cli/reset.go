package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/tools/txtar"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/progress"
)

// ResetOptions are the inputs of `delab reset`.
type ResetOptions struct {
	IO      *IOStreams
	Factory *Factory
	Lab     string
	Repo    func() string
	// Yes replaces changed files without asking, for scripts.
	Yes bool
	// CanPrompt is true when stdin is a terminal that can answer y/N;
	// without it and without Yes, reset refuses to replace changed files.
	CanPrompt bool
}

// NewCmdReset builds `delab reset`.
func NewCmdReset(f *Factory, repo func() string, runF func(*ResetOptions) error) *cobra.Command {
	opts := &ResetOptions{IO: f.IO, Factory: f, Repo: repo, CanPrompt: inputIsTerminal(f.IO.In)}
	cmd := &cobra.Command{
		Use:   "reset <lab>",
		Short: "Restore a lab's starter code, keeping a backup of yours",
		Long: `Put the original starter code of a lab back and forget the lab's check
results (it is "not started" again; hints you have seen stay seen).

When you have changed the lab's files, delab asks first (y/N), then copies
your files to a timestamped backup folder, whose path it prints, before it
replaces them. Scripts pass --yes; without a terminal to ask on, reset
refuses to replace changed files unless --yes is given.`,
		Example: "  delab reset start/01\n  delab reset start/01 --yes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lab = args[0]
			if runF != nil {
				return runF(opts)
			}
			return resetRun(opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "replace changed files without asking (they are still backed up)")
	return cmd
}

func resetRun(opts *ResetOptions) error {
	f := opts.Factory
	_, lab, err := f.resolveLab(opts.Lab)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	g := f.Grader(lab.ID)
	if g == nil || len(g.Starter) == 0 {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("this build of delab has no starter for %s", lab.ID)}
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	dir := filepath.Join(repo, filepath.FromSlash(lab.Dir))
	changed, err := changedFiles(dir, g.Starter)
	if err != nil {
		return fmt.Errorf("compare %s with the starter (nothing was changed): %w", lab.Dir, err)
	}
	if len(changed) > 0 && !opts.Yes {
		if !opts.CanPrompt {
			width := textWidth(opts.IO)
			return &exitCodeError{code: ExitError, err: fmt.Errorf("%s\n%s",
				wrapFrom(fmt.Sprintf("you changed %s in %s; reset would replace %s with the starter code.", strings.Join(changed, ", "), lab.Dir, plural(len(changed), "it", "them")), len("error: "), width, ""),
				wrapText("To go ahead (your files are backed up first): "+cmdline("reset", short(lab), "--yes"), width, ""))}
		}
		width := textWidth(opts.IO)
		fmt.Fprintln(opts.IO.ErrOut, wrapText(fmt.Sprintf("You changed %s in %s.", strings.Join(changed, ", "), lab.Dir), width, "  "))
		fmt.Fprintf(opts.IO.ErrOut, "%s [y/N] ", wrapText(fmt.Sprintf("Replace %s with the starter code (%s backed up first)?", plural(len(changed), "it", "them"), plural(len(changed), "yours is", "your files are")), width-6, ""))
		answer, _ := bufio.NewReader(opts.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(opts.IO.Out, "Nothing was changed.")
			return nil
		}
	}
	var saved []string
	backup := ""
	if len(changed) > 0 {
		state, err := f.StateDir()
		if err != nil {
			return err
		}
		backup = filepath.Join(state, "backups", filepath.FromSlash(lab.ID), f.Now().UTC().Format("20060102T150405.000Z"))
		if saved, err = backupLearnerFiles(dir, backup); err != nil {
			return fmt.Errorf("back up %s (nothing was changed): %w", lab.Dir, err)
		}
	}
	for _, name := range saved {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove %s (your files are backed up in %s): %w", name, backup, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := grader.ExtractStarter(g.Starter, dir); err != nil {
		if backup == "" {
			return fmt.Errorf("restore the starter: %w", err)
		}
		return fmt.Errorf("restore the starter (your files are backed up in %s): %w", backup, err)
	}
	s, err := f.Progress()
	if err == nil {
		var warn string
		warn, err = s.Update(func(p *progress.Progress) { p.Reset(lab.ID) })
		if warn != "" {
			fmt.Fprintln(opts.IO.ErrOut, "warning: "+warn)
		}
	}
	if err != nil {
		fmt.Fprintln(opts.IO.ErrOut, "warning: could not update progress: "+err.Error())
	}
	w, width := opts.IO.Out, textWidth(opts.IO)
	fmt.Fprintln(w, wrapText(fmt.Sprintf("Restored the starter code of %s in %s; the lab is not started again.", lab.ID, lab.Dir), width, ""))
	if len(saved) > 0 {
		// The path on a line of its own, whole, to copy.
		fmt.Fprintln(w, wrapText(fmt.Sprintf("Your previous files (%s) are in", strings.Join(saved, ", ")), width, "  "))
		fmt.Fprintln(w, "  "+backup)
	}
	fmt.Fprintln(w, wrapText(fmt.Sprintf("Check it any time with %s.", cmdline("check", short(lab))), width, ""))
	return nil
}

// changedFiles lists the Go files in dir that the starter does not have,
// or has with other contents: what a reset would replace.
func changedFiles(dir string, starter []byte) ([]string, error) {
	want := map[string][]byte{}
	for _, f := range txtar.Parse(starter).Files {
		want[filepath.Clean(f.Name)] = f.Data
	}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !isSource(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if orig, ok := want[e.Name()]; !ok || !bytes.Equal(orig, data) {
			changed = append(changed, e.Name())
		}
	}
	return changed, nil
}

// backupLearnerFiles copies every file of the lab folder except lab.yaml
// into backup and returns the names of the Go files, which reset replaces.
func backupLearnerFiles(dir, backup string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var goFiles []string
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "lab.yaml" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(backup, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(backup, e.Name()), data, 0o644); err != nil {
			return nil, err
		}
		if isSource(e.Name()) {
			goFiles = append(goFiles, e.Name())
		}
	}
	return goFiles, nil
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
