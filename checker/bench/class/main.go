// Command class measures what an instructor waits for: it assembles a
// class of student checkouts from the labs' own starters, reference
// solutions and wrong solutions (plus compile errors, hangs and panics),
// starts warm services with `delab up`, and times `delab grade --class`
// over every lab at each --jobs value. It prints per student the points
// and the seconds graded, per lab the reference student's seconds, and
// per --jobs the whole class's wall time and the speed-up.
//
// Run it with `make class-bench`; it needs a Docker engine and the images
// (source the stand-in images' env file where no registry is reachable).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/labs"
	"github.com/delab-dev/delab/lessons"
)

// student is one checkout of the benchmark class: for each lab, where its
// files come from.
type student struct {
	name string
	// about says in a few words what this student handed in.
	about string
	// pick returns the lab's source for this student.
	pick func(i int, l *catalog.Lab) source
}

// source is how one lab's entry files are made.
type source int

const (
	starter   source = iota // the untouched starter from labs/
	reference               // checker/labs/<id>/solution
	wrong                   // the lab's first wrong solution
	noCompile               // the reference with a type error appended
	hang                    // the reference whose init never returns
	panics                  // the reference whose init panics
)

// class is six students, as the issue asks: a full pass, an untouched
// checkout, a wrong solution everywhere, and three whose code breaks in
// the ways a grader must survive, spread over different labs so that each
// kind of breakage meets each kind of lab (Docker-free and service).
var class = []student{
	{"s1-reference", "every lab's reference", func(int, *catalog.Lab) source { return reference }},
	{"s2-starter", "untouched starters", func(int, *catalog.Lab) source { return starter }},
	{"s3-wrong", "each lab's first wrong solution", func(int, *catalog.Lab) source { return wrong }},
	{"s4-compile", "reference; every 3rd lab does not compile", func(i int, _ *catalog.Lab) source {
		return pickEvery(i, 3, noCompile)
	}},
	{"s5-hang", "reference; every 4th lab hangs in init", func(i int, _ *catalog.Lab) source {
		return pickEvery(i, 4, hang)
	}},
	{"s6-mixed", "reference, wrong, starter and panics in turn", func(i int, _ *catalog.Lab) source {
		return []source{reference, wrong, starter, panics}[i%4]
	}},
}

func pickEvery(i, n int, s source) source {
	if i%n == n-1 {
		return s
	}
	return reference
}

