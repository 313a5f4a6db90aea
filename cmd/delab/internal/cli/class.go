package cli

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

// classStudent is one checkout of a class run.
type classStudent struct {
	// Name is the checkout folder's name; reports are <Name>.json.
	Name string
	Dir  string
}

// formatExt is the file ending of a student's report in each format
// besides JSON, which every student gets as <name>.json.
var formatExt = map[string]string{
	"text": ".txt", "junit": ".xml", "markdown": ".md",
	"classroom50": ".classroom50.json", "exercism": ".results.json",
}

// classRun grades a class: every student checkout, opts.Jobs at a time.
// A student's result costs only that student; an interrupted run leaves
// finished reports and writes none for the students it did not finish.
func classRun(ctx context.Context, opts *GradeOptions) error {
	f := opts.Factory
	if opts.Out == "" {
		return &exitCodeError{code: ExitError, err: errors.New("a class run needs --out DIR, the folder for the students' reports")}
	}
	if len(opts.Also) > 0 || opts.Repeat > 1 {
		return &exitCodeError{code: ExitError, err: errors.New("--also and --repeat grade one checkout; a class run writes <student>.json and the --format report per student")}
	}
	labs, err := gradeLabs(f, opts.Labs)
	if err != nil {
		return err
	}
	students, err := classStudents(opts.Class, opts.Roster)
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return &exitCodeError{code: ExitError, err: fmt.Errorf("--out %s: %w", opts.Out, err)}
	}
	if err := checkOutPath(filepath.Join(opts.Out, "gradebook.csv")); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	shared, closeServices := classServices(ctx, f, labs)
	defer closeServices()
	seed := cmp.Or(opts.Seed, newSeed())
	prefix := cmp.Or(opts.Invocation, commandPrefix())
	fmt.Fprintf(opts.IO.ErrOut, "grading %d students, %d at a time, %d labs each, seed %d\n", len(students), opts.Jobs, len(labs), seed)

	var (
		mu      sync.Mutex
		done    int
		runs    = map[string]*report.Run{}
		missing []string
		failed  []string // delab itself could not grade them
		start   = time.Now()
	)
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(opts.IO.ErrOut, format+"\n", args...)
	}
	work := make(chan classStudent)
	var wg sync.WaitGroup
	for range min(opts.Jobs, len(students)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				run, reused, err := gradeStudent(ctx, opts, s, labs, seed, prefix, shared, func(lab *catalog.Lab, since time.Time) {
					mu.Lock()
					d := done
					mu.Unlock()
					say("[%d/%d done] %s: grading %s (%.1fs so far)", d, len(students), s.Name, lab.ID, time.Since(since).Seconds())
				})
				mu.Lock()
				switch {
				case err != nil:
					failed = append(failed, s.Name)
					missing = append(missing, s.Name)
				case run == nil:
					missing = append(missing, s.Name)
				default:
					runs[s.Name] = run
					done++
				}
				d := done
				mu.Unlock()
				switch {
				case err != nil:
					say("[%d/%d done] %s: not graded: %v", d, len(students), s.Name, err)
				case run == nil:
					say("[%d/%d done] %s: interrupted, no report written", d, len(students), s.Name)
				case reused:
					say("[%d/%d done] %s: %d/%d points (report up to date, not graded again; --redo to grade it)", d, len(students), s.Name, run.Points, run.MaxPoints)
				default:
					say("[%d/%d done] %s: %d/%d points in %.1fs", d, len(students), s.Name, run.Points, run.MaxPoints, float64(run.Duration))
				}
			}
		}()
	}
feed:
	for _, s := range students {
		select {
		case work <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	for _, s := range students {
		if _, ok := runs[s.Name]; !ok && !slices.Contains(missing, s.Name) {
			missing = append(missing, s.Name)
		}
	}

	g := report.NewGradebook(runs, missing)
	if err := writeGradebooks(opts.Out, g); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	if err := report.WriteGradebookText(opts.IO.Out, g); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d of %d students graded in %.1fs; reports and gradebook.{csv,md} in %s\n", len(runs), len(students), time.Since(start).Seconds(), opts.Out)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(opts.IO.ErrOut, "interrupted: no report for %s; run the same command again to grade them\n", strings.Join(sorted(missing), ", "))
		return errInterrupted
	case len(failed) > 0:
		return &exitCodeError{code: ExitError, err: fmt.Errorf("delab could not grade %s (see above)", strings.Join(sorted(failed), ", "))}
	}
	return nil
}

