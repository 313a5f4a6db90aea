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
// the hint with the lesson section to reread; at the end the seed with the
// command that reproduces the run, and the sandbox. Every string is passed
// through Clean, so learner text cannot drive the terminal.
func WriteText(w io.Writer, r *Run, o TextOptions) error {
	p := &printer{w: w, color: o.Color}
	for i, l := range r.Labs {
		if i > 0 {
			p.line("")
		}
		p.labHeading(l.ID, l.Title, fmt.Sprintf("  %d/%d points", l.Points, l.MaxPoints))
		p.labDetail(l)
		for _, c := range l.Checks {
			p.check(c, o)
		}
	}
	p.runFooter(r)
	return p.err
}

// TextStream renders one lab's text report while it is graded: the
// heading first, then each check as soon as its result is known, then
// whatever is known only at the end. Together the pieces hold what
// WriteText shows, except the lab's points, which are not known when the
// heading is printed (callers show them in their summary).
type TextStream struct {
	p     *printer
	o     TextOptions
	shown map[*Check]bool
}

// NewTextStream returns a stream writing to w.
func NewTextStream(w io.Writer, o TextOptions) *TextStream {
	return &TextStream{p: &printer{w: w, color: o.Color}, o: o, shown: map[*Check]bool{}}
}

// Start prints the heading of the lab about to be graded.
func (s *TextStream) Start(id, title string) {
	s.p.labHeading(id, title, "")
}

// Check prints one finished check.
func (s *TextStream) Check(c *Check) {
	s.shown[c] = true
	s.p.check(c, s.o)
}

// Finish prints what was not streamed — the lab's message, compile errors,
// checks that were never run — and the run's footer, and returns the
// first write error.
func (s *TextStream) Finish(r *Run) error {
	for _, l := range r.Labs {
		s.p.labDetail(l)
		for _, c := range l.Checks {
			if !s.shown[c] {
				s.Check(c)
			}
		}
	}
	s.p.runFooter(r)
	return s.p.err
}

func (p *printer) labHeading(id, title, points string) {
	p.line(p.paint(bold, fmt.Sprintf("%s — %s", Clean(id), Clean(title))) + points)
}

// labDetail prints the lab-level message and compile errors.
func (p *printer) labDetail(l *Lab) {
	if l.Message != "" {
		p.lines("  ", "    ", l.Message)
	}
	if l.Build != nil {
		p.line(p.paint(red, "  Your code did not compile:"))
		p.lines("    ", "    ", l.Build.Output)
	}
}

func (p *printer) check(c *Check, o TextOptions) {
	mark := map[Status]string{Passed: p.paint(green, "✓"), Failed: p.paint(red, "✗"), Error: p.paint(yellow, "!"), Skipped: p.paint(dim, "-")}[c.Status]
	p.line(fmt.Sprintf("  %s %s  %s", mark, Clean(c.Title), p.paint(dim, fmt.Sprintf("(%s, %d/%d)", Clean(c.ID), c.Points, c.MaxPoints))))
	detailed := c.Status == Failed || c.Status == Error || o.Verbose
	if !detailed {
		return
	}
	// Continuation lines are indented past the prefixes, so that text
	// quoted from the learner cannot pose as a line of the checker's own.
	for _, ln := range c.Log {
		p.lines("      "+p.paint(dim, checkerPrefix), "                ", ln)
	}
	if c.Message != "" {
		first, rest, _ := strings.Cut(Clean(c.Message), "\n")
		p.line("      " + p.paint(bold, first))
		if rest != "" {
			p.lines("        ", "        ", rest)
		}
	}
	if c.Expected != "" || c.Actual != "" {
		p.block("expected", c.Expected)
		p.block("actual", c.Actual)
	}
	if c.LearnerOutput != "" {
		prefix := "      " + p.paint(cyan, learnerPrefix)
		p.lines(prefix, prefix, c.LearnerOutput)
	}
	if c.Status == Failed && c.Hint != "" {
		p.line("      " + p.paint(yellow, "hint: ") + Clean(c.Hint))
	}
	if c.Status == Failed && c.Section != "" {
		p.line("      " + p.paint(dim, fmt.Sprintf("reread: \"%s\" (delab read %s)", Clean(c.Section), Clean(c.Lesson))))
	}
}

// runFooter prints the end of the run: an interruption, the total, the
// seed with the command that reproduces the run, and the sandbox.
func (p *printer) runFooter(r *Run) {
	if r.Interrupted {
		p.line("")
		p.line(p.paint(yellow, "Interrupted: the run was stopped before it finished; nothing was recorded as failed."))
	}
	if len(r.Labs) > 1 {
		p.line("")
		p.line(fmt.Sprintf("Total: %d/%d points", r.Points, r.MaxPoints))
	}
	if r.Seed == 0 && r.Command == "" && r.Sandbox == "" {
		return
	}
	p.line("")
	switch {
	case r.Command != "":
		p.line(p.paint(dim, fmt.Sprintf("seed: %d (reproduce: %s)", r.Seed, Clean(r.Command))))
	case r.Seed != 0:
		p.line(p.paint(dim, fmt.Sprintf("seed: %d", r.Seed)))
	}
	if r.Sandbox != "" {
		p.line(p.paint(dim, "sandbox: "+Clean(sandboxDetail(r))))
	}
}

// sandboxDetail is the run's sandbox, and for a mixed run which labs ran how.
func sandboxDetail(r *Run) string {
	if r.Sandbox != SandboxMixed {
		return r.Sandbox
	}
	var modes []string
	byMode := map[string][]string{}
	for _, l := range r.Labs {
		if l.Sandbox == "" {
			continue
		}
		if byMode[l.Sandbox] == nil {
			modes = append(modes, l.Sandbox)
		}
		byMode[l.Sandbox] = append(byMode[l.Sandbox], l.ID)
	}
	var parts []string
	for _, m := range modes {
		parts = append(parts, m+": "+strings.Join(byMode[m], ", "))
	}
	return r.Sandbox + " (" + strings.Join(parts, "; ") + ")"
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

// lines prints cleaned, possibly multi-line text: the first line after
// first, the others after rest. A trailing newline adds no empty line.
func (p *printer) lines(first, rest, s string) {
	for i, ln := range strings.Split(strings.TrimRight(Clean(s), "\n"), "\n") {
		if i == 0 {
			p.line(first + ln)
		} else {
			p.line(rest + ln)
		}
	}
}

func (p *printer) block(label, s string) {
	p.lines(fmt.Sprintf("      %-9s ", label+":"), "                ", s)
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
