package cli

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/glamour/ansi"
	"github.com/charmbracelet/glamour/styles"
	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/progress"
)

// ReadOptions are the inputs of `delab read`.
type ReadOptions struct {
	IO      *IOStreams
	Factory *Factory
	// Lesson is a full or short lesson id; empty means the next lesson to read.
	Lesson string
	// NoPager prints straight to stdout even on a terminal.
	NoPager bool
	// Pager runs the pager; nil means $PAGER or "less -R".
	Pager func(text string) error
}

// NewCmdRead builds `delab read`.
func NewCmdRead(f *Factory, runF func(*ReadOptions) error) *cobra.Command {
	opts := &ReadOptions{IO: f.IO, Factory: f}
	cmd := &cobra.Command{
		Use:   "read [lesson]",
		Short: "Read a lesson in the terminal",
		Long: `Render a lesson as formatted Markdown. On a terminal the text is paged
($PAGER, or less -R); when piped it is plain text. NO_COLOR turns colours off.

Lessons accept short ids: "start/00", "backend-to-data-engineering".
With no lesson, delab opens the next lesson you have not read.`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeLessons(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Lesson = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return readRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.NoPager, "no-pager", false, "print without a pager")
	return cmd
}

func readRun(opts *ReadOptions) error {
	f := opts.Factory
	c, err := f.Catalog()
	if err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("course content is invalid:\n%w", err)}
	}
	store, p, err := f.loadProgress()
	if err != nil {
		return err
	}
	var lesson *catalog.Lesson
	if opts.Lesson == "" {
		lesson = nextLesson(c, p)
	} else if lesson, err = c.ResolveLesson(opts.Lesson); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	text, err := renderLesson(lesson, c, opts.IO)
	if err != nil {
		return err
	}
	if opts.IO.IsTerminal && !opts.NoPager {
		pager := opts.Pager
		if pager == nil {
			pager = runPager(opts.IO)
		}
		err = pager(text)
	} else {
		_, err = io.WriteString(opts.IO.Out, text)
	}
	if err != nil {
		return err
	}
	if !opts.IO.IsTerminal {
		// Piped (`delab read | head`) is not proof of reading: only a paged
		// read, or the whole lesson printed on a terminal, counts.
		return nil
	}
	_, err = store.Update(func(p *progress.Progress) { p.Lessons[lesson.ID] = f.Now() })
	return err
}

// renderLesson turns a lesson into terminal text wrapped to the terminal
// width (see lessonStyle).
func renderLesson(l *catalog.Lesson, c *catalog.Catalog, ios *IOStreams) (string, error) {
	width := ios.Width
	if width <= 0 || width > 100 {
		width = min(max(ios.Width, 40), 100)
	}
	style, plain := lessonStyle(ios.Color)
	r, err := glamour.NewTermRenderer(glamour.WithStyles(style), glamour.WithWordWrap(width-4))
	if err != nil {
		return "", fmt.Errorf("set up the lesson renderer: %w", err)
	}
	md := runnableCommands(l.Body, commandPrefix())
	for _, id := range l.Labs {
		// The command goes in a code block: glamour never wraps those, so
		// it can be copied as it stands.
		if lab := c.Lab(id); lab != nil {
			md += fmt.Sprintf("\n\n---\n\n**Your lab: %s**\n\nEdit `%s/`, then run:\n\n```\n%s check %s\n```\n", lab.Title, lab.Dir, commandPrefix(), short(lab))
		}
	}
	out, err := r.Render(unwrapParagraphs(md))
	if err != nil {
		return "", fmt.Errorf("render %s: %w", l.Path, err)
	}
	// glamour pads every line to the wrap width; trailing blanks only get
	// in the way of pipes and copy-paste.
	out = strings.ReplaceAll(out, nbHyphen, "-")
	lines := strings.Split(out, "\n")
	for i, ln := range lines {
		lines[i] = strings.TrimRight(ln, " ")
	}
	if plain {
		lines = underlineHeadings(lines, md)
	}
	return strings.Join(lines, "\n"), nil
}

// lessonStyle is how a lesson looks: glamour's dark style (or the one
// $GLAMOUR_STYLE names) on a colour terminal, with headings set off by
// colour rather than a literal "##"; otherwise plain text, for pipes and
// NO_COLOR, with no Markdown markers at all (underlineHeadings marks the
// headings instead).
func lessonStyle(color bool) (cfg ansi.StyleConfig, plain bool) {
	if color {
		cfg = styles.DarkStyleConfig
		if s, ok := styles.DefaultStyles[os.Getenv("GLAMOUR_STYLE")]; ok {
			cfg = *s
		}
	} else {
		cfg, plain = styles.NoTTYStyleConfig, true
		for _, p := range []*ansi.StylePrimitive{&cfg.Emph, &cfg.Strong, &cfg.Strikethrough, &cfg.Code.StylePrimitive} {
			p.BlockPrefix, p.BlockSuffix = "", ""
		}
	}
	for _, h := range []*ansi.StyleBlock{&cfg.H1, &cfg.H2, &cfg.H3, &cfg.H4, &cfg.H5, &cfg.H6} {
		if strings.Contains(h.Prefix, "#") && strings.Trim(h.Prefix, "# ") == "" {
			h.Prefix = ""
		}
	}
	return cfg, plain
}

