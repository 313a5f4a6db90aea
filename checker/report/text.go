package report

import (
	"fmt"
	"io"
	"strings"
)

// TextOptions control terminal rendering.
type TextOptions struct {
	// Color enables ANSI colours; callers disable it for pipes and NO_COLOR.
	Color bool
	// Verbose shows the checker log and learner output of passed checks too.
	Verbose bool
}

const (
	learnerPrefix = "[your code] "
	checkerPrefix = "[checker] "
)

// WriteText renders the run for a terminal: per check a mark, the checker's
// log, expected vs. actual, the learner's output under its own prefix and
// the hint with the lesson section to reread.
func WriteText(w io.Writer, r *Run, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	for i, l := range r.Labs {
		if i > 0 {
			p.line("")
		}
		p.lab(l, o)
	}
	if r.Interrupted {
		p.line("")
		p.line(p.paint(yellow, "Interrupted: the run was stopped before it finished; nothing was recorded as failed."))
	}
	if len(r.Labs) > 1 {
		p.line("")
		p.line(fmt.Sprintf("Total: %d/%d points", r.Points, r.MaxPoints))
	}
	return p.err
}

func (p *printer) lab(l *Lab, o TextOptions) {
	p.line(p.paint(bold, fmt.Sprintf("%s — %s", l.ID, l.Title)) + fmt.Sprintf("  %d/%d points", l.Points, l.MaxPoints))
	if l.Message != "" {
		p.line("  " + l.Message)
	}
	if l.Build != nil {
		p.line(p.paint(red, "  Your code did not compile:"))
		for _, ln := range strings.Split(strings.TrimRight(l.Build.Output, "\n"), "\n") {
			p.line("    " + ln)
		}
	}
	for _, c := range l.Checks {
		mark := map[Status]string{Passed: p.paint(green, "✓"), Failed: p.paint(red, "✗"), Error: p.paint(yellow, "!"), Skipped: p.paint(dim, "-")}[c.Status]
		p.line(fmt.Sprintf("  %s %s  %s", mark, c.Title, p.paint(dim, fmt.Sprintf("(%s, %d/%d)", c.ID, c.Points, c.MaxPoints))))
		detailed := c.Status == Failed || c.Status == Error || o.Verbose
		if !detailed {
			continue
		}
		for _, ln := range c.Log {
			p.line("      " + p.paint(dim, checkerPrefix) + ln)
		}
		if c.Message != "" {
			p.line("      " + p.paint(bold, c.Message))
		}
		if c.Expected != "" || c.Actual != "" {
			p.block("expected", c.Expected)
			p.block("actual", c.Actual)
		}
		if c.LearnerOutput != "" {
			for _, ln := range strings.Split(strings.TrimRight(c.LearnerOutput, "\n"), "\n") {
				p.line("      " + p.paint(cyan, learnerPrefix) + ln)
			}
		}
		if c.Status == Failed && c.Hint != "" {
			p.line("      " + p.paint(yellow, "hint: ") + c.Hint)
		}
		if c.Status == Failed && c.Section != "" {
			p.line("      " + p.paint(dim, fmt.Sprintf("reread: \"%s\" (delab read %s)", c.Section, c.Lesson)))
		}
	}
}

type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}

func (p *printer) block(label, s string) {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	p.line(fmt.Sprintf("      %-9s %s", label+":", lines[0]))
	for _, ln := range lines[1:] {
		p.line("                " + ln)
	}
}

const (
	red    = "31"
	green  = "32"
	yellow = "33"
	cyan   = "36"
	bold   = "1"
	dim    = "2"
)

func (p *printer) paint(code, s string) string {
	if !p.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
