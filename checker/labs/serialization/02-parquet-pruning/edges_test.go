package parquetpruning

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/serialization/02-parquet-pruning/solution"
)

// recorder is the harness's recording reader.
type recorder struct {
	f     *os.File
	mu    sync.Mutex
	reads [][2]int64
}

func (t *recorder) ReadAt(p []byte, off int64) (int, error) {
	t.mu.Lock()
	t.reads = append(t.reads, [2]int64{off, int64(len(p))})
	t.mu.Unlock()
	return t.f.ReadAt(p, off)
}

func (t *recorder) Seek(off int64, whence int) (int64, error) { return t.f.Seek(off, whence) }

// TestEveryEdgeIsInEveryRun: for 100 seeds, the readings the learner's
// Write gets (decoded from the JSON it is handed) and the file the
// learner's Query reads (its footer and every row, read back) hold every
// boundary case of the table, and the grader's truth for each is the
// lesson's: both bounds inclusive, a group skipped only when max < lo or
// min > hi. The reference's Query returns that truth and reads exactly
// those row groups.
func TestEveryEdgeIsInEveryRun(t *testing.T) {
	dir := t.TempDir()
	for seed := uint64(1); seed <= 100; seed++ {
		data, err := json.Marshal(readings(seed))
		require.NoError(t, err)
		var rs []reference.Reading
		require.NoError(t, json.Unmarshal(data, &rs))
		require.Len(t, rs, rows)
		seen := map[int64]bool{}
		inOrder := 0
		for i, r := range rs {
			require.False(t, seen[r.TS], "seed %d: ts %d twice", seed, r.TS)
			seen[r.TS] = true
			if i > 0 && rs[i-1].TS < r.TS {
				inOrder++
			}
		}
		require.Less(t, inOrder, rows*2/3, "seed %d: the readings are not in random order", seed)

		path := filepath.Join(dir, "sorted.parquet")
		require.NoError(t, reference.Write(path, rs))
		pf, err := file.OpenParquetFile(path, false)
		require.NoError(t, err)
		stats, err := tsStats(pf)
		require.NoError(t, err)
		sorted := sortedByTS(rs)
		require.NoError(t, judgeRowGroups(nolog, pf, wantSpans(sorted)), "seed %d", seed)
		require.EqualValues(t, 500, pf.MetaData().RowGroup(11).NumRows(), "the last row group is partial")
		all, err := readAll(pf)
		require.NoError(t, err)
		require.Equal(t, sorted, all, "seed %d: the file holds the readings sorted by ts", seed)

		cases := queryCases(sorted)
		require.Len(t, cases, 6)
		// Each case's bounds, read from the file's footer.
		c := cases[0]
		require.Equal(t, stats[3].max, c.lo)
		require.Equal(t, stats[7].min, c.hi)
		require.Less(t, stats[3].min, c.lo, "row group 3 holds readings below lo")
		require.Greater(t, stats[7].max, c.hi, "row group 7 holds readings above hi")
		require.Equal(t, []int{3, 4, 5, 6, 7}, c.groups)
		c = cases[1]
		require.Equal(t, int64(math.MinInt64), c.lo)
		require.Equal(t, stats[0].min, c.hi)
		c = cases[2]
		require.Equal(t, stats[11].max, c.lo)
		require.Equal(t, c.lo, c.hi)
		c = cases[3]
		require.True(t, stats[5].max < c.lo && c.lo <= c.hi && c.hi < stats[6].min, "seed %d: the gap between row groups 5 and 6 holds a range", seed)
		c = cases[4]
		require.Less(t, c.hi, stats[0].min)
		c = cases[5]
		require.Greater(t, c.lo, stats[11].max)
		require.Equal(t, int64(math.MaxInt64), c.hi)

		wantLen := []int{-1, 1, 1, 0, 0, 0}
		for i, c := range cases {
			// The truth, from every row read back from the file.
			var want []reference.Reading
			var groups []int
			for j, r := range all {
				if r.TS >= c.lo && r.TS <= c.hi {
					want = append(want, r)
					if len(groups) == 0 || groups[len(groups)-1] != j/1000 {
						groups = append(groups, j/1000)
					}
				}
			}
			require.Equal(t, len(want), len(c.want), "seed %d: %s", seed, c.name)
			if len(want) > 0 {
				require.Equal(t, want, c.want, "seed %d: %s", seed, c.name)
			}
			if wantLen[i] >= 0 {
				require.Len(t, c.want, wantLen[i], c.name)
			} else {
				require.Equal(t, c.lo, c.want[0].TS)
				require.Equal(t, c.hi, c.want[len(c.want)-1].TS)
			}
			// The groups whose statistics can match are those holding the
			// readings: the statistics prune exactly.
			var can []int
			for g, s := range stats {
				if s.max >= c.lo && s.min <= c.hi {
					can = append(can, g)
				}
			}
			require.Equal(t, groups, can, "seed %d: %s", seed, c.name)
			require.Equal(t, groups, c.groups, "seed %d: %s", seed, c.name)

			f, err := os.Open(path)
			require.NoError(t, err)
			rec := &recorder{f: f}
			got, err := reference.Query(rec, c.lo, c.hi)
			f.Close()
			require.NoError(t, err)
			q := queryRun{queryCase: c, got: got, reads: rec.reads}
			require.NoError(t, judgeResult(q), "seed %d", seed)
			require.NoError(t, judgeReads(nolog, pf, stats, q), "seed %d", seed)
		}
		pf.Close()
	}
}

// TestDictionaryDeviceIsRead: a file whose device column is an Arrow
// dictionary of strings holds the same readings, and contents reads them.
func TestDictionaryDeviceIsRead(t *testing.T) {
	sorted := sortedByTS(readings(7))[:2500]
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{{Name: "device", Type: dt}, {Name: "ts", Type: arrow.PrimitiveTypes.Int64}, {Name: "value", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, r := range sorted {
		require.NoError(t, b.Field(0).(*array.BinaryDictionaryBuilder).AppendString(r.Device))
		b.Field(1).(*array.Int64Builder).Append(r.TS)
		b.Field(2).(*array.Float64Builder).Append(r.Value)
	}
	rec := b.NewRecord()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "dict.parquet")
	out, err := os.Create(path)
	require.NoError(t, err)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithMaxRowGroupLength(1000))
	fw, err := pqarrow.NewFileWriter(schema, out, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	require.NoError(t, err)
	require.NoError(t, fw.Write(rec))
	require.NoError(t, fw.Close())
	pf, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	require.NoError(t, err)
	s, err := fr.Schema()
	require.NoError(t, err)
	require.Equal(t, arrow.DICTIONARY, s.Field(0).Type.ID(), "the file reads back as a dictionary")
	got, err := readAll(pf)
	require.NoError(t, err)
	require.Equal(t, sorted, got)
}
