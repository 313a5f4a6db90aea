package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Gradebook is a class's results: each student's points per lab, and the
// checks the class fails most. Build it with NewGradebook.
type Gradebook struct {
	// Labs are the lab ids that any report graded, sorted.
	Labs []string
	// Students are sorted by name.
	Students []*GradebookStudent
	// Missing names students without a report (an interrupted class run).
	Missing []string
	// Hardest are the checks that did not pass, most failures first.
	Hardest []*CheckStats
}

// GradebookStudent is one student's row.
type GradebookStudent struct {
	Name string
	// Points and MaxPoints per lab id; a lab the report lacks is absent.
	Points    map[string]int
	MaxPoints map[string]int
	Total     int
	MaxTotal  int
	// Errors counts checks in error (the checker's or a service's fault):
	// those points are not the student's to lose, so the row says so.
	Errors int
}

// CheckStats is how one check fared across the class.
type CheckStats struct {
	Lab, Check, Title string
	// Failed counts students whose check failed; Graded those it ran for.
	Failed, Graded int
	// Hint is the hint shown most often with the failure.
	Hint string
}

// Share is the fraction of graded students who failed the check.
func (c *CheckStats) Share() float64 {
	if c.Graded == 0 {
		return 0
	}
	return float64(c.Failed) / float64(c.Graded)
}

// NewGradebook builds a gradebook from one report per student (the key is
// the student's name) and the names of students without a report.
func NewGradebook(runs map[string]*Run, missing []string) *Gradebook {
	g := &Gradebook{Missing: append([]string(nil), missing...)}
	sort.Strings(g.Missing)
	labs := map[string]bool{}
	stats := map[string]*CheckStats{}
	hints := map[string]map[string]int{}
	for name, r := range runs {
		s := &GradebookStudent{Name: name, Points: map[string]int{}, MaxPoints: map[string]int{}}
		for _, l := range r.Labs {
			labs[l.ID] = true
			s.Points[l.ID] += l.Points
			s.MaxPoints[l.ID] += l.MaxPoints
			s.Total += l.Points
			s.MaxTotal += l.MaxPoints
			for _, c := range l.Checks {
				if c.Status == Error {
					s.Errors++
				}
				if c.Status != Passed && c.Status != Failed {
					continue // not run, or not the student's doing
				}
				key := l.ID + "\x00" + c.ID
				st := stats[key]
				if st == nil {
					st = &CheckStats{Lab: l.ID, Check: c.ID, Title: c.Title}
					stats[key] = st
					hints[key] = map[string]int{}
				}
				st.Graded++
				if c.Status == Failed {
					st.Failed++
					if c.Hint != "" {
						hints[key][c.Hint]++
					}
				}
			}
		}
		g.Students = append(g.Students, s)
	}
	sort.Slice(g.Students, func(i, j int) bool { return g.Students[i].Name < g.Students[j].Name })
	for id := range labs {
		g.Labs = append(g.Labs, id)
	}
	sort.Strings(g.Labs)
	for key, st := range stats {
		if st.Failed == 0 {
			continue
		}
		best := 0
		for h, n := range hints[key] {
			if n > best || n == best && h < st.Hint {
				st.Hint, best = h, n
			}
		}
		g.Hardest = append(g.Hardest, st)
	}
	sort.Slice(g.Hardest, func(i, j int) bool {
		a, b := g.Hardest[i], g.Hardest[j]
		if a.Failed != b.Failed {
			return a.Failed > b.Failed
		}
		if a.Share() != b.Share() {
			return a.Share() > b.Share()
		}
		return a.Lab+"/"+a.Check < b.Lab+"/"+b.Check
	})
	return g
}

// hardestShown is how many of the most-failed checks the text and
// Markdown gradebooks list; the CSV holds only the per-student table.
const hardestShown = 10

// cell is a student's points for a lab, "-" when the lab was not graded.
func (s *GradebookStudent) cell(lab string) string {
	if _, ok := s.MaxPoints[lab]; !ok {
		return "-"
	}
	return fmt.Sprintf("%d/%d", s.Points[lab], s.MaxPoints[lab])
}

