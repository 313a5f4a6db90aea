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
	w, width := opts.IO.Out, textWidth(opts.IO)
	st := newStyle(opts.IO.Color)
	fmt.Fprintln(w, st.bold("delab")+" — learn data engineering by doing it")
	table := labTable(c, p, f.Now(), width)
	points, maxPoints, passed, total := 0, 0, 0, 0
	for _, t := range c.Tracks {
		if len(t.Labs) == 0 && len(t.Lessons) == 0 {
			continue
		}
		fmt.Fprintln(w)
		heading := t.Title
		if needs := trackServices(t); needs != "" {
			needs = "  needs Docker (" + needs + ")"
			fmt.Fprintln(w, st.bold(truncate(heading, width-visibleWidth(needs)))+st.dim(needs))
		} else {
			fmt.Fprintln(w, st.bold(truncate(heading, width)))
		}
		for _, l := range t.Labs {
			status := p.Status(l.ID)
			if lp := p.Labs[l.ID]; lp != nil {
				points += lp.Points
			}
			maxPoints += l.MaxPoints()
			total++
			if status == progress.Passed {
				passed++
			}
			fmt.Fprintln(w, table.row(l, st))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Progress: %d/%d points, %d/%d labs passed\n", points, maxPoints, passed, total)
	fmt.Fprintln(w)
	fmt.Fprintln(w, wrapText(st.bold("Next:")+" "+nextStep(c, p), width, "      "))
	return nil
}

// dashboardTable lays out one row per lab in the columns that fit the
// width: mark, id, title, status, points, and, when there is room, when
// the lab was last checked. Ids are the short ones people type
// ("kafka/03") unless the full ones fit too; titles are cut to fit.
type dashboardTable struct {
	p                                *progress.Progress
	now                              time.Time
	fullIDs, showAgo                 bool
	idWidth, titleWidth, pointsWidth int
}

// agoWidth fits "checked 59m ago".
const agoWidth = len("checked 59m ago")

func labTable(c *catalog.Catalog, p *progress.Progress, now time.Time, width int) *dashboardTable {
	t := &dashboardTable{p: p, now: now}
	shortWidth, fullWidth, maxTitle := 0, 0, 0
	for _, l := range c.Labs() {
		shortWidth = max(shortWidth, len(short(l)))
		fullWidth = max(fullWidth, len(l.ID))
		maxTitle = max(maxTitle, visibleWidth(l.Title))
		t.pointsWidth = max(t.pointsWidth, len(t.points(l)))
	}
	// "  ✓ id  title  status  points": 4 + 2 + 2 + 2 columns around the fields.
	fixed := 10 + len(progress.NotStarted) + t.pointsWidth
	t.idWidth = shortWidth
	if fixed+shortWidth+maxTitle+2+agoWidth <= width {
		t.showAgo = true
		fixed += 2 + agoWidth
	}
	if fixed+fullWidth+maxTitle <= width {
		t.fullIDs, t.idWidth = true, fullWidth
	}
	t.titleWidth = max(min(maxTitle, width-fixed-t.idWidth), 8)
	return t
}

func (t *dashboardTable) points(l *catalog.Lab) string {
	got := 0
	if lp := t.p.Labs[l.ID]; lp != nil {
		got = lp.Points
	}
	return fmt.Sprintf("%d/%d", got, l.MaxPoints())
}

func (t *dashboardTable) row(l *catalog.Lab, st style) string {
	id := short(l)
	if t.fullIDs {
		id = l.ID
	}
	status := t.p.Status(l.ID)
	title := truncate(l.Title, t.titleWidth)
	row := fmt.Sprintf("  %s %-*s  %s%s  %-*s  %*s", st.mark(status), t.idWidth, id,
		title, strings.Repeat(" ", t.titleWidth-visibleWidth(title)), len(progress.NotStarted), status, t.pointsWidth, t.points(l))
	if lp := t.p.Labs[l.ID]; t.showAgo && lp != nil && !lp.LastChecked.IsZero() {
		row += "  " + st.dim("checked "+ago(t.now.Sub(lp.LastChecked)))
	}
	return strings.TrimRight(row, " ")
}

// trackServices names the services the track's labs need: "hdfs, spark".
func trackServices(t *catalog.Track) string {
	var names []string
	seen := map[catalog.Service]bool{}
	for _, l := range t.Labs {
		for _, s := range l.Services {
			if !seen[s] {
				seen[s] = true
				names = append(names, string(s))
			}
		}
	}
	return strings.Join(names, ", ")
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
func wrapText(s string, width int, indent string) string { return wrapFrom(s, 0, width, indent) }

// wrapFrom is wrapText for text printed from column col of a line.
func wrapFrom(s string, col, width int, indent string) string {
	// Leading spaces are the line's own indentation: kept, not a break.
	lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
	s = s[len(lead):]
	col += len(lead)
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
	b.WriteString(lead)
	for i, word := range words {
		n := visibleWidth(word)
		switch {
		case i == 0:
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
