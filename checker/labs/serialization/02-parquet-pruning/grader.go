// Package parquetpruning grades the lab "Parquet with pruning": it reads
// the footer of the learner's file (row groups, statistics, codecs), and
// runs the learner's Query through a reader that records every byte range,
// to see which row groups it opened.
package parquetpruning

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/02-parquet-pruning/solution"
	"github.com/delab-dev/delab/checker/labs/serialization/parquetcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/serialization/02-parquet-pruning.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"row-groups":   rowGroups,
		"contents":     contents,
		"codec":        codec,
		"query-result": queryResult,
		"pruned-reads": prunedReads,
	},
}

const rows = 11_500 // twelve row groups, the last one half full

// readings are shuffled, with distinct, increasing-when-sorted timestamps.
func readings(seed uint64) []reference.Reading {
	r := rand.New(rand.NewPCG(seed, 19))
	out := make([]reference.Reading, rows)
	ts := int64(1_793_577_600_000) // 2026-11-02T00:00:00Z
	for i := range out {
		ts += int64(1 + r.IntN(2000))
		out[i] = reference.Reading{Device: fmt.Sprintf("ap-%02d", r.IntN(12)+1), TS: ts, Value: float64(r.IntN(100000)) / 100}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// learnerWrite runs the learner's Write and returns the path of the file
// it made.
func learnerWrite(ctx context.Context, h *grader.Harness) (string, error) {
	rs := readings(h.Seed())
	data, _ := json.Marshal(rs)
	in, out := h.Path("readings.json"), h.Path("readings.parquet")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return "", err
	}
	h.Logf("running Write(\"readings.parquet\", %d readings in random order)", len(rs))
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"write", out, in}}); err != nil {
		return "", err
	}
	return out, nil
}

// parquetWhat names the learner's file in failures.
const parquetWhat = "Parquet file readings.parquet"

// parquetMemory bounds what Parquet's reader may allocate for the
// learner's file; the grader reads only its footer, a few KiB.
const parquetMemory = 64 << 20

// readParquet opens the learner's Parquet file at path and runs judge on
// it. The file is the learner's: its footer's length is checked before
// Parquet's reader reads it, the reader's buffers are charged to a
// grader.Budget, and whatever goes wrong while it is read or judged is
// the learner's failure.
func readParquet(path string, logf func(string, ...any), judge func(*file.Reader) error) error {
	f, size, err := grader.OpenArtifact(parquetWhat, path, 0)
	if err != nil {
		var unreadable *grader.Failure
		if errors.As(err, &unreadable) {
			return err
		}
		return grader.Failf("the output is not a readable Parquet file: %v", err)
	}
	defer f.Close()
	if err := parquetcheck.CheckParquetFooter(f, size); err != nil {
		return grader.Unreadable(parquetWhat, "%v", err)
	}
	return grader.ReadArtifact(parquetWhat, func() error {
		pf, err := file.NewParquetReader(f, file.WithReadProps(parquet.NewReaderProperties(grader.NewBudget(parquetMemory))))
		if err != nil {
			return grader.Failf("the output is not a readable Parquet file: %v", err)
		}
		defer pf.Close()
		logf("read the footer: %d row groups, %d rows", pf.NumRowGroups(), pf.NumRows())
		err = judge(pf)
		var fail *grader.Failure
		if err != nil && !errors.As(err, &fail) {
			// Every error reading the learner's file is about the file.
			return grader.Unreadable(parquetWhat, "%v", err)
		}
		return err
	})
}

type span struct{ min, max int64 }

// tsStats returns each row group's ts statistics.
func tsStats(pf *file.Reader) ([]span, error) {
	col := pf.MetaData().Schema.ColumnIndexByName("ts")
	if col < 0 {
		return nil, grader.Failf("the file has no column named ts")
	}
	var out []span
	for i := 0; i < pf.NumRowGroups(); i++ {
		cc, err := pf.MetaData().RowGroup(i).ColumnChunk(col)
		if err != nil {
			return nil, err
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			return nil, grader.Failf("row group %d has no min/max statistics for ts", i)
		}
		s, ok := st.(*metadata.Int64Statistics)
		if !ok {
			return nil, grader.Failf("ts is not stored as INT64 (statistics of type %T)", st)
		}
		out = append(out, span{s.Min(), s.Max()})
	}
	return out, nil
}

func rowGroups(ctx context.Context, h *grader.Harness) error {
	path, err := learnerWrite(ctx, h)
	if err != nil {
		return err
	}
	return readParquet(path, h.Logf, func(pf *file.Reader) error { return judgeRowGroups(h.Logf, pf) })
}