// WriteGradebookText writes the gradebook as aligned terminal text.
func WriteGradebookText(w io.Writer, g *Gradebook) error {
	var b strings.Builder
	header := append(append([]string{"student"}, g.Labs...), "total")
	rows := [][]string{header}
	for _, s := range g.Students {
		row := []string{Clean(s.Name)}
		for _, l := range g.Labs {
			row = append(row, s.cell(l))
		}
		total := fmt.Sprintf("%d/%d", s.Total, s.MaxTotal)
		if s.Errors > 0 {
			total += fmt.Sprintf(" (%d checks in error, not the student's fault)", s.Errors)
		}
		rows = append(rows, append(row, total))
	}
	widths := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			fmt.Fprintf(&b, "%-*s  ", widths[i], c)
		}
		b.WriteByte('\n')
	}
	for _, m := range g.Missing {
		fmt.Fprintf(&b, "%s: no report (not graded yet)\n", Clean(m))
	}
	if len(g.Hardest) > 0 {
		b.WriteString("\nChecks the class fails most:\n")
		for _, c := range g.Hardest[:min(hardestShown, len(g.Hardest))] {
			fmt.Fprintf(&b, "  %d/%d (%.0f%%)  %s %s: %s\n", c.Failed, c.Graded, 100*c.Share(), Clean(c.Lab), Clean(c.Check), Clean(c.Title))
			if c.Hint != "" {
				fmt.Fprintf(&b, "      hint shown most: %s\n", Clean(c.Hint))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteGradebookMarkdown writes the gradebook as Markdown tables.
func WriteGradebookMarkdown(w io.Writer, g *Gradebook) error {
	var b strings.Builder
	b.WriteString("# delab gradebook\n\n| Student |")
	for _, l := range g.Labs {
		fmt.Fprintf(&b, " %s |", mdCode(l))
	}
	b.WriteString(" Total |\n|---|" + strings.Repeat("---|", len(g.Labs)) + "---|\n")
	for _, s := range g.Students {
		fmt.Fprintf(&b, "| %s |", mdText(s.Name))
		for _, l := range g.Labs {
			fmt.Fprintf(&b, " %s |", s.cell(l))
		}
		fmt.Fprintf(&b, " %d/%d", s.Total, s.MaxTotal)
		if s.Errors > 0 {
			fmt.Fprintf(&b, " (%d in error)", s.Errors)
		}
		b.WriteString(" |\n")
	}
	if len(g.Missing) > 0 {
		b.WriteString("\nNo report yet: ")
		for i, m := range g.Missing {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(mdText(m))
		}
		b.WriteString("\n")
	}
	if len(g.Hardest) > 0 {
		b.WriteString("\n## Checks the class fails most\n\n| Check | Failed | Share | Hint shown most |\n|---|---|---|---|\n")
		for _, c := range g.Hardest[:min(hardestShown, len(g.Hardest))] {
			fmt.Fprintf(&b, "| %s %s | %d/%d | %.0f%% | %s |\n", mdCode(c.Lab+" "+c.Check), mdText(c.Title), c.Failed, c.Graded, 100*c.Share(), mdText(c.Hint))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteGradebookCSV writes one row per student and one column per lab id,
// then the total, for an LMS to import: points earned as plain numbers
// (empty when a lab was not graded), with a first row of max points
// labelled "max points" so the import knows each column's scale.
func WriteGradebookCSV(w io.Writer, g *Gradebook) error {
	cw := csv.NewWriter(w)
	header := append(append([]string{"student"}, g.Labs...), "total")
	if err := cw.Write(header); err != nil {
		return err
	}
	maxRow := []string{"max points"}
	maxTotal := 0
	for _, l := range g.Labs {
		m := 0
		for _, s := range g.Students {
			m = max(m, s.MaxPoints[l])
		}
		maxTotal += m
		maxRow = append(maxRow, strconv.Itoa(m))
	}
	if err := cw.Write(append(maxRow, strconv.Itoa(maxTotal))); err != nil {
		return err
	}
	for _, s := range g.Students {
		row := []string{csvSafe(s.Name)}
		for _, l := range g.Labs {
			if _, ok := s.MaxPoints[l]; !ok {
				row = append(row, "")
				continue
			}
			row = append(row, strconv.Itoa(s.Points[l]))
		}
		if err := cw.Write(append(row, strconv.Itoa(s.Total))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a name as a formula (a folder
// named "=HYPERLINK(...)" would otherwise run when the CSV is opened).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
