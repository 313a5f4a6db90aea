package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab"
	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/engine"
	"github.com/delab-dev/delab/checker/report"
	"github.com/delab-dev/delab/checker/services"
)

// GradeOptions are the inputs of `delab grade`.
type GradeOptions struct {
	IO      *IOStreams
	Factory *Factory
	Repo    func() string
	// Format is text, json, junit, markdown, classroom50 or exercism.
	Format string
	// Out is a file to write the report to; empty means stdout. With
	// Class or Roster it is the folder for the class's reports.
	Out string
	// Also writes the same run in more formats: "format=file" each.
	Also []string
	// Labs limits grading to these ids; empty means every lab.
	Labs []string
	// Seed fixes generated inputs; 0 picks one (recorded in the report).
	Seed uint64
	// Invocation is how the user starts delab, for the command in the
	// report that reproduces the run; empty means commandPrefix().
	Invocation string
	// Class is a folder of student checkouts to grade (`--class DIR`).
	Class string
	// Roster is a file naming one student checkout per line (`--roster FILE`).
	Roster string
	// Jobs is how many students are graded at once.
	Jobs int
	// Redo grades students again whose report is up to date.
	Redo bool
	// Repeat runs the checks this many times with fresh seeds and prints
	// each check's pass rate and durations instead of a report.
	Repeat int
}

// gradeFormats are the report formats of `delab grade`.
var gradeFormats = []string{"text", "json", "junit", "markdown", "classroom50", "exercism"}

// Version is delab's version, set at build time with
// -ldflags "-X github.com/delab-dev/delab/cmd/delab/internal/cli.Version=v1.2.3";
// when empty, the module version from the build info is used.
var Version = ""

