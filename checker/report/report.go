// Package report holds the result of grading — a plain value the engine
// returns — and renders it as terminal text, JSON, JUnit XML or Markdown.
// The same Run feeds every format; nothing here grades or runs code.
package report

import "time"

// SchemaVersion is bumped whenever the JSON shape changes incompatibly.
const SchemaVersion = 1

// Status is the outcome of a check or a lab.
type Status string

// Outcomes. Failed is the learner's code not meeting a check; Error is the
// checker or a service failing, which is never charged to the learner.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Error   Status = "error"
	Skipped Status = "skipped"
)

// Run is one grading session over one or more labs.
type Run struct {
	SchemaVersion int       `json:"schema_version"`
	Tool          string    `json:"tool"`
	StartedAt     time.Time `json:"started_at"`
	Duration      Seconds   `json:"duration_seconds"`
	Points        int       `json:"points"`
	MaxPoints     int       `json:"max_points"`
	// Seed generated every check's inputs; `delab grade --seed` reproduces the run.
	Seed uint64 `json:"seed"`
	// Command is the command line that reproduces the run, seed included,
	// as the learner would type it (e.g. "delab check start/01 --seed 7").
	Command string `json:"command,omitempty"`
	// Sandbox is how learner code was isolated: SandboxProcess or
	// SandboxContainer, or SandboxMixed when labs differ (each lab says).
	Sandbox string `json:"sandbox,omitempty"`
	// Interrupted is set when the run was cancelled (Ctrl-C); labs not reached are skipped.
	Interrupted bool   `json:"interrupted"`
	Labs        []*Lab `json:"labs"`
	// Student names the graded checkout in a class run (`delab grade
	// --class`): its folder's name.
	Student string `json:"student,omitempty"`
	// DelabVersion is the version of the delab binary that graded.
	DelabVersion string `json:"delab_version,omitempty"`
	// GradersCommit is the commit the trusted graders were built from
	// (the binary's vcs.revision, "+dirty" when modified), or "unknown".
	GradersCommit string `json:"graders_commit,omitempty"`
	// SourceDigest is "sha256:" and the hex digest of the student files
	// the engine read (SourceDigest's rule), so that an instructor can
	// tell whether a re-grade saw the same code.
	SourceDigest string `json:"source_digest,omitempty"`
	// Signature is the hex HMAC-SHA256 of the report's canonical JSON
	// without this field (see Sign), when the grader had a signing key.
	Signature string `json:"signature,omitempty"`
}

// Lab is the result of grading one lab.
type Lab struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Status    Status  `json:"status"`
	Points    int     `json:"points"`
	MaxPoints int     `json:"max_points"`
	Duration  Seconds `json:"duration_seconds"`
	// Message explains a lab-level outcome (build failure, missing Docker, interruption).
	Message string `json:"message,omitempty"`
	// Sandbox is how this lab's learner code was isolated: "process" or
	// "container"; empty when none of it ran.
	Sandbox string `json:"sandbox,omitempty"`
	// Build holds compiler output when the learner's code did not build.
	Build  *BuildFailure `json:"build,omitempty"`
	Checks []*Check      `json:"checks"`
}

// BuildFailure is the learner's compile error, paths relative to the repository.
type BuildFailure struct {
	Output string `json:"output"`
	// First is the first "file:line:col: message" line, for one-line summaries.
	First string `json:"first"`
}

// Check is the result of one check.
type Check struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Points earned: MaxPoints when passed, otherwise 0.
	Points    int     `json:"points"`
	MaxPoints int     `json:"max_points"`
	Duration  Seconds `json:"duration_seconds"`
	// Message is the one-line reason for a failure or error.
	Message string `json:"message,omitempty"`
	// Expected and Actual show the evidence side by side when the grader has it.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Log is what the checker did, in order.
	Log []string `json:"log"`
	// LearnerOutput is what the learner's process printed (stdout and stderr, capped).
	LearnerOutput string `json:"learner_output,omitempty"`
	// Hint is the first hint of a failed check; Section is the lesson section to reread.
	Hint    string `json:"hint,omitempty"`
	Lesson  string `json:"lesson,omitempty"`
	Section string `json:"section,omitempty"`
}

// Sandbox modes, as reports name them.
const (
	SandboxProcess   = "process"
	SandboxContainer = "container"
	// SandboxMixed is a run whose labs were isolated differently.
	SandboxMixed = "mixed"
)

// SandboxOf is the sandbox of a run over labs: their common mode, or
// SandboxMixed when they differ; labs where no learner code ran do not count.
func SandboxOf(labs []*Lab) string {
	mode := ""
	for _, l := range labs {
		switch {
		case l.Sandbox == "" || l.Sandbox == mode:
		case mode == "":
			mode = l.Sandbox
		default:
			return SandboxMixed
		}
	}
	return mode
}

// Seconds is a duration that serialises as fractional seconds.
type Seconds float64

// Sec converts a duration.
func Sec(d time.Duration) Seconds { return Seconds(d.Seconds()) }

// Total recomputes the run's points from its labs.
func (r *Run) Total() {
	r.Points, r.MaxPoints = 0, 0
	for _, l := range r.Labs {
		r.Points += l.Points
		r.MaxPoints += l.MaxPoints
	}
}

// AllPassed reports whether every lab passed; an empty run has not passed.
func (r *Run) AllPassed() bool {
	if len(r.Labs) == 0 || r.Interrupted {
		return false
	}
	for _, l := range r.Labs {
		if l.Status != Passed {
			return false
		}
	}
	return true
}

// Finish sets the lab's status and points from its checks.
func (l *Lab) Finish() {
	l.Points, l.MaxPoints = 0, 0
	status := Passed
	for _, c := range l.Checks {
		l.MaxPoints += c.MaxPoints
		l.Points += c.Points
		switch {
		case c.Status == Error:
			status = Error
		case c.Status == Failed && status != Error:
			status = Failed
		case c.Status == Skipped && status == Passed:
			status = Skipped
		}
	}
	if len(l.Checks) == 0 {
		status = Error
	}
	if l.Build != nil && status != Error {
		status = Failed
	}
	l.Status = status
}
