// Package logstometrics grades the lab "Logs to metrics": it generates
// access logs whose true aggregates it knows, runs the learner's Run on
// them in a separate process, and compares the report file it wrote.
package logstometrics

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"github.com/delab-dev/delab/checker/grader"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/start/01-logs-to-metrics.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"clean-aggregates": func(ctx context.Context, h *grader.Harness) error {
			return runAndCompare(ctx, h, cleanLog, allFields)
		},
		"malformed-lines": func(ctx context.Context, h *grader.Harness) error {
			return runAndCompare(ctx, h, malformedLog, countsOnly)
		},
		"bounded-memory": func(ctx context.Context, h *grader.Harness) error {
			return runAndCompare(ctx, h, logSpec{Lines: 1_100_000, Devices: 400, Malformed: 0.01}, linesOnly)
		},
	},
}

// The logs of the first two checks; gen_test.go proves their edges.
var (
	cleanLog     = logSpec{Lines: 3000, Devices: 24, Edges: edgesValid}
	malformedLog = logSpec{Lines: 6000, Devices: 30, Malformed: 0.05, HugeLine: true, Edges: edgesAll, NoFinalNewline: true}
)

// depth says how much of the report a check judges. Only clean-aggregates
// judges every field, so that a mistake in, say, the error rule fails that
// check with its hint rather than every check at once.
type depth int

const (
	// countsOnly judges line counts, the device set and per-device request
	// counts: a malformed line wrongly taken as valid always shows there.
	countsOnly depth = iota
	allFields
	// linesOnly judges the line count and the device set: enough to show
	// the whole log was read, so that bounded-memory fails only for
	// memory or for not finishing, never for a validation rule that
	// malformed-lines judges with its own hint.
	linesOnly
)

func runAndCompare(ctx context.Context, h *grader.Harness, spec logSpec, d depth) error {
	in, out := h.Path("access.log"), h.Path("report.json")
	f, err := os.Create(in)
	if err != nil {
		return err
	}
	truth, err := writeLog(f, h.Seed(), spec)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write generated log: %w", err)
	}
	st, err := os.Stat(in)
	if err != nil {
		return err
	}
	h.Logf("generated access.log: %d lines (%d malformed), %d devices, %s", truth.Lines, truth.Malformed, len(truth.Devices), size(st.Size()))
	h.Logf("running Run(\"access.log\", \"report.json\") with a %s time limit and %s memory limit", h.Check.Timeout.D(), h.Check.Memory)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{in, out}})
	if res != nil {
		h.Logf("your code finished in %s, peak resident memory %s", res.Duration.Round(1e6), size(res.PeakRSS))
	}
	if err != nil {
		return err
	}
	got, ferr := readReport(out)
	if ferr != nil {
		return ferr
	}
	h.Logf("read report.json: lines=%d malformed=%d devices=%d", got.Lines, got.Malformed, len(got.Devices))
	return compare(truth, got, d)
}

// reportWhat names the learner's report in failures.
const reportWhat = "report file report.json"

// reportLimit is the largest report the grader reads: a correct one is a
// few KiB.
const reportLimit = 64 << 20

// readReport reads the report the learner's Run wrote at path.
func readReport(path string) (*metrics, error) {
	f, _, err := grader.OpenArtifact(reportWhat, path, reportLimit)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, grader.Failf("Run returned nil but wrote no report file at the path it was given")
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m metrics
	err = grader.ReadArtifact(reportWhat, func() error {
		if err := json.NewDecoder(io.LimitReader(f, reportLimit)).Decode(&m); err != nil {
			return grader.Failf("the report is not valid JSON: %v", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// compare reports the first difference, most telling first: malformed
// count, line count, the set of devices, then each device's totals.
func compare(want metrics, got *metrics, d depth) error {
	if got.Lines < want.Lines {
		return grader.Mismatch("your report counts fewer lines than the log has: reading stopped early (a Scanner that fails ends its loop; check Err) or some lines were not counted: blank ones perhaps, or the last one, which ends without a newline", want.Lines, got.Lines)
	}
	if got.Lines != want.Lines {
		return grader.Mismatch("the total line count (valid and malformed) is wrong", want.Lines, got.Lines)
	}
	if d != linesOnly && got.Malformed != want.Malformed {
		return grader.Mismatch("the malformed line count is wrong", want.Malformed, got.Malformed)
	}
	for _, id := range sortedKeys(want.Devices) {
		if got.Devices[id] == nil {
			return grader.Mismatch(fmt.Sprintf("device %s is missing from the report", id), statsJSON(want.Devices[id]), "(missing)")
		}
	}
	for _, id := range sortedKeys(got.Devices) {
		if want.Devices[id] == nil {
			return grader.Mismatch(fmt.Sprintf("the report has device %q, which has no valid line in the log", id), "(absent)", statsJSON(got.Devices[id]))
		}
	}
	for _, id := range sortedKeys(want.Devices) {
		w, g := want.Devices[id], got.Devices[id]
		if d == countsOnly && w.Requests != g.Requests {
			return grader.Mismatch(fmt.Sprintf("device %s: the number of valid lines (requests) is wrong", id), w.Requests, g.Requests)
		}
		if d == allFields && *w != *g {
			return grader.Mismatch(fmt.Sprintf("device %s: %s is wrong", id, firstField(*w, *g)), statsJSON(w), statsJSON(g))
		}
	}
	return nil
}

func firstField(w, g deviceStats) string {
	switch {
	case w.Requests != g.Requests:
		return "requests"
	case w.Errors != g.Errors:
		return "errors"
	case w.Bytes != g.Bytes:
		return "bytes"
	}
	return "max_latency_ms"
}

func statsJSON(d *deviceStats) string {
	b, _ := json.Marshal(d)
	return string(b)
}

func sortedKeys(m map[string]*deviceStats) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func size(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