func main() {
	repo := flag.String("repo", ".", "the delab checkout")
	jobsFlag := flag.String("jobs", "1,2", "comma-separated --jobs values to time")
	work := flag.String("work", "", "folder for the class and the reports (default: a temporary one, removed afterwards)")
	labFilter := flag.String("labs", "", "regexp of lab ids to grade (default: every lab)")
	seed := flag.Uint64("seed", 1, "seed for every grading, so that runs at different --jobs grade the same inputs")
	keepUp := flag.Bool("keep-up", false, "leave the warm services running afterwards")
	assembleOnly := flag.Bool("assemble-only", false, "write the class under -work and stop (no Docker needed)")
	flag.Parse()
	if err := run(context.Background(), *repo, *jobsFlag, *work, *labFilter, *seed, *keepUp, *assembleOnly); err != nil {
		fmt.Fprintln(os.Stderr, "class-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, repo, jobsFlag, work, labFilter string, seed uint64, keepUp, assembleOnly bool) error {
	var jobs []int
	for _, f := range strings.Split(jobsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-jobs %q: want positive integers", jobsFlag)
		}
		jobs = append(jobs, n)
	}
	repo, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	c, err := catalog.Load(lessons.FS, labs.FS)
	if err != nil {
		return err
	}
	var picked []*catalog.Lab
	re, err := regexp.Compile(labFilter)
	if err != nil {
		return fmt.Errorf("-labs: %w", err)
	}
	for _, l := range c.Labs() {
		if re.MatchString(l.ID) {
			picked = append(picked, l)
		}
	}
	if len(picked) == 0 {
		return fmt.Errorf("-labs %q matches no lab", labFilter)
	}
	if work == "" {
		if assembleOnly {
			return errors.New("-assemble-only needs -work DIR")
		}
		work, err = os.MkdirTemp("", "delab-class-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "delab")
	if out, err := command(ctx, repo, "go", "build", "-o", bin, "./cmd/delab").CombinedOutput(); err != nil {
		return fmt.Errorf("building delab: %v\n%s", err, out)
	}
	classDir := filepath.Join(work, "class")
	if err := os.RemoveAll(classDir); err != nil {
		return err
	}
	for _, s := range class {
		if err := assemble(repo, filepath.Join(classDir, s.name), s, picked); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	if assembleOnly {
		fmt.Printf("class of %d students × %d labs written to %s\n", len(class), len(picked), classDir)
		return nil
	}
	// Warm only what the picked labs use, as an instructor would.
	var need []string
	for _, l := range picked {
		for _, sv := range l.Services {
			if !slices.Contains(need, string(sv)) {
				need = append(need, string(sv))
			}
		}
	}
	fmt.Printf("class: %d students × %d labs, seed %d; warm services: %v\n", len(class), len(picked), seed, need)
	if len(need) > 0 {
		if out, err := command(ctx, repo, bin, append([]string{"up"}, need...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("delab up: %v\n%s", err, out)
		}
		if !keepUp {
			defer command(context.WithoutCancel(ctx), repo, bin, "down").Run()
		}
	}

	wall := map[int]time.Duration{}
	results := map[int]map[string]*runReport{}
	for _, j := range jobs {
		out := filepath.Join(work, fmt.Sprintf("grades-jobs%d", j))
		args := []string{"grade", "--class", classDir, "--out", out, "--jobs", strconv.Itoa(j), "--redo", "--seed", strconv.FormatUint(seed, 10), "--format", "json"}
		for _, l := range picked {
			args = append(args, "--lab", l.ID)
		}
		cmd := command(ctx, repo, bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		err := cmd.Run()
		wall[j] = time.Since(t0)
		// Exit status 1 means a student failed a check, which this class
		// is built to do; anything else means delab could not grade.
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
			return fmt.Errorf("delab grade --jobs %d: %v\n%s", j, err, stderr.String())
		}
		rs, err := readReports(out)
		if err != nil {
			return err
		}
		results[j] = rs
		fmt.Printf("--jobs %d: %d students graded in %s\n", j, len(rs), wall[j].Round(time.Second))
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "\nstudent\tpoints")
	for _, j := range jobs {
		fmt.Fprintf(w, "\ts (--jobs %d)", j)
	}
	fmt.Fprintln(w, "\t")
	for _, s := range class {
		first := results[jobs[0]][s.name]
		pts := "not graded"
		if first != nil {
			pts = fmt.Sprintf("%d/%d", first.Points, first.MaxPoints)
		}
		fmt.Fprintf(w, "%s (%s)\t%s", s.name, s.about, pts)
		for _, j := range jobs {
			if r := results[j][s.name]; r != nil {
				fmt.Fprintf(w, "\t%.0f", r.Duration)
			} else {
				fmt.Fprint(w, "\t-")
			}
		}
		fmt.Fprintln(w, "\t")
	}
	fmt.Fprint(w, "whole class (wall)\t")
	for _, j := range jobs {
		fmt.Fprintf(w, "\t%.0f", wall[j].Seconds())
	}
	fmt.Fprintln(w, "\t")
	fmt.Fprint(w, "30 students, projected (wall × 30/6)\t")
	for _, j := range jobs {
		fmt.Fprintf(w, "\t%.0f", wall[j].Seconds()*30/float64(len(class)))
	}
	fmt.Fprintln(w, "\t")
	if err := w.Flush(); err != nil {
		return err
	}
	base := wall[jobs[0]]
	for _, j := range jobs[1:] {
		fmt.Printf("speed-up of --jobs %d over --jobs %d: %.2f×\n", j, jobs[0], base.Seconds()/wall[j].Seconds())
	}
	// Per lab, the reference student at the first --jobs value: where a
	// student's time goes.
	if ref := results[jobs[0]]["s1-reference"]; ref != nil {
		fmt.Printf("\nper lab, s1-reference at --jobs %d (seconds, points):\n", jobs[0])
		w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		labs := append([]labReport(nil), ref.Labs...)
		sort.SliceStable(labs, func(a, b int) bool { return labs[a].Duration > labs[b].Duration })
		for _, l := range labs {
			fmt.Fprintf(w, "  %s\t%.1f\t%d/%d\n", l.ID, l.Duration, l.Points, l.MaxPoints)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	return cmd
}

// assemble writes one student's checkout: go.mod and go.sum from the repo
// and, per lab, its entry files from the source the student picks.
func assemble(repo, dir string, s student, picked []*catalog.Lab) error {
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := copyFile(filepath.Join(repo, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	for i, l := range picked {
		dst := filepath.Join(dir, filepath.FromSlash(l.Dir))
		src := s.pick(i, l)
		from := filepath.Join(repo, filepath.FromSlash(l.Dir))
		switch src {
		case reference, noCompile, hang, panics:
			from = filepath.Join(repo, "checker", "labs", filepath.FromSlash(l.ID), "solution")
		case wrong:
			d, err := firstWrong(repo, l)
			if err != nil {
				return err
			}
			from = d
		}
		for _, e := range l.Entry {
			if err := copyFile(filepath.Join(from, e), filepath.Join(dst, e)); err != nil {
				return fmt.Errorf("%s: %w", l.ID, err)
			}
		}
		// The breakage goes into the first entry file: the grader reads
		// only the entry files, so a file beside them would be ignored.
		if src == noCompile || src == hang || src == panics {
			if err := breakFile(filepath.Join(dst, l.Entry[0]), src); err != nil {
				return fmt.Errorf("%s: %w", l.ID, err)
			}
		}
	}
	return nil
}

// firstWrong is the lab's wrong solution whose folder name sorts first.
func firstWrong(repo string, l *catalog.Lab) (string, error) {
	root := filepath.Join(repo, "checker", "labs", filepath.FromSlash(l.ID), "wrong")
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("%s: %w", l.ID, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			return filepath.Join(root, e.Name()), nil
		}
	}
	return "", fmt.Errorf("%s: no wrong solution under %s", l.ID, root)
}

// breakFile appends the breakage to a compiling Go file. An import added
// right after the package clause lets the hang sleep without burning a
// core, as a learner's forgotten blocking call would.
func breakFile(p string, how source) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	text := string(data)
	switch how {
	case noCompile:
		text += "\nfunc delabBenchBroken() int { return \"not an int\" }\n"
	case panics:
		text += "\nfunc init() { panic(\"class bench: this student's code panics\") }\n"
	case hang:
		i := strings.Index(text, "\npackage ")
		if strings.HasPrefix(text, "package ") {
			i = -1
		} else if i < 0 {
			return errors.New("no package clause")
		}
		end := strings.Index(text[i+1:], "\n")
		if end < 0 {
			return errors.New("package clause is the last line")
		}
		cut := i + 1 + end + 1
		text = text[:cut] + "\nimport delabBenchTime \"time\"\n" + text[cut:] +
			"\nfunc init() { delabBenchTime.Sleep(delabBenchTime.Hour) }\n"
	}
	return os.WriteFile(p, []byte(text), 0o644)
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// runReport is the part of a JSON grade report the benchmark reads.
type runReport struct {
	Student   string      `json:"student"`
	Duration  float64     `json:"duration_seconds"`
	Points    int         `json:"points"`
	MaxPoints int         `json:"max_points"`
	Labs      []labReport `json:"labs"`
}

type labReport struct {
	ID        string  `json:"id"`
	Duration  float64 `json:"duration_seconds"`
	Points    int     `json:"points"`
	MaxPoints int     `json:"max_points"`
}

// readReports reads <student>.json from a class run's --out folder.
func readReports(dir string) (map[string]*runReport, error) {
	// <student>.json only: other formats are <student>.<kind>.json.
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string]*runReport{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		if strings.Contains(name, ".") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r runReport
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[name] = &r
	}
	return out, nil
}
