package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/services"
)

// DoctorOptions are the inputs of `delab doctor`.
type DoctorOptions struct {
	IO      *IOStreams
	Factory *Factory
	// Diagnose runs the checks; services.Diagnose when nil.
	Diagnose func(context.Context, services.Images) []services.Finding
}

// NewCmdDoctor builds `delab doctor`.
func NewCmdDoctor(f *Factory, runF func(context.Context, *DoctorOptions) error) *cobra.Command {
	opts := &DoctorOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run the service labs",
		Long: `Check Docker, the service images, free memory and disk, and warm
services, with a remedy for each problem. Exit status 1 when a problem was found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return doctorRun(cmd.Context(), opts)
		},
	}
}

func doctorRun(ctx context.Context, opts *DoctorOptions) error {
	diagnose := opts.Diagnose
	if diagnose == nil {
		diagnose = services.Diagnose
	}
	st := newStyle(opts.IO.Color)
	problems := 0
	for _, fd := range diagnose(ctx, opts.Factory.Images()) {
		fd.Detail, fd.Remedy = runnableCommands(fd.Detail, commandPrefix()), runnableCommands(fd.Remedy, commandPrefix())
		mark := st.paint("32", "✓")
		if !fd.OK {
			mark = st.paint("31", "✗")
			problems++
		}
		fmt.Fprintf(opts.IO.Out, "%s %-18s %s\n", mark, fd.Check, fd.Detail)
		if fd.Remedy != "" {
			fmt.Fprintf(opts.IO.Out, "  %s %s\n", st.dim("→"), fd.Remedy)
		}
	}
	if problems > 0 {
		fmt.Fprintf(opts.IO.Out, "\n%d problem(s) found. The start track works without Docker.\n", problems)
		return errChecksFailed
	}
	fmt.Fprintln(opts.IO.Out, "\nAll set for every track.")
	return nil
}
