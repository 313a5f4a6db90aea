package pruning_test

// Your own quick loop, no checker needed:
//
//	go test ./labs/serialization/02-parquet-pruning/
//
// These tests write the readings in testdata/readings.json and query them
// (answers worked out by hand), then check the layout of a larger file and
// which row groups Query reads, as the checker does. Add your own cases:
// this file is yours. `delab check serialization/02` still decides the
// grade, on data it generates afresh every run.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"

	pruning "github.com/delab-dev/delab/labs/serialization/02-parquet-pruning"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read serialization/01"
}

// write runs Write into a temporary folder and returns the file's path.
func write(t *testing.T, rs []pruning.Reading) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "readings.parquet")
	if err := pruning.Write(path, rs); err != nil {
		t.Fatalf("Write: %v%s", err, reread("Writing and reading Parquet in Go"))
	}
	return path
}

// recorder is the file Query reads through: it remembers every byte range.
type recorder struct {
	*os.File
	reads [][2]int64 // offset, length
}

func (r *recorder) ReadAt(p []byte, off int64) (int, error) {
	r.reads = append(r.reads, [2]int64{off, int64(len(p))})
	return r.File.ReadAt(p, off)
}

// query runs Query on the file at path and returns what it read, too.
func query(t *testing.T, path string, lo, hi int64) ([]pruning.Reading, [][2]int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &recorder{File: f}
	got, err := pruning.Query(r, lo, hi)
	if err != nil {
		t.Fatalf("Query(%d, %d): %v%s", lo, hi, err, reread("Statistics and predicate pushdown"))
	}
	return got, r.reads
}

func TestWriteAndQuerySample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "readings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []pruning.Reading
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	path := write(t, rs)
	got, _ := query(t, path, 1793577603000, 1793577606000)
	want := []pruning.Reading{
		{Device: "ap-03", TS: 1793577603000, Value: -1.5},
		{Device: "ap-01", TS: 1793577604000, Value: 21.0},
		{Device: "ap-01", TS: 1793577605000, Value: 21.5},
		{Device: "ap-01", TS: 1793577606000, Value: 21.75},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Query(lo=…603000, hi=…606000):\n    got  %+v\n    want %+v\n    both bounds included, in ts order%s", got, want, reread("Your lab: prune with statistics"))
	}
	if got, _ := query(t, path, 1793577610000, 1793577620000); len(got) != 0 {
		t.Errorf("Query after the last reading returned %d readings, want none", len(got))
	}
}

// many returns n readings one second apart, shuffled.
func many(n int) []pruning.Reading {
	rng := rand.New(rand.NewPCG(1, 2))
	rs := make([]pruning.Reading, n)
	for i := range rs {
		rs[i] = pruning.Reading{Device: fmt.Sprintf("ap-%02d", rng.IntN(30)), TS: 1793577600000 + int64(i)*1000, Value: float64(rng.IntN(4000)) / 100}
	}
	rng.Shuffle(n, func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	return rs
}

// span is a row group's ts statistics and where its bytes lie in the file.
type span struct {
	rows, min, max, start, end int64
}

// layout reads a file's footer: one span per row group, and the first
// column chunk not compressed with zstd ("" when all are). It fails the
// test when ts has no statistics.
func layout(t *testing.T, path string) (spans []span, notZstd string) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("not a Parquet file: %v%s", err, reread("Writing and reading Parquet in Go"))
	}
	defer pf.Close()
	ts := pf.MetaData().Schema.ColumnIndexByName("ts")
	if ts < 0 {
		t.Fatalf("the file has no ts column%s", reread("Your lab: prune with statistics"))
	}
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := pf.MetaData().RowGroup(g)
		s := span{rows: rg.NumRows(), start: -1}
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Zstd && notZstd == "" {
				notZstd = fmt.Sprintf("row group %d, column %s is compressed with %s", g, cc.PathInSchema(), cc.Compression())
			}
			off := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < off {
				off = cc.DictionaryPageOffset()
			}
			if s.start < 0 || off < s.start {
				s.start = off
			}
			s.end = max(s.end, off+cc.TotalCompressedSize())
			if c == ts {
				st, err := cc.Statistics()
				i64, ok := st.(*metadata.Int64Statistics)
				if err != nil || !ok || !i64.HasMinMax() {
					t.Fatalf("row group %d has no min/max statistics for ts%s", g, reread("Statistics and predicate pushdown"))
				}
				s.min, s.max = i64.Min(), i64.Max()
			}
		}
		spans = append(spans, s)
	}
	return spans, notZstd
}

func TestWriteLayout(t *testing.T) {
	spans, notZstd := layout(t, write(t, many(3500)))
	if notZstd != "" {
		t.Errorf("%s, want zstd%s", notZstd, reread("Encodings and codecs"))
	}
	var rows []int64
	for _, s := range spans {
		rows = append(rows, s.rows)
	}
	if !reflect.DeepEqual(rows, []int64{1000, 1000, 1000, 500}) {
		t.Errorf("rows per row group = %v, want [1000 1000 1000 500]%s", rows, reread("Row groups, column chunks, pages"))
	}
	for i := 1; i < len(spans); i++ {
		if spans[i].min <= spans[i-1].max {
			t.Errorf("row groups %d (ts %d..%d) and %d (ts %d..%d) overlap: sort by ts before writing%s",
				i-1, spans[i-1].min, spans[i-1].max, i, spans[i].min, spans[i].max, reread("Statistics and predicate pushdown"))
		}
	}
}

func TestQueryReadsOnlyMatchingRowGroups(t *testing.T) {
	rs := many(3500)
	path := write(t, rs)
	spans, _ := layout(t, path)
	lo, hi := int64(1793577600000+1200*1000), int64(1793577600000+1800*1000) // in row group 1 only
	got, reads := query(t, path, lo, hi)
	if len(got) != 601 || !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].TS < got[j].TS }) {
		t.Errorf("Query returned %d readings, want 601 in ts order%s", len(got), reread("Your lab: prune with statistics"))
	}
	for g, s := range spans {
		if s.max >= lo && s.min <= hi {
			continue // it may match: reading it is fine
		}
		for _, rd := range reads {
			if rd[0] < s.end && rd[0]+rd[1] > s.start {
				t.Errorf("Query read bytes %d..%d of row group %d, whose ts statistics (%d..%d) cannot match %d..%d%s",
					rd[0], rd[0]+rd[1], g, s.min, s.max, lo, hi, reread("Statistics and predicate pushdown"))
				break
			}
		}
	}
}
