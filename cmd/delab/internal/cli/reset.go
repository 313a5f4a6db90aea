package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/progress"
)

// ResetOptions are the inputs of `delab reset`.
type ResetOptions struct {
	IO      *IOStreams
	Factory *Factory
	Lab     string
	Repo    func() string
}

// NewCmdReset builds `delab reset`.
func NewCmdReset(f *Factory, repo func() string, runF func(*ResetOptions) error) *cobra.Command {
	opts := &ResetOptions{IO: f.IO, Factory: f, Repo: repo}
	return &cobra.Command{
		Use:   "reset <lab>",
		Short: "Restore a lab's starter code, keeping a backup of yours",
		Long: `Copy your files in the lab folder to a timestamped backup folder, then put
the original starter code back. Nothing is deleted before the backup is
written; the backup's path is printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Lab = args[0]
			if runF != nil {
				return runF(opts)
			}
			return resetRun(opts)
		},
	}
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
	state, err := f.StateDir()
	if err != nil {
		return err
	}
	backup := filepath.Join(state, "backups", filepath.FromSlash(lab.ID), f.Now().UTC().Format("20060102T150405.000Z"))
	saved, err := backupLearnerFiles(dir, backup)
	if err != nil {
		return fmt.Errorf("back up %s (nothing was changed): %w", lab.Dir, err)
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
		return fmt.Errorf("restore the starter (your files are backed up in %s): %w", backup, err)
	}
	s, err := f.Progress()
	if err == nil {
		_, err = s.Update(func(p *progress.Progress) {
			lp := p.LabOf(lab.ID)
			lp.Status, lp.Points = progress.NotStarted, 0
		})
	}
	if err != nil {
		fmt.Fprintln(opts.IO.ErrOut, "warning: could not update progress: "+err.Error())
	}
	fmt.Fprintf(opts.IO.Out, "Restored the starter code of %s in %s.\n", lab.ID, lab.Dir)
	if len(saved) > 0 {
		fmt.Fprintf(opts.IO.Out, "Your previous files (%d) are in %s\n", len(saved), backup)
	}
	return nil
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