// NewCmdGrade builds `delab grade`.
func NewCmdGrade(f *Factory, repo func() string, runF func(context.Context, *GradeOptions) error) *cobra.Command {
	opts := &GradeOptions{IO: f.IO, Factory: f, Repo: repo, Invocation: commandPrefix()}
	cmd := &cobra.Command{
		Use:   "grade",
		Short: "Grade every lab of a checkout (or a class of them), with points and a machine-readable report",
		Long: `Grade every lab (or those named with --lab) in a checkout, for instructors
and CI. Only the learner's lab .go files are read from the checkout: lab
definitions, checks, points, graders and the go.mod/go.sum the code is
built against come from this delab binary.

Formats: text (terminal), json (see checker/report/schema.json), junit
(one testsuite per lab, one testcase per check), markdown (for a CI job
summary), classroom50 (Classroom 50's result.json; CLASSROOM, ASSIGNMENT,
SUBMISSION_TAG, COMMIT_URL, RELEASE_URL, REVIEW_URL fill its fields) and
exercism (exercism's results.json, version 3). --also FORMAT=FILE writes
the same run in another format too. Every report carries the seed, the
command that reproduces the run, delab's version, the graders' commit and
a digest of the student files graded; with DELAB_SIGNING_KEY set the JSON
report is signed (delab gradebook --verify checks it).

--class DIR grades every checkout in DIR (or --roster FILE, one path a
line), --jobs at a time, sharing one set of services, into --out DIR:
<student>.json (plus the chosen format) and a gradebook. Students whose
report is newer than every file of their checkout are skipped unless
--redo, so an interrupted class run resumes.

Exit status: 0 when every lab passes (with --class: every student was
graded), 1 when a check fails, 2 on errors (including a checker or
service error in a check), 130 when interrupted.`,
		Example: "  delab grade --repo ./student --format junit --out report.xml\n" +
			"  delab grade --format json --out report.json --also markdown=\"$GITHUB_STEP_SUMMARY\"\n" +
			"  delab grade --class ./submissions --out ./grades --jobs 4",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validFormat(opts.Format); err != nil {
				return err
			}
			for _, a := range opts.Also {
				format, file, ok := strings.Cut(a, "=")
				if !ok || file == "" {
					return &exitCodeError{code: ExitError, err: fmt.Errorf("--also %q: use FORMAT=FILE, e.g. --also junit=report.xml", a)}
				}
				if err := validFormat(format); err != nil {
					return err
				}
			}
			if opts.Class != "" && opts.Roster != "" {
				return &exitCodeError{code: ExitError, err: fmt.Errorf("use --class or --roster, not both")}
			}
			if opts.Jobs < 1 {
				return &exitCodeError{code: ExitError, err: fmt.Errorf("--jobs must be at least 1")}
			}
			if opts.Repeat < 1 {
				return &exitCodeError{code: ExitError, err: fmt.Errorf("--repeat must be at least 1")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.Class != "" || opts.Roster != "" {
				return classRun(cmd.Context(), opts)
			}
			if opts.Repeat > 1 {
				return gradeRepeatRun(cmd.Context(), opts)
			}
			return gradeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "report format: "+strings.Join(gradeFormats, ", "))
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the report to this file instead of stdout (with --class: the folder for the reports)")
	cmd.Flags().StringArrayVar(&opts.Also, "also", nil, "also write the run as FORMAT=FILE (repeatable)")
	cmd.Flags().StringSliceVar(&opts.Labs, "lab", nil, "grade only these labs (repeatable)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed for generated inputs (reproduces a run)")
	cmd.Flags().StringVar(&opts.Class, "class", "", "grade every student checkout in this folder")
	cmd.Flags().StringVar(&opts.Roster, "roster", "", "grade the student checkouts this file lists, one path a line")
	cmd.Flags().IntVar(&opts.Jobs, "jobs", defaultJobs(), "students graded at once (with --class)")
	cmd.Flags().BoolVar(&opts.Redo, "redo", false, "grade students again whose report is up to date (with --class)")
	cmd.Flags().IntVar(&opts.Repeat, "repeat", 1, "run the checks N times with fresh seeds; print pass rates and durations")
	return cmd
}

// defaultJobs is half the CPUs: each student's checks run one process at
// a time, and builds (go build) want the other half.
func defaultJobs() int { return max(1, runtime.NumCPU()/2) }

func validFormat(format string) error {
	for _, f := range gradeFormats {
		if f == format {
			return nil
		}
	}
	return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown --format %q (use %s)", format, strings.Join(gradeFormats, ", "))}
}

// gradeLabs resolves --lab ids; none means every lab.
func gradeLabs(f *Factory, ids []string) ([]*catalog.Lab, error) {
	c, err := f.Catalog()
	if err != nil {
		return nil, &exitCodeError{code: ExitError, err: fmt.Errorf("course content is invalid:\n%w", err)}
	}
	if len(ids) == 0 {
		return c.Labs(), nil
	}
	var labs []*catalog.Lab
	for _, id := range ids {
		l, err := c.ResolveLab(id)
		if err != nil {
			return nil, &exitCodeError{code: ExitError, err: err}
		}
		labs = append(labs, l)
	}
	return labs, nil
}

func gradeRun(ctx context.Context, opts *GradeOptions) error {
	f := opts.Factory
	labs, err := gradeLabs(f, opts.Labs)
	if err != nil {
		return err
	}
	repo, err := f.findRepo(opts.Repo())
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	// A report that cannot be written is found out before grading, not after.
	outs := []string{opts.Out}
	for _, a := range opts.Also {
		_, file, _ := strings.Cut(a, "=")
		outs = append(outs, file)
	}
	for _, out := range outs {
		if out != "" {
			if err := checkOutPath(out); err != nil {
				return &exitCodeError{code: ExitError, err: err}
			}
		}
	}
	seed := cmp.Or(opts.Seed, newSeed())
	run, err := gradeCheckout(ctx, f, repo, labs, seed, nil, func(l *catalog.Lab) {
		fmt.Fprintf(opts.IO.ErrOut, "grading %s… ", l.ID)
	}, func(res *report.Lab) {
		fmt.Fprintf(opts.IO.ErrOut, "%s, %d/%d points\n", res.Status, res.Points, res.MaxPoints)
	})
	if err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	run.Command = reproduceCommand(f, cmp.Or(opts.Invocation, commandPrefix()), opts.Repo(), repo, opts.Labs, "grade", "--seed", fmt.Sprint(seed))
	if err := signRun(run); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	data, err := renderRun(opts.Format, run, opts.IO.Color && opts.Out == "")
	if err != nil {
		return err
	}
	if opts.Out == "" {
		if _, err := opts.IO.Out.Write(data); err != nil {
			return err
		}
	} else {
		if err := writeFileAtomic(opts.Out, data); err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		fmt.Fprintf(opts.IO.ErrOut, "%d/%d points; %s report written to %s\n", run.Points, run.MaxPoints, opts.Format, opts.Out)
	}
	for _, a := range opts.Also {
		format, file, _ := strings.Cut(a, "=")
		data, err := renderRun(format, run, false)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(file, data); err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s report written to %s\n", format, file)
	}
	return runExit(run)
}

// runExit is how a graded run ends the command.
func runExit(run *report.Run) error {
	if run.Interrupted {
		return errInterrupted
	}
	for _, l := range run.Labs {
		if l.Status == report.Error {
			return errCheckerFault
		}
	}
	if !run.AllPassed() {
		return errChecksFailed
	}
	return nil
}

// gradeCheckout grades labs of the checkout at repo into a run with its
// provenance (version, graders' commit, seed, digest of the student
// files). shared, if set, provides services to every lab that needs them
// (a class run); otherwise each lab acquires its own as `check` does.
// before and after, if set, are told when each lab starts and ends.
func gradeCheckout(ctx context.Context, f *Factory, repo string, labs []*catalog.Lab, seed uint64, shared *sharedServices, before func(*catalog.Lab), after func(*report.Lab)) (*report.Run, error) {
	var results []*report.Lab
	for _, lab := range labs {
		if ctx.Err() != nil {
			results = append(results, skippedLab(lab, "interrupted before this lab was graded"))
			continue
		}
		if before != nil {
			before(lab)
		}
		res, err := gradeLabTrusted(ctx, f, repo, lab, seed, shared, nil)
		if err != nil {
			return nil, err
		}
		if after != nil {
			after(res)
		}
		results = append(results, res)
	}
	run := newRun(f, results, ctx.Err() != nil)
	run.Seed = seed
	run.DelabVersion, run.GradersCommit = buildVersion()
	digest, err := sourceDigest(repo, labs)
	if err != nil {
		return nil, err
	}
	run.SourceDigest = digest
	return run, nil
}

// sharedServices is one service provider for many checkouts graded at
// once. Service labs take turns (serial): a check may crash the broker on
// purpose, which must not land in another student's check.
type sharedServices struct {
	provider services.Provider
	serial   sync.Mutex
}

// gradeLabTrusted grades one lab like gradeLab, but builds the learner's
// code against the go.mod and go.sum embedded in this binary, never the
// checkout's, so a student cannot swap a dependency for their own.
func gradeLabTrusted(ctx context.Context, f *Factory, repo string, lab *catalog.Lab, seed uint64, shared *sharedServices, observe func(engine.Event)) (*report.Lab, error) {
	g := f.Grader(lab.ID)
	if g == nil {
		return nil, fmt.Errorf("lab %s has no grader in this build of delab", lab.ID)
	}
	e := f.Engine()
	e.TrustedGoMod, e.TrustedGoSum = delab.GoMod, delab.GoSum
	if len(lab.Services) > 0 {
		if shared != nil {
			e.Services = shared.provider
			shared.serial.Lock()
			defer shared.serial.Unlock()
		} else {
			f.sweepLeftovers(ctx)
			e.Services = f.Services()
		}
	}
	e.Seed = seed
	e.Observer = observe
	return e.Grade(ctx, lab, g, engine.SourceFor(repo, lab)), nil
}

// studentFiles are the files the engine reads for labs: each lab folder's
// non-test .go files, directly in it (engine's learnerFiles rule).
func studentFiles(repo string, labs []*catalog.Lab) ([]report.SourceFile, error) {
	var files []report.SourceFile
	for _, lab := range labs {
		entries, err := os.ReadDir(filepath.Join(repo, filepath.FromSlash(lab.Dir)))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			n := e.Name()
			if !e.Type().IsRegular() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(lab.Dir), n))
			if err != nil {
				return nil, err
			}
			files = append(files, report.SourceFile{Path: lab.Dir + "/" + n, Data: data})
		}
	}
	return files, nil
}

