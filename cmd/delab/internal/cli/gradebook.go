package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/delab-dev/delab/checker/report"
)

// GradebookOptions are the inputs of `delab gradebook`.
type GradebookOptions struct {
	IO *IOStreams
	// Reports are JSON report files (`delab grade --format json`).
	Reports []string
	// ClassDir is a folder of reports, as `delab grade --class` writes it.
	ClassDir string
	// Format is text, markdown or csv.
	Format string
	// Out is a file to write the gradebook to; empty means stdout.
	Out string
	// Verify rejects a report whose signature is missing or does not
	// match under DELAB_SIGNING_KEY.
	Verify bool
}

// NewCmdGradebook builds `delab gradebook`.
func NewCmdGradebook(f *Factory, runF func(context.Context, *GradebookOptions) error) *cobra.Command {
	opts := &GradebookOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "gradebook [REPORT.json]... | --class-dir DIR",
		Short: "Per-student totals per lab, and the checks the class fails most, from grade reports",
		Long: `Read JSON grade reports (one per student, from delab grade --class or
delab grade --format json) and show each student's points per lab with a
total, then the checks the class fails most: how many students failed
each, the share of those it ran for, and the hint shown most with it.

A student is named by the report's "student" field, else its file name.
--format csv writes one row per student and one column per lab id plus
the total, for an LMS to import (a second row holds the max points).

--verify checks every report's signature with DELAB_SIGNING_KEY and
fails (exit 1), naming the file, on a report that was edited, forged or
not signed.`,
		Example: "  delab gradebook --class-dir ./grades\n  delab gradebook grades/*.json --format csv --out grades.csv\n  DELAB_SIGNING_KEY=... delab gradebook --class-dir ./grades --verify",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Reports = args
			switch opts.Format {
			case "text", "markdown", "csv":
			default:
				return &exitCodeError{code: ExitError, err: fmt.Errorf("unknown --format %q (use text, markdown or csv)", opts.Format)}
			}
			if (len(args) == 0) == (opts.ClassDir == "") {
				return &exitCodeError{code: ExitError, err: errors.New("name report files or --class-dir DIR (one of them)")}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return gradebookRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.ClassDir, "class-dir", "", "read every report in this folder (delab grade --class --out)")
	cmd.Flags().StringVar(&opts.Format, "format", "text", "text, markdown or csv")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write the gradebook to this file instead of stdout")
	cmd.Flags().BoolVar(&opts.Verify, "verify", false, "reject reports whose signature does not match DELAB_SIGNING_KEY")
	return cmd
}

func gradebookRun(opts *GradebookOptions) error {
	files := opts.Reports
	if opts.ClassDir != "" {
		matches, err := filepath.Glob(filepath.Join(opts.ClassDir, "*.json"))
		if err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		for _, m := range matches {
			// Other formats share the folder (alice.results.json); only
			// delab's own reports are <student>.json.
			if !strings.Contains(strings.TrimSuffix(filepath.Base(m), ".json"), ".") {
				files = append(files, m)
			}
		}
		if len(files) == 0 {
			return &exitCodeError{code: ExitError, err: fmt.Errorf("--class-dir %s holds no report (<student>.json)", opts.ClassDir)}
		}
	}
	var key []byte
	if opts.Verify {
		key = []byte(os.Getenv(signingKeyEnv))
		if len(key) == 0 {
			return &exitCodeError{code: ExitError, err: fmt.Errorf("--verify needs the key the reports were signed with in %s", signingKeyEnv)}
		}
	}
	runs := map[string]*report.Run{}
	from := map[string]string{}
	var rejected []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return &exitCodeError{code: ExitError, err: err}
		}
		r, err := readReport(data)
		if err != nil {
			return &exitCodeError{code: ExitError, err: fmt.Errorf("%s: %w", file, err)}
		}
		if key != nil {
			if err := report.Verify(data, key); err != nil {
				rejected = append(rejected, fmt.Sprintf("%s: %v", file, err))
				continue
			}
		}
		name := r.Student
		if name == "" {
			name = strings.TrimSuffix(filepath.Base(file), ".json")
		}
		if other, dup := from[name]; dup {
			return &exitCodeError{code: ExitError, err: fmt.Errorf("%s and %s are both reports of %s", other, file, name)}
		}
		from[name] = file
		runs[name] = r
	}
	if len(rejected) > 0 {
		sort.Strings(rejected)
		return &exitCodeError{code: ExitChecksFail, err: fmt.Errorf("rejected %d report(s):\n  %s", len(rejected), strings.Join(rejected, "\n  "))}
	}
	g := report.NewGradebook(runs, nil)
	var buf bytes.Buffer
	var err error
	switch opts.Format {
	case "markdown":
		err = report.WriteGradebookMarkdown(&buf, g)
	case "csv":
		err = report.WriteGradebookCSV(&buf, g)
	default:
		err = report.WriteGradebookText(&buf, g)
	}
	if err != nil {
		return err
	}
	if opts.Out == "" {
		_, err = opts.IO.Out.Write(buf.Bytes())
		return err
	}
	if err := checkOutPath(opts.Out); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	if err := writeFileAtomic(opts.Out, buf.Bytes()); err != nil {
		return &exitCodeError{code: ExitError, err: err}
	}
	fmt.Fprintf(opts.IO.ErrOut, "gradebook of %d students written to %s\n", len(runs), opts.Out)
	return nil
}

// readReport decodes a delab JSON report, refusing other JSON files.
func readReport(data []byte) (*report.Run, error) {
	var r report.Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a delab report: %w", err)
	}
	if r.Tool != "delab" || r.SchemaVersion != report.SchemaVersion {
		return nil, fmt.Errorf("not a delab report (schema version %d)", report.SchemaVersion)
	}
	return &r, nil
}
