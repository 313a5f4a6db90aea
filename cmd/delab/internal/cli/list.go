package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// ListOptions are the inputs of `delab list`.
type ListOptions struct {
	IO      *IOStreams
	Factory *Factory
}

// NewCmdList builds `delab list`; runF replaces the run step in tests.
func NewCmdList(f *Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Factory: f}
	return &cobra.Command{
		Use:   "list",
		Short: "List tracks, lessons and labs with your progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return listRun(opts)
		},
	}
}

func listRun(opts *ListOptions) error {
	c, err := opts.Factory.Catalog()
	if err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("course content is invalid:\n%w", err)}
	}
	_, p, err := opts.Factory.loadProgress()
	if err != nil {
		return err
	}
	st := newStyle(opts.IO.Color)
	w := opts.IO.Out
	// One id column for the whole list, as wide as the longest id.
	width := 0
	for _, t := range c.Tracks {
		for _, l := range t.Lessons {
			width = max(width, len(l.ID))
		}
		for _, l := range t.Labs {
			width = max(width, len(l.ID))
		}
	}
	for i, t := range c.Tracks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %s\n", st.bold(t.Title), st.dim("["+t.ID+"]"))
		if t.Summary != "" {
			fmt.Fprintln(w, "  "+t.Summary)
		}
		for _, l := range t.Lessons {
			read := " "
			if _, ok := p.Lessons[l.ID]; ok {
				read = "✓"
			}
			fmt.Fprintf(w, "  %s lesson %-*s %s %s\n", read, width, l.ID, l.Title, st.dim(fmt.Sprintf("(%d min)", l.Minutes)))
		}
		for _, l := range t.Labs {
			services := ""
			if len(l.Services) > 0 {
				services = st.dim(" needs " + joinServices(l.Services))
			}
			fmt.Fprintf(w, "  %s lab    %-*s %s %s%s\n", st.mark(p.Status(l.ID)), width, l.ID, l.Title, st.dim(fmt.Sprintf("(%d points)", l.MaxPoints())), services)
		}
	}
	return nil
}