// gradeStudent grades one student, or reuses their report when it is
// newer than every file of their checkout. A nil run without error means
// the grading was interrupted: nothing is written.
func gradeStudent(ctx context.Context, opts *GradeOptions, s classStudent, labs []*catalog.Lab, seed uint64, prefix string, shared *sharedServices, progress func(*catalog.Lab, time.Time)) (run *report.Run, reused bool, err error) {
	jsonPath := filepath.Join(opts.Out, s.Name+".json")
	if !opts.Redo {
		if r := upToDateReport(jsonPath, s.Dir, labs); r != nil {
			return r, true, nil
		}
	}
	defer func() {
		// A bug in delab while grading one student must not end the
		// others' grading.
		if p := recover(); p != nil {
			run, err = nil, fmt.Errorf("delab crashed (not the student's fault): %v", p)
		}
	}()
	began := time.Now()
	run, err = gradeCheckout(ctx, opts.Factory, s.Dir, labs, seed, shared, func(l *catalog.Lab) { progress(l, began) }, nil)
	if err != nil {
		return nil, false, err
	}
	if run.Interrupted {
		return nil, false, nil
	}
	run.Student = s.Name
	run.Command = strings.Join(append([]string{prefix, "grade", "--seed", fmt.Sprint(seed), "--repo", shellQuote(s.Dir)}, labFlags(opts.Labs)...), " ")
	if err := signRun(run); err != nil {
		return nil, false, err
	}
	if ext, ok := formatExt[opts.Format]; ok {
		data, err := renderRun(opts.Format, run, false)
		if err != nil {
			return nil, false, err
		}
		if err := writeFileAtomic(filepath.Join(opts.Out, s.Name+ext), data); err != nil {
			return nil, false, err
		}
	}
	// The JSON report goes last: its presence and time mark the student
	// as graded for a resumed run.
	data, err := renderRun("json", run, false)
	if err != nil {
		return nil, false, err
	}
	return run, false, writeFileAtomic(jsonPath, data)
}

func labFlags(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, "--lab", shellQuote(id))
	}
	return out
}

// upToDateReport returns the report at path when it is complete, grades
// the same labs, and is newer than every file of the checkout at dir
// (.git aside: fetching touches it without changing the code).
func upToDateReport(path, dir string, labs []*catalog.Lab) *report.Run {
	st, err := os.Stat(path)
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var r report.Run
	if json.Unmarshal(data, &r) != nil || r.Interrupted || len(r.Labs) != len(labs) {
		return nil
	}
	for i, l := range labs {
		if r.Labs[i].ID != l.ID {
			return nil
		}
	}
	newer := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || newer {
			return fs.SkipAll
		}
		if d.IsDir() && d.Name() == ".git" {
			return fs.SkipDir
		}
		if info, err := d.Info(); err == nil && !info.ModTime().Before(st.ModTime()) {
			newer = true
			return fs.SkipAll
		}
		return nil
	})
	if newer {
		return nil
	}
	return &r
}

// classStudents lists the checkouts of a class: the folders in dir that
// hold go.mod and labs/, or the paths roster lists (one a line, relative
// to the roster's folder; blank lines and # comments ignored).
func classStudents(dir, roster string) ([]classStudent, error) {
	var out []classStudent
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("--class: %w", err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if e.IsDir() && isRepo(p) {
				out = append(out, classStudent{Name: e.Name(), Dir: p})
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("--class %s holds no student checkout (a folder with go.mod and labs/)", dir)
		}
	} else {
		fh, err := os.Open(roster)
		if err != nil {
			return nil, fmt.Errorf("--roster: %w", err)
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			p := line
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(roster), p)
			}
			if !isRepo(p) {
				return nil, fmt.Errorf("%s:%d: %s is not a delab checkout (it needs go.mod and a labs/ folder)", roster, n, line)
			}
			out = append(out, classStudent{Name: filepath.Base(filepath.Clean(p)), Dir: p})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("--roster: %w", err)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("--roster %s lists no checkout", roster)
		}
	}
	seen := map[string]string{}
	for i, s := range out {
		abs, err := filepath.Abs(s.Dir)
		if err != nil {
			return nil, err
		}
		out[i].Dir = abs
		if other, dup := seen[s.Name]; dup {
			return nil, fmt.Errorf("two checkouts are named %s (%s and %s): their reports would overwrite each other", s.Name, other, abs)
		}
		seen[s.Name] = abs
	}
	return out, nil
}

// classServices starts nothing yet: it returns the provider every
// student's service labs share, and what ends it. Warm services (`delab
// up`) are used when they cover the labs; otherwise the first service lab
// starts one stack for all of them, removed at the end.
func classServices(ctx context.Context, f *Factory, labs []*catalog.Lab) (*sharedServices, func()) {
	var need []catalog.Service
	for _, l := range labs {
		for _, s := range l.Services {
			if !slices.Contains(need, s) {
				need = append(need, s)
			}
		}
	}
	if len(need) == 0 {
		return &sharedServices{}, func() {}
	}
	f.sweepLeftovers(ctx)
	p := f.Services()
	d, ok := p.(*services.Docker)
	if !ok {
		return &sharedServices{provider: p}, func() {}
	}
	if warm, err := services.WarmRunning(ctx, f.Images()); err == nil {
		covered := true
		for _, s := range need {
			covered = covered && warm[s]
		}
		if covered {
			return &sharedServices{provider: d}, func() {}
		}
	}
	d.Keep, d.KeepAll = true, need
	return &sharedServices{provider: d}, func() { _ = d.Close(context.WithoutCancel(ctx)) }
}

// writeGradebooks writes the class's gradebook as CSV and Markdown.
func writeGradebooks(dir string, g *report.Gradebook) error {
	var csv, md strings.Builder
	if err := report.WriteGradebookCSV(&csv, g); err != nil {
		return err
	}
	if err := report.WriteGradebookMarkdown(&md, g); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "gradebook.csv"), []byte(csv.String())); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "gradebook.md"), []byte(md.String()))
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
