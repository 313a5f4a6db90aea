package csvtoarrow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/01-csv-to-arrow/solution"
	"github.com/delab-dev/delab/checker/services"
)

// fakeRunner stands in for the learner's process: it writes file to the
// output path Convert was given and returns the counts.
type fakeRunner struct{ file []byte }

func (r fakeRunner) Run(_ context.Context, opts grader.RunOptions) (*grader.Result, error) {
	if err := os.WriteFile(opts.Args[1], r.file, 0o644); err != nil {
		return nil, err
	}
	return &grader.Result{Value: []byte(`{"written":3,"malformed":0}`)}, nil
}

// runCheck runs one of the lab's checks with a learner whose Convert
// writes file.
func runCheck(t *testing.T, id string, file []byte) error {
	t.Helper()
	h := grader.NewHarness(&catalog.Lab{}, &catalog.Check{ID: id}, fakeRunner{file}, t.TempDir(), 1, services.Endpoints{})
	defer h.RunCleanups()
	return Lab.Checks[id](context.Background(), h)
}

// hostileDictionaryFile is a valid Arrow IPC file of the required schema
// whose first device index is 2^30 while its dictionary holds 3 values.
// Arrow's writer and reader accept it; reading the device of that row
// used to panic inside the checker.
func hostileDictionaryFile(t testing.TB) []byte {
	mem := memory.NewGoAllocator()
	dictType := Schema.Field(0).Type.(*arrow.DictionaryType)
	idx := array.NewInt32Builder(mem)
	idx.AppendValues([]int32{1 << 30, 0, 2}, nil)
	indices := idx.NewArray()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"ap-001", "ap-002", "ap-003"}, nil)
	dict := sb.NewArray()
	dev := array.NewDictionaryArray(dictType, indices, dict)
	tsb := array.NewTimestampBuilder(mem, Schema.Field(1).Type.(*arrow.TimestampType))
	tsb.AppendValues([]arrow.Timestamp{1, 2, 3}, nil)
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{1, 2, 3}, nil)
	ub := array.NewUint8Builder(mem)
	ub.AppendValues([]uint8{1, 2, 3}, nil)
	rec := array.NewRecord(Schema, []arrow.Array{dev, tsb.NewArray(), fb.NewArray(), ub.NewArray()}, 3)
	path := filepath.Join(t.TempDir(), "hostile.arrow")
	out, err := os.Create(path)
	require.NoError(t, err)
	defer out.Close()
	w, err := ipc.NewFileWriter(out, ipc.WithSchema(Schema), ipc.WithAllocator(mem))
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	return file
}

func TestHostileDictionaryIndexIsTheLearnersFailure(t *testing.T) {
	file := hostileDictionaryFile(t)
	err := runCheck(t, "values", file)
	var f *grader.Failure
	require.ErrorAs(t, err, &f, "%v", err)
	require.Equal(t, "your Arrow file readings.arrow could not be read: column device, row 0 (batch 0, row 0): dictionary index 1073741824 out of range (its dictionary has 3 values)", f.Message)
	// The schema and the batches of that file are as valid as they look.
	require.NoError(t, runCheck(t, "schema", file))
}

// referenceFile is the reference Convert's output for the CSV of a check.
func referenceFile(t testing.TB, n int, share float64) ([]byte, *truth) {
	data, truth := generate(1, n, share)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "readings.csv"), filepath.Join(dir, "readings.arrow")
	require.NoError(t, os.WriteFile(in, data, 0o644))
	written, malformed, err := reference.Convert(in, out)
	require.NoError(t, err)
	truth.returned.Written, truth.returned.Malformed = written, malformed
	file, err := os.ReadFile(out)
	require.NoError(t, err)
	return file, truth
}

// judges are every way the checks read the learner's file.
func judges(truth *truth) map[string]func(*ipc.FileReader) error {
	nolog := func(string, ...any) {}
	return map[string]func(*ipc.FileReader) error{
		"schema":         judgeSchema,
		"values":         func(f *ipc.FileReader) error { return compareRows(nolog, truth, f) },
		"batches":        func(f *ipc.FileReader) error { return judgeBatches(nolog, f) },
		"malformed-rows": func(f *ipc.FileReader) error { return judgeMalformed(nolog, truth, f) },
	}
}

// TestReferenceFilePassesEveryJudge: the fuzz target below would prove
// nothing if the reader failed every file.
func TestReferenceFilePassesEveryJudge(t *testing.T) {
	file, truth := referenceFile(t, 3500, 0)
	path := filepath.Join(t.TempDir(), "readings.arrow")
	require.NoError(t, os.WriteFile(path, file, 0o644))
	for name, judge := range judges(truth) {
		require.NoError(t, readArrow(path, func(string, ...any) {}, judge), name)
	}
}

func TestOversizedFileIsRefusedUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "readings.arrow")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(grader.MaxArtifactBytes+1))
	require.NoError(t, f.Close())
	err = readArrow(path, func(string, ...any) {}, judgeSchema)
	var fail *grader.Failure
	require.ErrorAs(t, err, &fail)
	require.Contains(t, fail.Message, "your Arrow file readings.arrow could not be read: it is 256.0 MiB")
}

// FuzzArrowReader feeds the grader's reader of readings.arrow arbitrary
// files. Fuzz it for a bounded time with
// go test ./checker/labs/serialization/01-csv-to-arrow -run '^$' -fuzz FuzzArrowReader -fuzztime 30s -fuzzminimizetime 2s
// As a plain test it runs the seeds: the reference's files and hostile ones.
func FuzzArrowReader(f *testing.F) {
	// Small files: the fuzzer shrinks every input that finds new code, and
	// shrinking a file of 3,500 rows would take the whole run.
	valid, truth := referenceFile(f, 40, 0)
	malformed, _ := referenceFile(f, 30, 0.2)
	hostile := hostileDictionaryFile(f)
	for _, seed := range [][]byte{valid, malformed, hostile, valid[:len(valid)/2], hostile[:len(hostile)-9], nil, []byte("ARROW1\x00\x00ARROW1")} {
		f.Add(seed)
	}
	js := judges(truth)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "readings.arrow")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		for name, judge := range js {
			// A panic escaping readArrow fails the fuzz target by itself.
			err := readArrow(path, func(string, ...any) {}, judge)
			var fail *grader.Failure
			if err != nil && !errors.As(err, &fail) {
				t.Fatalf("%s: an unreadable file must be the learner's failure, got the checker error %v", name, err)
			}
		}
	})
}
