package parquetpruning

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/02-parquet-pruning/solution"
)

// referenceFile is what the reference Write makes of n readings.
func referenceFile(t testing.TB, n int) []byte {
	rs := readings(3)[:n]
	path := filepath.Join(t.TempDir(), "readings.parquet")
	require.NoError(t, reference.Write(path, rs))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func writeTemp(t testing.TB, data []byte) string {
	path := filepath.Join(t.TempDir(), "readings.parquet")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

var nolog = func(string, ...any) {}

// judges are every way the checks read the learner's file.
var judges = map[string]func(*file.Reader) error{
	"row-groups": func(pf *file.Reader) error { return judgeRowGroups(nolog, pf, wantSpans(sortedByTS(readings(3)))) },
	"codec":      func(pf *file.Reader) error { return judgeCodec(nolog, pf) },
}

func TestReferenceFilePassesEveryJudge(t *testing.T) {
	path := writeTemp(t, referenceFile(t, rows))
	for name, judge := range judges {
		require.NoError(t, readParquet(path, nolog, judge), name)
	}
}

func TestFooterClaimingGigabytesIsRefused(t *testing.T) {
	data := referenceFile(t, 100)
	binary.LittleEndian.PutUint32(data[len(data)-8:], 1<<31)
	err := readParquet(writeTemp(t, data), nolog, judges["codec"])
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, "your Parquet file readings.parquet could not be read: its footer claims 2147483648 bytes, and the checker reads footers of at most 1048576", f.Message)
}

// FuzzParquetReader feeds the grader's reader of readings.parquet
// arbitrary files. Fuzz it for a bounded time with
// go test ./checker/labs/serialization/02-parquet-pruning -run '^$' -fuzz FuzzParquetReader -fuzztime 30s -fuzzminimizetime 2s
// As a plain test it runs the seeds: the reference's files and hostile ones.
func FuzzParquetReader(f *testing.F) {
	// Small files: the fuzzer shrinks every input that finds new code.
	valid := referenceFile(f, 30)
	bigFooter := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint32(bigFooter[len(bigFooter)-8:], 1<<31)
	for _, seed := range [][]byte{valid, valid[:len(valid)/2], valid[len(valid)/2:], bigFooter, nil, []byte("PAR1\x00\x00\x00\x00PAR1")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := writeTemp(t, data)
		for name, judge := range judges {
			// A panic escaping readParquet fails the fuzz target by itself.
			err := readParquet(path, nolog, judge)
			var fail *grader.Failure
			if err != nil && !errors.As(err, &fail) {
				t.Fatalf("%s: an unreadable file must be the learner's failure, got the checker error %v", name, err)
			}
		}
	})
}
