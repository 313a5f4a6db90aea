package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/services"
)

// UpOptions are the inputs of `delab up`.
type UpOptions struct {
	IO       *IOStreams
	Factory  *Factory
	Services []catalog.Service
}

// NewCmdUp builds `delab up`.
func NewCmdUp(f *Factory, runF func(context.Context, *UpOptions) error) *cobra.Command {
	opts := &UpOptions{IO: f.IO, Factory: f}
	var names, titles []string
	for _, d := range services.Definitions() {
		names, titles = append(names, string(d.Name)), append(titles, d.Title)
	}
	return &cobra.Command{
		Use:   "up [" + strings.Join(names, "|") + "]...",
		Short: "Start services and keep them running between checks",
		Long: `Start ` + sentence(titles, "and") + ` (or the ones named) in Docker and keep them
running, so that every check reuses them instead of starting its own:
a check against warm services takes seconds. Stop them with delab down.`,
		ValidArgs: names,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				s := catalog.Service(strings.ToLower(a))
				if services.Lookup(s) == nil {
					return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown service %q (%s)", a, sentence(names, "or"))}
				}
				opts.Services = append(opts.Services, s)
			}
			if len(opts.Services) == 0 {
				opts.Services = services.Names()
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return upRun(cmd.Context(), opts)
		},
	}
}

func upRun(ctx context.Context, opts *UpOptions) error {
	f := opts.Factory
	if err := services.CheckDocker(ctx); err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("%w\nrun %s for details", err, cmdline("doctor"))}
	}
	f.sweepLeftovers(ctx)
	images := f.Images()
	for _, s := range opts.Services {
		fmt.Fprintf(opts.IO.ErrOut, "starting %s (%s)…\n", s, images.Of(s))
	}
	st, err := services.Start(ctx, opts.Services, services.StackOptions{Images: images, Warm: true})
	for _, r := range st.Replaced {
		fmt.Fprintf(opts.IO.ErrOut, "removed %s: an older delab started it from another definition\n", r)
	}
	if err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("%w\n(%s removes what did start)", err, cmdline("down"))}
	}
	w := opts.IO.Out
	e := st.Endpoints()
	fmt.Fprintf(w, "Services are up and stay up until %s:\n", cmdline("down"))
	for _, d := range services.Definitions() {
		if st.Has(d.Name) {
			fmt.Fprintf(w, "  %-6s %s  %s\n", d.Name, d.Summary(e), dur(st, d.Name))
		}
	}
	return nil
}

// sentence joins items as a sentence lists them: "a, b and c".
func sentence(items []string, last string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + last + " " + items[len(items)-1]
}

func dur(st *services.Stack, s catalog.Service) string {
	return fmt.Sprintf("(ready in %.1fs)", st.StartDurations[s].Seconds())
}
