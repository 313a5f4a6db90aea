package report

import (
	"fmt"
	"io"
	"strings"
)

// evidenceLimit caps expected and actual values shown in a Markdown table
// cell, in runes; the full values are in the JSON and JUnit reports.
const evidenceLimit = 120

// WriteMarkdown writes a summary suited to a CI job summary: a points
// table per lab and, for each failed check, its reason, evidence and hint;
// the seed, the command that reproduces the run and the sandbox follow
// the heading. Report text is escaped (mdText, mdCode), so learner output
// cannot inject HTML, links or table cells into the page.
func WriteMarkdown(w io.Writer, r *Run) error {
	var b strings.Builder
	verdict := "✅ all labs pass"
	if !r.AllPassed() {
		verdict = "❌ not all labs pass"
	}
	fmt.Fprintf(&b, "# delab grade: %d/%d points — %s\n\n", r.Points, r.MaxPoints, verdict)
	if r.Interrupted {
		b.WriteString("Interrupted: the run was stopped before it finished.\n\n")
	}
	if r.Seed != 0 || r.Command != "" {
		fmt.Fprintf(&b, "Seed %s", mdCode(fmt.Sprint(r.Seed)))
		if r.Command != "" {
			fmt.Fprintf(&b, "; reproduce with %s", mdCode(r.Command))
		}
		b.WriteString("\n\n")
	}
	if r.Sandbox != "" {
		fmt.Fprintf(&b, "Sandbox: %s\n\n", mdText(sandboxDetail(r)))
	}
	b.WriteString("| Lab | Status | Points |\n|---|---|---|\n")
	for _, l := range r.Labs {
		fmt.Fprintf(&b, "| %s %s | %s | %d/%d |\n", mdCode(l.ID), mdText(l.Title), l.Status, l.Points, l.MaxPoints)
	}
	for _, l := range r.Labs {
		fmt.Fprintf(&b, "\n## %s — %s\n\n", mdText(l.ID), mdText(l.Title))
		if l.Message != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(l.Message))
		}
		if l.Build != nil {
			fmt.Fprintf(&b, "Build failed: %s\n\n", mdCode(l.Build.First))
		}
		b.WriteString("| Check | Status | Points | Detail |\n|---|---|---|---|\n")
		for _, c := range l.Checks {
			fmt.Fprintf(&b, "| %s | %s | %d/%d | %s |\n", mdText(c.Title), c.Status, c.Points, c.MaxPoints, mdDetail(c))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdDetail is the Detail cell of a check that did not pass: the reason,
// expected and actual values, and for a failure the hint.
func mdDetail(c *Check) string {
	if c.Status == Passed {
		return ""
	}
	var parts []string
	if c.Message != "" {
		parts = append(parts, mdText(c.Message))
	}
	if c.Expected != "" || c.Actual != "" {
		parts = append(parts, "expected "+mdCode(truncate(c.Expected))+", actual "+mdCode(truncate(c.Actual)))
	}
	if c.Hint != "" && c.Status == Failed {
		parts = append(parts, "hint: "+mdText(c.Hint))
	}
	return strings.Join(parts, " — ")
}

func truncate(s string) string {
	r := []rune(s)
	if len(r) <= evidenceLimit {
		return s
	}
	return string(r[:evidenceLimit]) + "…"
}