var (
	mdHeading    = regexp.MustCompile(`(?m)^(#{1,6})[ \t]+(.+?)[ \t#]*$`)
	inlineMarker = strings.NewReplacer("**", "", "__", "", "*", "", "`", "")
)

// underlineHeadings puts a line of "=" (title) or "-" (sections) under
// each heading of the Markdown source md in plain rendered lines, so that
// headings stand out in plain text.
func underlineHeadings(lines []string, md string) []string {
	level := map[string]int{}
	inFence := false
	for _, ln := range strings.Split(md, "\n") {
		if t := strings.TrimSpace(ln); strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			inFence = !inFence
		}
		if m := mdHeading.FindStringSubmatch(ln); m != nil && !inFence {
			text := strings.ReplaceAll(inlineMarker.Replace(m[2]), nbHyphen, "-")
			if _, seen := level[text]; !seen {
				level[text] = len(m[1])
			}
		}
	}
	out := make([]string, 0, len(lines))
	for _, ln := range lines {
		out = append(out, ln)
		text := strings.TrimSpace(ln)
		n, ok := level[text]
		if !ok {
			continue
		}
		delete(level, text) // only the first line with the heading's text
		rule := "-"
		if n == 1 {
			rule = "="
		}
		out = append(out, ln[:len(ln)-len(strings.TrimLeft(ln, " "))]+strings.Repeat(rule, visibleWidth(text)))
	}
	return out
}

// delabCommand finds a delab command in a lesson: in a code span, or at
// the start of a line of a code block.
var delabCommand = regexp.MustCompile("(?m)(^[ \t]*(?:\\$ )?|`)delab (" + commandNames + ")\\b")

// commandNames are delab's commands, as a regular expression.
const commandNames = "list|read|check|watch|hint|reset|grade|up|down|status|doctor|completion"

// runnableCommands rewrites the delab commands a lesson quotes so that
// they run as printed for a learner who started delab as prefix.
func runnableCommands(md, prefix string) string {
	if prefix == "delab" {
		return md
	}
	return delabCommand.ReplaceAllString(md, "${1}"+prefix+" ${2}")
}

var blockStart = regexp.MustCompile("^(#|[-*+] |\\||> |```|~~~|\\d+[.)] |---|\\*\\*\\*)")

// unwrapParagraphs joins the soft-wrapped source lines of each paragraph
// and list item into one line (outside code fences), so the renderer wraps
// to the terminal's width; glamour mishandles emphasis across soft breaks.
func unwrapParagraphs(md string) string {
	var out []string
	inFence := false
	fenced := map[int]bool{}
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			inFence = !inFence
			fenced[len(out)] = true
			out = append(out, line)
			continue
		}
		if inFence {
			fenced[len(out)] = true
			out = append(out, line)
			continue
		}
		if !inFence && len(out) > 0 && trimmed != "" && !blockStart.MatchString(trimmed) {
			prev := strings.TrimSpace(out[len(out)-1])
			if prev != "" && !strings.HasPrefix(prev, "#") && !strings.HasPrefix(prev, "|") &&
				!strings.HasPrefix(prev, "```") && !strings.HasPrefix(prev, "---") {
				out[len(out)-1] += " " + trimmed
				continue
			}
		}
		out = append(out, line)
	}
	for i, line := range out {
		if !fenced[i] {
			out[i] = protectHyphens(line)
		}
	}
	return strings.Join(out, "\n")
}

const nbHyphen = "\u2011"

var wordHyphen = regexp.MustCompile(`(\pL)-(\pL)`)

// protectHyphens swaps hyphens inside words for non-breaking ones outside
// code spans: glamour v1.0.0 wraps a line twice at a hyphen and leaves a
// word stranded on a line of its own. renderLesson swaps them back.
func protectHyphens(line string) string {
	if strings.HasPrefix(strings.TrimSpace(line), "|") {
		return line // tables are not wrapped
	}
	parts := strings.Split(line, "`")
	for i := 0; i < len(parts); i += 2 {
		// Applied twice so that overlapping matches like "a-b-c" are all caught.
		parts[i] = wordHyphen.ReplaceAllString(wordHyphen.ReplaceAllString(parts[i], "$1"+nbHyphen+"$2"), "$1"+nbHyphen+"$2")
	}
	return strings.Join(parts, "`")
}

func nextLesson(c *catalog.Catalog, p *progress.Progress) *catalog.Lesson {
	all := c.Lessons()
	for _, l := range all {
		if _, read := p.Lessons[l.ID]; !read {
			return l
		}
	}
	return all[0]
}

// runPager pipes text into $PAGER (default "less -R"), falling back to
// printing when no pager can be started.
func runPager(ios *IOStreams) func(string) error {
	return func(text string) error {
		pager := os.Getenv("PAGER")
		if pager == "" {
			pager = "less -R"
		}
		fields := strings.Fields(pager)
		if len(fields) == 0 || fields[0] == "cat" {
			_, err := io.WriteString(ios.Out, text)
			return err
		}
		if _, err := exec.LookPath(fields[0]); err != nil {
			_, err := io.WriteString(ios.Out, text)
			return err
		}
		cmd := exec.Command(fields[0], fields[1:]...)
		cmd.Stdin = strings.NewReader(text)
		cmd.Stdout, cmd.Stderr = ios.Out, ios.ErrOut
		cmd.Env = append(os.Environ(), "LESS=FRX")
		return cmd.Run()
	}
}
