package report

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// TextOptions control terminal rendering.
type TextOptions struct {
	// Color enables ANSI colours; callers disable it for pipes and NO_COLOR.
	Color bool
	// Verbose shows the checker log and learner output of passed checks too.
	Verbose bool
	// Width is the terminal's width in columns: a longer line is broken at
	// spaces and goes on under its own indentation (a learner's line keeps
	// its [your code] prefix), and the commands it suggests are never
	// broken. 0 means no wrapping, for files and golden transcripts;
	// widths under 40 count as 40.
	Width int
	// Command is how the learner starts delab ("go run ./cmd/delab",
	// "bin/delab"), for the commands the report suggests, such as the
	// lesson section to reread; empty means "delab".
	Command string
	// LessonRef, if set, turns a lesson id into the one to print in those
	// commands, such as the short "start/00".
	LessonRef func(lesson string) string
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
	p := newPrinter(w, o)
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
	return &TextStream{p: newPrinter(w, o), o: o, shown: map[*Check]bool{}}
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
	p.para("", "  ", fmt.Sprintf("%s — %s", Clean(id), Clean(title))+points, p.paintBefore(bold, points, ""), points)
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
	// The check's id and points stay together, after the title.
	tag := fmt.Sprintf("(%s, %d/%d)", Clean(c.ID), c.Points, c.MaxPoints)
	p.para("  "+mark+" ", "    ", Clean(c.Title)+"  "+tag, p.paintBefore("", tag, dim), tag)
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
		p.para("      ", "        ", first, p.painter(bold))
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
		p.para("      "+p.paint(yellow, "hint: "), "            ", Clean(c.Hint), nil)
	}
	if c.Status == Failed && c.Section != "" {
		lesson := c.Lesson
		if o.LessonRef != nil {
			lesson = o.LessonRef(lesson)
		}
		command := fmt.Sprintf("(%s read %s)", Clean(cmp.Or(o.Command, "delab")), Clean(lesson))
		p.para("      ", "              ", fmt.Sprintf("reread: \"%s\" %s", Clean(c.Section), command), p.painter(dim), command)
	}
}

// runFooter prints the end of the run: an interruption, the total, the
// seed with the command that reproduces the run, and the sandbox.
func (p *printer) runFooter(r *Run) {
	if r.Interrupted {
		p.line("")
		p.para("", "", "Interrupted: the run was stopped before it finished; nothing was recorded as failed.", p.painter(yellow))
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
		reproduce := fmt.Sprintf("(reproduce: %s)", Clean(r.Command))
		p.para("", "  ", fmt.Sprintf("seed: %d %s", r.Seed, reproduce), p.painter(dim), reproduce)
	case r.Seed != 0:
		p.line(p.paint(dim, fmt.Sprintf("seed: %d", r.Seed)))
	}
	if r.Sandbox != "" {
		p.para("", "  ", "sandbox: "+Clean(sandboxDetail(r)), p.painter(dim))
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
	width int // 0: no wrapping
	err   error
}

func newPrinter(w io.Writer, o TextOptions) *printer {
	p := &printer{w: w, color: o.Color}
	if o.Width > 0 {
		p.width = max(o.Width, minWidth)
	}
	return p
}

// minWidth is the narrowest width the report is fitted to: its
// indentation alone takes 16 columns.
const minWidth = 40

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}

// lines prints cleaned, possibly multi-line text: the first line after
// first, the others after rest. A trailing newline adds no empty line.
// A line too long for the width goes on after rest.
func (p *printer) lines(first, rest, s string) {
	for i, ln := range strings.Split(strings.TrimRight(Clean(s), "\n"), "\n") {
		if i == 0 {
			p.para(first, rest, ln, nil)
		} else {
			p.para(rest, rest, ln, nil)
		}
	}
}