func judgeRowGroups(logf func(string, ...any), pf *file.Reader) error {
	var sizes []int64
	for i := 0; i < pf.NumRowGroups(); i++ {
		sizes = append(sizes, pf.MetaData().RowGroup(i).NumRows())
	}
	logf("rows per row group: %v", sizes)
	want := []int64{}
	for left := int64(rows); left > 0; left -= 1000 {
		want = append(want, min(left, 1000))
	}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		return grader.Mismatch("the row groups are not of 1000 rows", want, sizes)
	}
	stats, err := tsStats(pf)
	if err != nil {
		return err
	}
	for i := 1; i < len(stats); i++ {
		if stats[i].min < stats[i-1].max {
			return grader.Mismatch(fmt.Sprintf("row groups %d and %d overlap in ts: the file is not sorted by ts", i-1, i),
				fmt.Sprintf("row group %d starting after %d", i, stats[i-1].max), fmt.Sprintf("ts %d..%d", stats[i].min, stats[i].max))
		}
	}
	logf("ts statistics rise from row group to row group: the file is sorted")
	return nil
}

// contents reads every row of the learner's file with the checker's own
// reader and compares it, column by column, with the readings sorted by
// ts: the statistics say nothing about device and value.
func contents(ctx context.Context, h *grader.Harness) error {
	rs := readings(h.Seed())
	path, err := learnerWrite(ctx, h)
	if err != nil {
		return err
	}
	want := append([]reference.Reading(nil), rs...)
	sort.Slice(want, func(i, j int) bool { return want[i].TS < want[j].TS })
	return readParquet(path, h.Logf, func(pf *file.Reader) error {
		size, err := os.Stat(path)
		if err != nil {
			return err
		}
		if err := parquetcheck.CheckParquetData(pf, size.Size(), parquetcheck.DefaultParquetLimits); err != nil {
			return grader.Unreadable(parquetWhat, "%v", err)
		}
		got, err := readAll(pf)
		if err != nil {
			return err
		}
		h.Logf("read every row back with the checker's reader: %d rows", len(got))
		if len(got) != len(want) {
			return grader.Mismatch("the file holds the wrong number of readings", len(want), len(got))
		}
		for i := range want {
			if got[i] != want[i] {
				return grader.Mismatch(fmt.Sprintf("row %d of the file differs from the readings sorted by ts", i), fmt.Sprintf("%+v", want[i]), fmt.Sprintf("%+v", got[i]))
			}
		}
		h.Logf("every row's device, ts and value match the readings sorted by ts")
		return nil
	})
}

// readAll reads the columns device, ts and value of every row, within the
// grader's memory budget.
func readAll(pf *file.Reader) ([]reference.Reading, error) {
	mem := grader.NewBudget(parquetMemory)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, mem)
	if err != nil {
		return nil, grader.Failf("the output is not a readable Parquet file: %v", err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, grader.Failf("the checker cannot read the rows: %v", err)
	}
	defer tbl.Release()
	cols := map[string]int{}
	for i, f := range tbl.Schema().Fields() {
		cols[f.Name] = i
	}
	for _, name := range []string{"device", "ts", "value"} {
		if _, ok := cols[name]; !ok {
			return nil, grader.Failf("the file has no column named %s (it has %s)", name, tbl.Schema())
		}
	}
	out := make([]reference.Reading, tbl.NumRows())
	fill := func(name string, set func(row int, a arrow.Array, i int) error) error {
		row := 0
		for _, chunk := range tbl.Column(cols[name]).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				if chunk.IsNull(i) {
					return grader.Failf("row %d: %s is null", row, name)
				}
				if err := set(row, chunk, i); err != nil {
					return err
				}
				row++
			}
		}
		return nil
	}
	err = fill("device", func(row int, a arrow.Array, i int) error {
		switch c := a.(type) {
		case *array.String:
			out[row].Device = c.Value(i)
		case *array.Binary:
			out[row].Device = string(c.Value(i))
		default:
			return grader.Failf("device is stored as %s, not a string", a.DataType())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = fill("ts", func(row int, a arrow.Array, i int) error {
		switch c := a.(type) {
		case *array.Int64:
			out[row].TS = c.Value(i)
		case *array.Timestamp:
			out[row].TS = int64(c.Value(i))
		default:
			return grader.Failf("ts is stored as %s, not a 64-bit integer", a.DataType())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = fill("value", func(row int, a arrow.Array, i int) error {
		c, ok := a.(*array.Float64)
		if !ok {
			return grader.Failf("value is stored as %s, not a double", a.DataType())
		}
		out[row].Value = c.Value(i)
		return nil
	})
	return out, err
}

func codec(ctx context.Context, h *grader.Harness) error {
	path, err := learnerWrite(ctx, h)
	if err != nil {
		return err
	}
	return readParquet(path, h.Logf, func(pf *file.Reader) error { return judgeCodec(h.Logf, pf) })
}

func judgeCodec(logf func(string, ...any), pf *file.Reader) error {
	other, err := parquetcheck.FirstOtherCodec(pf, compress.Codecs.Zstd)
	if err != nil {
		return err
	}
	if other != nil {
		return grader.Mismatch(fmt.Sprintf("row group %d, column %s is not compressed with zstd", other.RowGroup, pf.MetaData().Schema.Column(other.Column).Name()), "ZSTD", other.Codec.String())
	}
	logf("every column chunk is ZSTD")
	return nil
}

type queryRun struct {
	want  []reference.Reading
	got   []reference.Reading
	reads [][2]int64
	pf    *file.Reader
	lo    int64
	hi    int64
}

// query writes the file with the reference Write (so that this check does
// not depend on the learner's: the contents check reads the learner's
// file) and runs the learner's Query on a range from the last reading of
// row group 3 to the first of row group 7.
func query(ctx context.Context, h *grader.Harness) (*queryRun, error) {
	rs := readings(h.Seed())
	path := h.Path("sorted.parquet")
	if err := reference.Write(path, rs); err != nil {
		return nil, fmt.Errorf("grader writing the query file: %w", err)
	}
	sorted := append([]reference.Reading(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].TS < sorted[j].TS })
	// Both bounds sit on a row group's edge, whatever the seed: lo is row
	// group 3's largest ts and hi row group 7's smallest, and the range
	// includes them, so those two groups hold one matching reading each.
	q := &queryRun{lo: sorted[3999].TS, hi: sorted[7000].TS}
	for _, r := range sorted {
		if r.TS >= q.lo && r.TS <= q.hi {
			q.want = append(q.want, r)
		}
	}
	h.Logf("wrote sorted.parquet with the reference writer: 12 row groups of ts-sorted readings")
	h.Logf("running Query(reader, lo=%d, hi=%d): %d readings match, in row groups 3 to 7 (lo is row group 3's largest ts, hi row group 7's smallest)", q.lo, q.hi, len(q.want))
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"query", path, strconv.FormatInt(q.lo, 10), strconv.FormatInt(q.hi, 10)}})
	if err != nil {
		return nil, err
	}
	var v struct {
		Rows  []reference.Reading `json:"rows"`
		Reads [][2]int64          `json:"reads"`
	}
	if err := grader.UnmarshalArtifact("result of Query", res.Value, &v); err != nil {
		return nil, fmt.Errorf("decode the harness's capture: %w", err)
	}
	q.got, q.reads = v.Rows, v.Reads
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, err
	}
	h.Cleanup(func() { pf.Close() })
	q.pf = pf
	return q, nil
}

