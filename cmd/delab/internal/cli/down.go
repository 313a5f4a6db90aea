package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/services"
)

// DownOptions are the inputs of `delab down`.
type DownOptions struct {
	IO      *IOStreams
	Factory *Factory
}

// NewCmdDown builds `delab down`.
func NewCmdDown(f *Factory, runF func(context.Context, *DownOptions) error) *cobra.Command {
	opts := &DownOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "down",
		Short: "Stop and remove the services delab started",
		Long: `Remove the warm services of delab up, and anything an interrupted or
killed delab run left behind. Services in use by a running check are left alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return downRun(cmd.Context(), opts)
		},
	}
}

func downRun(ctx context.Context, opts *DownOptions) error {
	if err := services.CheckDocker(ctx); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	removed, err := services.Sweep(ctx, true)
	for _, r := range removed {
		fmt.Fprintln(opts.IO.Out, "removed "+r)
	}
	if len(removed) == 0 && err == nil {
		fmt.Fprintln(opts.IO.Out, "nothing to remove")
	}
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	return nil
}