// para prints text after the prefix first, painted by paint (nil: as it
// is). When the printer has a width, text that does not fit is broken at
// spaces onto lines after the prefix rest, each line painted on its own,
// and the strings in keep are never broken; without a width it is one
// line, however long. Prefixes may hold colour escapes, text may not.
func (p *printer) para(first, rest, text string, paint func(string) string, keep ...string) {
	if paint == nil {
		paint = func(s string) string { return s }
	}
	if p.width == 0 {
		p.line(first + paint(text))
		return
	}
	for i, logical := range strings.Split(text, "\n") {
		prefix := first
		if i > 0 {
			prefix = rest
		}
		for j, ln := range wrapLine(logical, p.width-visibleLen(prefix), p.width-visibleLen(rest), keep) {
			if j > 0 {
				prefix = rest
			}
			p.line(prefix + paint(ln))
		}
	}
}

// painter paints a whole line with code.
func (p *printer) painter(code string) func(string) string {
	return func(s string) string { return p.paint(code, s) }
}

// paintBefore paints a line that may end with suffix: what comes before
// the suffix with before, the suffix with after ("" leaves either as it
// is).
func (p *printer) paintBefore(before, suffix, after string) func(string) string {
	return func(s string) string {
		head, tail := s, ""
		if suffix != "" && strings.HasSuffix(s, suffix) {
			head, tail = s[:len(s)-len(suffix)], suffix
		}
		if before != "" && head != "" {
			head = p.paint(before, head)
		}
		if after != "" && tail != "" {
			tail = p.paint(after, tail)
		}
		return head + tail
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

// wrapLine breaks one line of text into lines of at most first columns
// for the first and rest for the others. It breaks at spaces, dropping
// the spaces where it breaks; a word longer than a whole line is cut,
// except the strings in keep (commands to copy), which are never broken
// and may overflow. A line that fits is returned as it is, leading and
// repeated spaces included.
func wrapLine(text string, first, rest int, keep []string) []string {
	first, rest = max(first, 1), max(rest, 1)
	if columns(text) <= first {
		return []string{text}
	}
	var lines []string
	line, avail := "", first
	flush := func() {
		lines = append(lines, strings.TrimRight(line, " "))
		line, avail = "", rest
	}
	for i, t := range tokens(text, keep) {
		sep, word := t.sep, t.word
		if i > 0 && line == "" {
			sep = "" // a broken line starts with its word
		}
		for {
			switch {
			case word == "":
				// Trailing spaces: kept only where they fit.
				if columns(line+sep) <= avail {
					line += sep
				}
			case columns(line+sep+word) <= avail:
				line += sep + word
			case line != "":
				flush()
				sep = ""
				continue
			case t.keep:
				line += sep + word
			default:
				// Longer than a line: cut it where the line ends.
				r := []rune(word)
				n := max(avail-columns(sep), 1)
				for n > 1 && columns(sep+string(r[:n])) > avail {
					n--
				}
				line += sep + string(r[:n])
				flush()
				sep, word = "", string(r[n:])
				continue
			}
			break
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

type token struct {
	sep, word string // the spaces before the word, and the word
	keep      bool   // a kept string: never broken
}

// tokens splits text into words at spaces; each string of keep found in
// text (its last occurrence) is one word, spaces and all.
func tokens(text string, keep []string) []token {
	kept := make([]bool, len(text))
	for _, k := range keep {
		if i := strings.LastIndex(text, k); k != "" && i >= 0 {
			for j := i; j < i+len(k); j++ {
				kept[j] = true
			}
		}
	}
	var out []token
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && text[j] == ' ' && !kept[j] {
			j++
		}
		k := j
		for k < len(text) && (text[k] != ' ' || kept[k]) {
			k++
		}
		out = append(out, token{sep: text[i:j], word: text[j:k], keep: k > j && kept[j]})
		i = k
	}
	return out
}

// columns is how many columns s takes on a terminal: one a rune, a tab
// as many as it can (8).
func columns(s string) int {
	return utf8.RuneCountInString(s) + 7*strings.Count(s, "\t")
}

// visibleLen is the columns of a prefix, less its colour escapes.
func visibleLen(s string) int {
	n, inEscape := 0, false
	for _, r := range s {
		switch {
		case inEscape:
			inEscape = r != 'm'
		case r == '\x1b':
			inEscape = true
		default:
			n++
		}
	}
	return n
}
