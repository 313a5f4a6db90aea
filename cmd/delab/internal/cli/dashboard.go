package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/progress"
)

// DashboardOptions are the inputs of `delab` with no command.
type DashboardOptions struct {
	IO      *IOStreams
	Factory *Factory
}

func dashboardRun(opts *DashboardOptions) error {
	f := opts.Factory
	c, err := f.Catalog()
	if err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("course content is invalid:\n%w", err)}
	}
	_, p, err := f.loadProgress()
	if err != nil {
		return err
	}
	w := opts.IO.Out
	st := newStyle(opts.IO.Color)
	fmt.Fprintln(w, st.bold("delab")+" — learn data engineering by doing it")
	points, maxPoints, passed, total := 0, 0, 0, 0
	// Columns as wide as the longest id and title, so every row lines up.
	idWidth, titleWidth := 0, 0
	for _, l := range c.Labs() {
		idWidth = max(idWidth, len(l.ID))
		titleWidth = max(titleWidth, len([]rune(l.Title)))
	}
	for _, t := range c.Tracks {
		if len(t.Labs) == 0 && len(t.Lessons) == 0 {
			continue
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, st.bold(t.Title))
		for _, l := range t.Labs {
			lp := p.Labs[l.ID]
			status := p.Status(l.ID)
			got := 0
			if lp != nil {
				got = lp.Points
			}
			points += got
			maxPoints += l.MaxPoints()
			total++
			if status == progress.Passed {
				passed++
			}
			extra := ""
			if lp != nil && !lp.LastChecked.IsZero() {
				extra = st.dim(" checked " + ago(f.Now().Sub(lp.LastChecked)))
			}
			if len(l.Services) > 0 {
				extra += st.dim(" needs Docker (" + joinServices(l.Services) + ")")
			}
			fmt.Fprintf(w, "  %s %-*s  %-*s  %-11s %2d/%-2d%s\n", st.mark(status), idWidth, l.ID, titleWidth, l.Title, status, got, l.MaxPoints(), extra)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Progress: %d/%d points, %d/%d labs passed\n", points, maxPoints, passed, total)
	fmt.Fprintln(w)
	fmt.Fprintln(w, st.bold("Next: ")+nextStep(c, p))
	return nil
}

// nextStep names the single most useful thing to do now: the first lab in
// course order that has not passed, approached lesson first.
func nextStep(c *catalog.Catalog, p *progress.Progress) string {
	for _, l := range c.Labs() {
		switch p.Status(l.ID) {
		case progress.Passed:
			continue
		case progress.Failing:
			lp := p.Labs[l.ID]
			return fmt.Sprintf("keep going on %s (%d/%d points): edit %s/%s, then %s — stuck? %s",
				l.ID, lp.Points, lp.MaxPoints, l.Dir, strings.Join(l.Entry, ", "), cmdline("check", short(l)), cmdline("hint", short(l)))
		default:
			if _, read := p.Lessons[l.Lesson]; !read {
				lesson := c.Lesson(l.Lesson)
				return fmt.Sprintf("read the lesson %q: %s (about %d minutes)", lesson.Title, cmdline("read", shortLesson(lesson)), lesson.Minutes)
			}
			return fmt.Sprintf("start the lab %q: open %s/%s, then run %s", l.Title, l.Dir, strings.Join(l.Entry, ", "), cmdline("check", short(l)))
		}
	}
	return "you have passed every lab — well done. New tracks arrive as the course grows."
}

// cmdline is a delab command as the learner can run it, in backticks:
// `delab check start/01`, or `go run ./cmd/delab check start/01` for one
// who started delab with go run (see commandPrefix).
func cmdline(args ...string) string {
	return "`" + commandPrefix() + " " + strings.Join(args, " ") + "`"
}

// short is the short lab id people type: "start/01".
func short(l *catalog.Lab) string { return l.Track + "/" + l.Number }

// shortLesson is the short lesson id people type: "start/00".
func shortLesson(l *catalog.Lesson) string {
	name := l.ID[len(l.Track)+1:]
	if i := strings.Index(name, "-"); i > 0 {
		return l.Track + "/" + name[:i]
	}
	return l.ID
}

func joinServices(s []catalog.Service) string {
	var out []string
	for _, x := range s {
		out = append(out, string(x))
	}
	return strings.Join(out, ", ")
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

// style paints text when colour is on.
type style struct{ color bool }

func newStyle(color bool) style { return style{color} }

func (s style) paint(code, t string) string {
	if !s.color {
		return t
	}
	return "\x1b[" + code + "m" + t + "\x1b[0m"
}
func (s style) bold(t string) string { return s.paint("1", t) }
func (s style) dim(t string) string  { return s.paint("2", t) }
func (s style) mark(status string) string {
	switch status {
	case progress.Passed:
		return s.paint("32", "✓")
	case progress.Failing:
		return s.paint("31", "✗")
	}
	return s.dim("·")
}

// textWidth is the width to fit text to: the terminal's (or $COLUMNS, see
// SystemIO), 80 when unknown, and never less than 40.
func textWidth(ios *IOStreams) int {
	if ios.Width <= 0 {
		return 80
	}
	return max(ios.Width, 40)
}

// truncate shortens s to at most n columns, ending it with "…" when cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:max(n, 0)])
	}
	return string(r[:n-1]) + "…"
}

// wrapText breaks s into lines of at most width columns at spaces, the
// lines after the first starting with indent. A command in backticks is
// never broken, so that it can be copied whole. Escape sequences take no
// columns.
func wrapText(s string, width int, indent string) string {
	var words []string
	inCode := false
	start := 0
	for i, r := range s {
		switch {
		case r == '`':
			inCode = !inCode
		case r == ' ' && !inCode:
			if i > start {
				words = append(words, s[start:i])
			}
			start = i + 1
		}
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	var b strings.Builder
	col := 0
	for _, word := range words {
		n := visibleWidth(word)
		switch {
		case col == 0:
		case col+1+n > width:
			b.WriteString("\n" + indent)
			col = visibleWidth(indent)
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

// visibleWidth counts the columns s takes on a terminal: runes, less
// colour escape sequences.
func visibleWidth(s string) int {
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
