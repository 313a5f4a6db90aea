package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/services"
)

// StatusOptions are the inputs of `delab status`.
type StatusOptions struct {
	IO      *IOStreams
	Factory *Factory
}

// NewCmdStatus builds `delab status`.
func NewCmdStatus(f *Factory, runF func(context.Context, *StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "status",
		Short: "Show the services delab has running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return statusRun(cmd.Context(), opts)
		},
	}
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	if err := services.CheckDocker(ctx); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	list, err := services.List(ctx)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	w := opts.IO.Out
	if len(list) == 0 {
		fmt.Fprintf(w, "No delab services are running. %s starts warm ones; checks start their own otherwise.\n", cmdline("up"))
		return nil
	}
	for _, r := range list {
		kind := "in use by a check"
		if r.Warm {
			kind = "warm"
		}
		fmt.Fprintf(w, "%-6s %-9s %-18s %s  ports %s\n", r.Service, r.State, kind, r.Image, strings.Join(r.Ports, " "))
	}
	return nil
}
