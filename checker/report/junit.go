package report

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure"`
	Error     *junitMessage `xml:"error"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes the run as JUnit XML: one testsuite per lab, one
// testcase per check; points, the seed, the command that reproduces the
// run and the sandbox travel as suite properties (JUnit has properties
// only on suites). Text is passed through Clean: control characters are
// not allowed in XML 1.0, and CI tools print these messages on terminals.
func WriteJUnit(w io.Writer, r *Run) error {
	out := junitSuites{Name: "delab", Time: secs(r.Duration)}
	for _, l := range r.Labs {
		s := junitSuite{Name: Clean(l.ID), Time: secs(l.Duration), Properties: []junitProperty{
			{Name: "title", Value: Clean(l.Title)},
			{Name: "points", Value: fmt.Sprint(l.Points)},
			{Name: "max_points", Value: fmt.Sprint(l.MaxPoints)},
			{Name: "seed", Value: fmt.Sprint(r.Seed)},
		}}
		if r.Command != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "command", Value: Clean(r.Command)})
		}
		if sandbox := cmp.Or(l.Sandbox, r.Sandbox); sandbox != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "sandbox", Value: Clean(sandbox)})
		}
		for _, c := range l.Checks {
			tc := junitCase{Name: Clean(c.ID + ": " + c.Title), Classname: Clean(l.ID), Time: secs(c.Duration)}
			detail := checkDetail(c)
			msg := Clean(c.Message)
			switch c.Status {
			case Failed:
				tc.Failure = &junitMessage{Message: msg, Type: "check", Body: detail}
				s.Failures++
			case Error:
				tc.Error = &junitMessage{Message: msg, Type: "checker", Body: detail}
				s.Errors++
			case Skipped:
				tc.Skipped = &junitMessage{Message: msg}
				s.Skipped++
			}
			tc.SystemOut = Clean(c.LearnerOutput)
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func checkDetail(c *Check) string {
	var b strings.Builder
	for _, ln := range c.Log {
		// Continuation lines are indented so that quoted learner text
		// cannot pose as a log line of the checker's own.
		ln = strings.ReplaceAll(strings.TrimRight(ln, "\n"), "\n", "\n"+strings.Repeat(" ", len(checkerPrefix)))
		b.WriteString(checkerPrefix + ln + "\n")
	}
	if c.Expected != "" || c.Actual != "" {
		fmt.Fprintf(&b, "expected: %s\nactual: %s\n", c.Expected, c.Actual)
	}
	if c.Hint != "" {
		fmt.Fprintf(&b, "hint: %s\n", c.Hint)
	}
	return Clean(b.String())
}

func secs(s Seconds) string { return fmt.Sprintf("%.3f", float64(s)) }
