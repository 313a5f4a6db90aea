package logstometrics

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/start/01-logs-to-metrics/solution"
)

// referenceReport is the report the reference Run writes for a small log,
// and the log's truth.
func referenceReport(t testing.TB) ([]byte, metrics) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "access.log"), filepath.Join(dir, "report.json")
	f, err := os.Create(in)
	require.NoError(t, err)
	truth, err := writeLog(f, 7, logSpec{Lines: 60, Devices: 4, Malformed: 0.1})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, reference.Run(in, out))
	report, err := os.ReadFile(out)
	require.NoError(t, err)
	return report, truth
}

// judgeReport is what runAndCompare does with the file Run wrote.
func judgeReport(path string, truth metrics) error {
	got, err := readReport(path)
	if err != nil {
		return err
	}
	if err := compare(truth, got, countsOnly); err != nil {
		return err
	}
	return compare(truth, got, allFields)
}

func TestReferenceReportPasses(t *testing.T) {
	report, truth := referenceReport(t)
	path := filepath.Join(t.TempDir(), "report.json")
	require.NoError(t, os.WriteFile(path, report, 0o644))
	require.NoError(t, judgeReport(path, truth))
}

func TestReportThatIsNotAFileIsTheLearnersFailure(t *testing.T) {
	dir := t.TempDir()
	err := judgeReport(dir, metrics{})
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	require.True(t, strings.HasPrefix(f.Message, "your report file report.json could not be read: it is not a regular file"), f.Message)

	_, err = readReport(filepath.Join(dir, "missing.json"))
	require.ErrorAs(t, err, &f)
	require.Equal(t, "Run returned nil but wrote no report file at the path it was given", f.Message)
}

// FuzzReportReader feeds the grader's reader of report.json arbitrary
// bytes. Fuzz it for a bounded time with
// go test ./checker/labs/start/01-logs-to-metrics -run '^$' -fuzz FuzzReportReader -fuzztime 30s -fuzzminimizetime 2s
// As a plain test it runs the seeds: the reference's report and hostile ones.
func FuzzReportReader(f *testing.F) {
	report, truth := referenceReport(f)
	for _, seed := range []string{
		string(report),
		report2(report),
		`{"lines": 1e400}`,
		`{"lines": -1, "malformed": 9223372036854775807, "devices": {"": null}}`,
		`{"devices": {"ap-0001": {"requests": "many"}}}`,
		strings.Repeat("[", 100_000),
		`null`,
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "report.json")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		// A panic escaping the reader fails the fuzz target by itself.
		err := judgeReport(path, truth)
		var fail *grader.Failure
		if err != nil && !errors.As(err, &fail) {
			t.Fatalf("a wrong report must be the learner's failure, got the checker error %v", err)
		}
	})
}

// report2 is the report with its devices object cut open.
func report2(report []byte) string {
	s := string(report)
	return s[:strings.Index(s, "devices")+12]
}
