package cli

import (
	"fmt"
	"strings"

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
	w, width := opts.IO.Out, textWidth(opts.IO)
	// One id column for the whole list: the short ids people type
	// ("kafka/03"); titles wrap under themselves to fit the width.
	idWidth := 0
	for _, t := range c.Tracks {
		for _, l := range t.Lessons {
			idWidth = max(idWidth, len(shortLesson(l)))
		}
		for _, l := range t.Labs {
			idWidth = max(idWidth, len(short(l)))
		}
	}
	titleIndent := strings.Repeat(" ", 2+1+1+len("lesson")+1+idWidth+2)
	entry := func(mark, kind, id, title, note string) {
		// The note moves to the next line whole: its spaces do not break
		// until the text is wrapped.
		note = strings.ReplaceAll(note, " ", nbsp)
		text := strings.ReplaceAll(wrapFrom(title+" "+st.dim(note), len(titleIndent), width, titleIndent), nbsp, " ")
		fmt.Fprintf(w, "  %s %-6s %-*s  %s\n", mark, kind, idWidth, id, text)
	}
	for i, t := range c.Tracks {
		if i > 0 {
			fmt.Fprintln(w)
		}
		id := "  " + st.dim("["+t.ID+"]")
		fmt.Fprintln(w, st.bold(truncate(t.Title, width-visibleWidth(id)))+id)
		if t.Summary != "" {
			fmt.Fprintln(w, "  "+wrapFrom(t.Summary, 2, width, "  "))
		}
		for _, l := range t.Lessons {
			read := " "
			if _, ok := p.Lessons[l.ID]; ok {
				read = "✓"
			}
			entry(read, "lesson", shortLesson(l), l.Title, fmt.Sprintf("(%d min)", l.Minutes))
		}
		for _, l := range t.Labs {
			note := fmt.Sprintf("(%d points)", l.MaxPoints())
			if len(l.Services) > 0 {
				note = fmt.Sprintf("(%d points, needs Docker: %s)", l.MaxPoints(), joinServices(l.Services))
			}
			entry(st.mark(p.Status(l.ID)), "lab", short(l), l.Title, note)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, wrapText(fmt.Sprintf("Read a lesson with %s; check a lab with %s. Long ids work too.",
		cmdline("read", "<lesson>"), cmdline("check", "<lab>")), width, ""))
	return nil
}

// nbsp is a no-break space.
const nbsp = "\u00a0"
