package report

import (
	"cmp"
	"encoding/json"
	"io"
	"time"
)

// Classroom50Schema is the schema id of a Classroom 50 result.json.
const Classroom50Schema = "classroom50/result/v1"

// Classroom50Context is what a Classroom 50 runner tells the grader about
// the submission (its CLASSROOM, ASSIGNMENT, SUBMISSION_TAG, COMMIT_URL,
// RELEASE_URL and REVIEW_URL variables). Classroom 50 rejects a result
// whose strings are empty, so WriteClassroom50 fills a missing one: the
// review URL with the commit URL, the rest with "unknown".
type Classroom50Context struct {
	Classroom, Assignment, Submission, Commit, Release, Review string
}

type classroom50Result struct {
	Schema     string             `json:"schema"`
	Classroom  string             `json:"classroom"`
	Assignment string             `json:"assignment"`
	Submission string             `json:"submission"`
	Commit     string             `json:"commit"`
	Release    string             `json:"release"`
	Review     string             `json:"review"`
	Datetime   string             `json:"datetime"`
	Score      int                `json:"score"`
	MaxScore   int                `json:"max-score"`
	Tests      []classroom50Check `json:"tests"`
}

type classroom50Check struct {
	Name     string `json:"test-name"`
	Passed   bool   `json:"passed"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max-score"`
}

// WriteClassroom50 writes the run as a Classroom 50 result.json
// (classroom50/result/v1): one test per check, named "<lab id>/<check id>",
// with its points; score and max-score are their sums; datetime is when
// grading started, in UTC. Classroom 50 stamps the owner itself.
func WriteClassroom50(w io.Writer, r *Run, c Classroom50Context) error {
	unknown := "unknown"
	out := classroom50Result{
		Schema:     Classroom50Schema,
		Classroom:  cmp.Or(c.Classroom, unknown),
		Assignment: cmp.Or(c.Assignment, unknown),
		Submission: cmp.Or(c.Submission, unknown),
		Commit:     cmp.Or(c.Commit, unknown),
		Release:    cmp.Or(c.Release, unknown),
		Review:     cmp.Or(c.Review, c.Commit, unknown),
		Datetime:   r.StartedAt.UTC().Format(time.RFC3339),
		Tests:      []classroom50Check{},
	}
	for _, l := range r.Labs {
		for _, ch := range l.Checks {
			out.Tests = append(out.Tests, classroom50Check{Name: l.ID + "/" + ch.ID, Passed: ch.Status == Passed, Score: ch.Points, MaxScore: ch.MaxPoints})
			out.Score += ch.Points
			out.MaxScore += ch.MaxPoints
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
