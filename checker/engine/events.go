package engine

import (
	"strings"
	"time"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/report"
)

// EventKind says what happened while a lab was graded.
type EventKind string

// The events of grading one lab, in the order they happen. A check that
// is not run (after a compile error, a hang or an interruption) gets no
// events; it is only in the returned report.
const (
	// BuildStarted: the learner's code is being compiled.
	BuildStarted EventKind = "build started"
	// BuildDone: compiling ended; Event.Build is set when it failed.
	BuildDone EventKind = "build done"
	// CheckStarted: a check is about to run; Event.CheckID, Title and
	// Timeout describe it.
	CheckStarted EventKind = "check started"
	// CheckFinished: a check's result is final; Event.Check holds it.
	CheckFinished EventKind = "check finished"
)

// Event is something that happened while grading, reported to
// Engine.Observer as it happens, so that a front end can show progress
// and each check's result before the whole lab is done.
type Event struct {
	Kind EventKind
	// Lab is the id of the lab being graded.
	Lab string
	// CheckID, Title and Timeout describe the check of a CheckStarted
	// event; Timeout is the limit of each run of the learner's code.
	CheckID string
	Title   string
	Timeout time.Duration
	// Check is the result of a CheckFinished event; the engine does not
	// change it afterwards.
	Check *report.Check
	// Build is the compile error of a BuildDone event, nil when the code built.
	Build *report.BuildFailure
}

// emit hands ev to the observer, if there is one. Observers run on the
// grading goroutine, so a slow one delays grading (but not the limits of
// learner code, which are measured by the runner).
func (e *Engine) emit(ev Event) {
	if e.Observer != nil {
		e.Observer(ev)
	}
}

// hangPrefix starts the runner's message for learner code that did not
// finish within its time limit.
const hangPrefix = "your code did not finish within"

// hung reports whether c failed because the learner's code did not finish.
func hung(c *report.Check) bool {
	return c.Status == report.Failed && strings.HasPrefix(c.Message, hangPrefix)
}

// notRunAfterHang is the result of a check that is not run because an
// earlier check found that the learner's code does not finish: running it
// would only wait out its own limit for the same reason.
func notRunAfterHang(lab *catalog.Lab, c *catalog.Check, earlier *report.Check) *report.Check {
	return &report.Check{ID: c.ID, Title: c.Title, Status: report.Failed, MaxPoints: c.Points, Lesson: lab.Lesson, Section: c.Section, Log: []string{},
		Message: "not run: an earlier check (" + earlier.ID + ") found that your code does not finish; fix that first"}
}
