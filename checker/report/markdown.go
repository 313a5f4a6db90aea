package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes a summary suited to a CI job summary: a points
// table per lab and, for each failed check, its reason and hint.
func WriteMarkdown(w io.Writer, r *Run) error {
	var b strings.Builder
	verdict := "✅ all labs pass"
	if !r.AllPassed() {
		verdict = "❌ not all labs pass"
	}
	fmt.Fprintf(&b, "# delab grade: %d/%d points — %s\n\n", r.Points, r.MaxPoints, verdict)
	b.WriteString("| Lab | Status | Points |\n|---|---|---|\n")
	for _, l := range r.Labs {
		fmt.Fprintf(&b, "| `%s` %s | %s | %d/%d |\n", l.ID, mdEscape(l.Title), l.Status, l.Points, l.MaxPoints)
	}
	for _, l := range r.Labs {
		fmt.Fprintf(&b, "\n## %s — %s\n\n", l.ID, mdEscape(l.Title))
		if l.Message != "" {
			fmt.Fprintf(&b, "%s\n\n", mdEscape(l.Message))
		}
		if l.Build != nil {
			fmt.Fprintf(&b, "Build failed: `%s`\n\n", strings.ReplaceAll(l.Build.First, "`", "'"))
		}
		b.WriteString("| Check | Status | Points | Detail |\n|---|---|---|---|\n")
		for _, c := range l.Checks {
			detail := ""
			if c.Status != Passed {
				detail = c.Message
				if c.Hint != "" && c.Status == Failed {
					detail += " — hint: " + c.Hint
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %d/%d | %s |\n", mdEscape(c.Title), c.Status, c.Points, c.MaxPoints, mdEscape(detail))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}
