package report

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func classRuns() map[string]*Run {
	mk := func(labs ...*Lab) *Run {
		r := &Run{Labs: labs}
		r.Total()
		return r
	}
	lab := func(id string, checks ...*Check) *Lab {
		l := &Lab{ID: id, Title: id, Checks: checks}
		l.Finish()
		return l
	}
	pass := func(id string, pts int) *Check {
		return &Check{ID: id, Title: "T " + id, Status: Passed, Points: pts, MaxPoints: pts}
	}
	fail := func(id string, pts int, hint string) *Check {
		return &Check{ID: id, Title: "T " + id, Status: Failed, MaxPoints: pts, Hint: hint}
	}
	errd := func(id string, pts int) *Check {
		return &Check{ID: id, Title: "T " + id, Status: Error, MaxPoints: pts}
	}
	return map[string]*Run{
		"carol": mk(lab("start/01", pass("a", 4), fail("b", 3, "count them")), lab("ser/01", fail("c", 5, "nulls"))),
		"alice": mk(lab("start/01", pass("a", 4), pass("b", 3)), lab("ser/01", pass("c", 5))),
		"bob":   mk(lab("start/01", fail("a", 4, "sum"), fail("b", 3, "skip them")), lab("ser/01", errd("c", 5))),
		"=evil": mk(lab("start/01", pass("a", 4), fail("b", 3, "count them"))),
	}
}

func TestGradebookTotalsAndHardestChecks(t *testing.T) {
	g := NewGradebook(classRuns(), []string{"dave"})
	assert.Equal(t, []string{"ser/01", "start/01"}, g.Labs)
	require.Len(t, g.Students, 4)
	names := []string{}
	for _, s := range g.Students {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"=evil", "alice", "bob", "carol"}, names)
	bob := g.Students[2]
	assert.Equal(t, 0, bob.Total)
	assert.Equal(t, 12, bob.MaxTotal)
	assert.Equal(t, 1, bob.Errors)
	assert.Equal(t, 4, g.Students[3].Points["start/01"])

	require.NotEmpty(t, g.Hardest)
	top := g.Hardest[0]
	assert.Equal(t, "start/01 b", top.Lab+" "+top.Check)
	assert.Equal(t, 3, top.Failed)
	assert.Equal(t, 4, top.Graded)
	assert.Equal(t, 0.75, top.Share())
	assert.Equal(t, "count them", top.Hint, "the hint shown most")
	for _, h := range g.Hardest {
		if h.Lab == "ser/01" {
			assert.Equal(t, 2, h.Graded, "an errored check is not counted as graded")
		}
	}

	var text bytes.Buffer
	require.NoError(t, WriteGradebookText(&text, g))
	assert.Contains(t, text.String(), "alice")
	assert.Contains(t, text.String(), "12/12")
	assert.Contains(t, text.String(), "1 checks in error, not the student's fault")
	assert.Contains(t, text.String(), "dave: no report")
	assert.Contains(t, text.String(), "3/4 (75%)  start/01 b: T b")
	assert.Contains(t, text.String(), "hint shown most: count them")

	var md bytes.Buffer
	require.NoError(t, WriteGradebookMarkdown(&md, g))
	assert.Contains(t, md.String(), "| Student | `ser/01` | `start/01` | Total |")
	assert.Contains(t, md.String(), "| alice | 5/5 | 7/7 | 12/12 |")
	assert.Contains(t, md.String(), "| =evil | - | 4/7 | 4/7 |", "a lab without a report is a dash")
	assert.Contains(t, md.String(), "| 3/4 | 75% | count them |")
}

func TestGradebookCSVImports(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteGradebookCSV(&buf, NewGradebook(classRuns(), nil)))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		{"student", "ser/01", "start/01", "total"},
		{"max points", "5", "7", "12"},
		{"'=evil", "", "4", "4"},
		{"alice", "5", "7", "12"},
		{"bob", "0", "0", "0"},
		{"carol", "0", "4", "4"},
	}, rows)
}
