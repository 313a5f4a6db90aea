// Package progress records what a learner has done — checks passed and
// when, hints revealed, lessons read — in one JSON file in the user's
// config directory. Writes are atomic; a corrupt file is moved aside and
// reported, never silently lost and never a crash.
package progress

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/delab-dev/delab/checker/report"
)

// Version of the file format.
const Version = 1

// Lab states shown by the dashboard.
const (
	NotStarted = "not started"
	Failing    = "failing"
	Passed     = "passed"
)

// Progress is the whole file.
type Progress struct {
	Version int                  `json:"version"`
	Labs    map[string]*Lab      `json:"labs"`
	Lessons map[string]time.Time `json:"lessons_read"`
}

// Lab is one lab's progress.
type Lab struct {
	Status      string            `json:"status"`
	Points      int               `json:"points"`
	MaxPoints   int               `json:"max_points"`
	LastChecked time.Time         `json:"last_checked"`
	PassedAt    *time.Time        `json:"passed_at,omitempty"`
	Checks      map[string]*Check `json:"checks"`
	// HintsShown counts, per check id, how many of its hints the learner
	// has seen: a failed check's report shows the first, and each
	// `delab hint` reveals one more.
	HintsShown map[string]int `json:"hints_shown"`
}

// Check is one check's latest outcome.
type Check struct {
	Status   report.Status `json:"status"`
	PassedAt *time.Time    `json:"passed_at,omitempty"`
}

// Store reads and writes the progress file.
type Store struct {
	// Path of the JSON file.
	Path string
}

// DefaultPath is $DELAB_HOME/progress.json, else <user config dir>/delab/progress.json.
func DefaultPath() (string, error) {
	if home := os.Getenv("DELAB_HOME"); home != "" {
		return filepath.Join(home, "progress.json"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory (set DELAB_HOME): %w", err)
	}
	return filepath.Join(dir, "delab", "progress.json"), nil
}

// New returns empty progress.
func New() *Progress {
	return &Progress{Version: Version, Labs: map[string]*Lab{}, Lessons: map[string]time.Time{}}
}

// Load reads the file. A missing file is empty progress. A corrupt file is
// renamed to "<path>.corrupt-<time>" and empty progress is returned with a
// warning saying where the old file went.
func (s *Store) Load() (p *Progress, warning string, err error) {
	data, err := os.ReadFile(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return New(), "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read progress: %w", err)
	}
	p = New()
	derr := json.Unmarshal(data, p)
	if derr == nil && p.Version != Version {
		derr = fmt.Errorf("unsupported version %d", p.Version)
	}
	if derr != nil {
		aside := fmt.Sprintf("%s.corrupt-%s", s.Path, time.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(s.Path, aside); rerr != nil {
			return nil, "", fmt.Errorf("progress file %s is corrupt (%v) and could not be moved aside: %w", s.Path, derr, rerr)
		}
		return New(), fmt.Sprintf("progress file %s was corrupt (%v); it was moved to %s and progress starts fresh", s.Path, derr, aside), nil
	}
	if p.Labs == nil {
		p.Labs = map[string]*Lab{}
	}
	if p.Lessons == nil {
		p.Lessons = map[string]time.Time{}
	}
	return p, "", nil
}

// Save writes the file atomically: a temporary file in the same folder,
// synced, then renamed over the old one.
func (s *Store) Save(p *Progress) error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.Path), ".progress-*.json")
	if err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save progress: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save progress: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.Path); err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	return nil
}

// Update loads, applies fn and saves, returning any load warning.
func (s *Store) Update(fn func(p *Progress)) (warning string, err error) {
	p, warning, err := s.Load()
	if err != nil {
		return "", err
	}
	fn(p)
	return warning, s.Save(p)
}

// LabOf returns the lab's record, creating it.
func (p *Progress) LabOf(id string) *Lab {
	l := p.Labs[id]
	if l == nil {
		l = &Lab{Status: NotStarted, Checks: map[string]*Check{}, HintsShown: map[string]int{}}
		p.Labs[id] = l
	}
	if l.Checks == nil {
		l.Checks = map[string]*Check{}
	}
	if l.HintsShown == nil {
		l.HintsShown = map[string]int{}
	}
	return l
}

// Status returns a lab's state, NotStarted when never checked.
func (p *Progress) Status(id string) string {
	if l := p.Labs[id]; l != nil && l.Status != "" {
		return l.Status
	}
	return NotStarted
}

// Record stores a graded lab. An interrupted or errored run (not the
// learner's doing) leaves the previous record untouched.
func (p *Progress) Record(r *report.Lab, now time.Time) {
	if r.Status == report.Skipped || r.Status == report.Error {
		return
	}
	l := p.LabOf(r.ID)
	l.Points, l.MaxPoints, l.LastChecked = r.Points, r.MaxPoints, now
	l.Status = Failing
	if r.Status == report.Passed {
		l.Status = Passed
		if l.PassedAt == nil {
			t := now
			l.PassedAt = &t
		}
	}
	for _, c := range r.Checks {
		pc := l.Checks[c.ID]
		if pc == nil {
			pc = &Check{}
			l.Checks[c.ID] = pc
		}
		pc.Status = c.Status
		if c.Status == report.Passed && pc.PassedAt == nil {
			t := now
			pc.PassedAt = &t
		}
		// The report of a failed check shows its first hint, so `delab
		// hint` starts with the second.
		if c.Status == report.Failed && c.Hint != "" && l.HintsShown[c.ID] < 1 {
			l.HintsShown[c.ID] = 1
		}
	}
}

// Reset forgets a lab's check results, as after `delab reset`: the lab is
// not started again, with no points and no time of a last check. Hints
// the learner has seen stay seen, and lessons stay read.
func (p *Progress) Reset(id string) {
	l := p.Labs[id]
	if l == nil {
		return
	}
	l.Status, l.Points, l.LastChecked, l.PassedAt = NotStarted, 0, time.Time{}, nil
	l.Checks = map[string]*Check{}
}