func sourceDigest(repo string, labs []*catalog.Lab) (string, error) {
	files, err := studentFiles(repo, labs)
	if err != nil {
		return "", fmt.Errorf("digest of the student files: %w", err)
	}
	return report.SourceDigest(files), nil
}

// buildVersion is delab's version and the commit its graders were built
// from, from -ldflags and the build info Go records.
func buildVersion() (version, commit string) {
	version, commit = Version, "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return cmp.Or(version, "unknown"), commit
	}
	if version == "" {
		version = strings.Trim(info.Main.Version, "()") // "(devel)" for a source build
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && commit != "unknown" {
		commit += "+dirty"
	}
	return cmp.Or(version, "unknown"), commit
}

// signingKeyEnv names the variable holding the key reports are signed with.
const signingKeyEnv = "DELAB_SIGNING_KEY"

// signRun signs the run when DELAB_SIGNING_KEY is set.
func signRun(run *report.Run) error {
	key := os.Getenv(signingKeyEnv)
	if key == "" {
		return nil
	}
	return report.Sign(run, []byte(key))
}

// renderRun renders the run in a format of gradeFormats.
func renderRun(format string, run *report.Run, color bool) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	switch format {
	case "json":
		err = report.WriteJSON(&buf, run)
	case "junit":
		err = report.WriteJUnit(&buf, run)
	case "markdown":
		err = report.WriteMarkdown(&buf, run)
	case "classroom50":
		err = report.WriteClassroom50(&buf, run, report.Classroom50Context{
			Classroom: os.Getenv("CLASSROOM"), Assignment: os.Getenv("ASSIGNMENT"), Submission: os.Getenv("SUBMISSION_TAG"),
			Commit: os.Getenv("COMMIT_URL"), Release: os.Getenv("RELEASE_URL"), Review: os.Getenv("REVIEW_URL"),
		})
	case "exercism":
		err = report.WriteExercism(&buf, run)
	default:
		err = report.WriteText(&buf, run, report.TextOptions{Color: color})
	}
	return buf.Bytes(), err
}

func skippedLab(lab *catalog.Lab, why string) *report.Lab {
	l := &report.Lab{ID: lab.ID, Title: lab.Title, Message: why}
	for _, c := range lab.Checks {
		l.Checks = append(l.Checks, &report.Check{ID: c.ID, Title: c.Title, Status: report.Skipped, MaxPoints: c.Points, Message: why, Log: []string{}})
	}
	l.Finish()
	return l
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".delab-report-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
