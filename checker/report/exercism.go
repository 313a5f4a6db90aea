package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// exercismOutputLimit is the most learner output exercism shows per test,
// in runes; delab caps it the same way so the file says what is shown.
const exercismOutputLimit = 500

type exercismResults struct {
	Version int            `json:"version"`
	Status  string         `json:"status"`
	Message string         `json:"message,omitempty"`
	Tests   []exercismTest `json:"tests"`
}

type exercismTest struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Message  string `json:"message,omitempty"`
	Output   string `json:"output,omitempty"`
	TestCode string `json:"test_code"`
	TaskID   int    `json:"task_id"`
}

// WriteExercism writes the run as exercism's results.json, version 3: one
// test per check; each lab is a task (task_id counts labs from 1). A check
// passes ("pass"), fails ("fail"), or errors ("error": the checker or a
// service failed, or the check did not run). The run's status is "pass"
// when every check passed, "error" when no check ran at all (every lab's
// code failed to compile, or all checks errored) with the reason as the
// message, and "fail" otherwise. Learner output is capped at 500 runes.
func WriteExercism(w io.Writer, r *Run) error {
	out := exercismResults{Version: 3, Status: "pass", Tests: []exercismTest{}}
	ran := false
	var why []string
	for i, l := range r.Labs {
		if l.Build != nil {
			why = append(why, l.ID+": your code did not compile: "+l.Build.First)
		} else if l.Message != "" {
			why = append(why, l.ID+": "+l.Message)
		}
		for _, c := range l.Checks {
			t := exercismTest{
				Name:     l.ID + ": " + c.Title,
				TestCode: exercismCode(l, c),
				TaskID:   i + 1,
				Output:   capRunes(Clean(c.LearnerOutput), exercismOutputLimit),
			}
			switch c.Status {
			case Passed:
				t.Status = "pass"
				ran = true
			case Failed:
				t.Status = "fail"
				if l.Build == nil {
					ran = true
				}
			default:
				t.Status = "error"
			}
			if t.Status != "pass" {
				t.Message = exercismMessage(c)
				out.Status = "fail"
			}
			out.Tests = append(out.Tests, t)
		}
	}
	if !ran && len(out.Tests) > 0 {
		out.Status = "error"
		out.Message = strings.Join(why, "\n")
		if out.Message == "" {
			out.Message = "no check ran"
		}
	}
	if len(out.Tests) == 0 {
		out.Status, out.Message = "error", "no lab was graded"
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// exercismCode stands in for a test's code, which exercism shows beside
// it: delab's checks are the binary's, so it names the check and how to
// run it.
func exercismCode(l *Lab, c *Check) string {
	return fmt.Sprintf("// check %q of lab %s (%d points)\n// run it: delab check %s", c.ID, l.ID, c.MaxPoints, l.ID)
}

func exercismMessage(c *Check) string {
	var b strings.Builder
	b.WriteString(c.Message)
	if c.Expected != "" || c.Actual != "" {
		fmt.Fprintf(&b, "\nexpected: %s\nactual: %s", c.Expected, c.Actual)
	}
	if c.Hint != "" {
		fmt.Fprintf(&b, "\nhint: %s", c.Hint)
	}
	return Clean(b.String())
}

func capRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