func queryResult(ctx context.Context, h *grader.Harness) error {
	q, err := query(ctx, h)
	if err != nil {
		return err
	}
	h.Logf("Query returned %d readings", len(q.got))
	if len(q.got) != len(q.want) {
		have := map[reference.Reading]bool{}
		for _, r := range q.got {
			have[r] = true
		}
		for _, r := range q.want {
			if !have[r] {
				where := ""
				switch r.TS {
				case q.lo:
					where = " (its ts is lo, the largest in row group 3)"
				case q.hi:
					where = " (its ts is hi, the smallest in row group 7)"
				}
				return grader.Mismatch(fmt.Sprintf("Query returned %d readings, not %d: the result lacks %+v%s", len(q.got), len(q.want), r, where), len(q.want), len(q.got))
			}
		}
		return grader.Mismatch("Query returned the wrong number of readings", len(q.want), len(q.got))
	}
	for i := range q.want {
		if q.got[i] != q.want[i] {
			return grader.Mismatch(fmt.Sprintf("reading %d of the result is wrong (or out of ts order)", i), fmt.Sprintf("%+v", q.want[i]), fmt.Sprintf("%+v", q.got[i]))
		}
	}
	return nil
}

func prunedReads(ctx context.Context, h *grader.Harness) error {
	q, err := query(ctx, h)
	if err != nil {
		return err
	}
	stats, err := tsStats(q.pf)
	if err != nil {
		return err
	}
	opened := map[int]bool{}
	for i := 0; i < q.pf.NumRowGroups(); i++ {
		start, end := byteSpan(q.pf.MetaData().RowGroup(i))
		for _, rd := range q.reads {
			if rd[0] < end && rd[0]+rd[1] > start {
				opened[i] = true
			}
		}
	}
	var list []int
	for i := range opened {
		list = append(list, i)
	}
	sort.Ints(list)
	h.Logf("the reader recorded %d reads; they touch row groups %v", len(q.reads), list)
	for _, i := range list {
		if stats[i].max < q.lo || stats[i].min > q.hi {
			return grader.Mismatch(fmt.Sprintf("Query read row group %d, whose ts statistics (%d..%d) cannot match %d..%d", i, stats[i].min, stats[i].max, q.lo, q.hi),
				"only row groups [3 4 5 6 7]", fmt.Sprint(list))
		}
	}
	return nil
}

// byteSpan is where a row group's column chunks lie in the file.
func byteSpan(rg *metadata.RowGroupMetaData) (start, end int64) {
	start = -1
	for c := 0; c < rg.NumColumns(); c++ {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			continue
		}
		s := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < s {
			s = cc.DictionaryPageOffset()
		}
		if start < 0 || s < start {
			start = s
		}
		end = max(end, s+cc.TotalCompressedSize())
	}
	return start, end
}
