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
	"math"
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

// gapRow is the first row (in ts order) of row group 6: between its ts
// and row group 5's largest lies a gap of more than a second, whatever the
// seed, for a query range that no row group can match.
const gapRow = 6000

// Boundary table: each rule of the lesson, the input that exercises it in
// every run whatever the seed, and the check that judges it.
//
//	rule                                         input                                              check
//	sorted by ts before writing                  11500 readings in random order, distinct ts       row-groups (each group's ts min/max
//	                                                                                                are the grader's sorted slices')
//	row groups of exactly 1000, last one partial 11500 rows: 11 groups of 1000, one of 500          row-groups
//	statistics for ts in every row group         the footer of the learner's file                  row-groups
//	every chunk zstd                             every column chunk of the learner's file          codec
//	the file holds every reading, whole rows     every row read back (device, ts, value) against   contents
//	                                             the readings sorted by ts
//	device is a string, however Arrow types it   string, large string, binary or a dictionary of   contents
//	                                             strings all read back as the string
//	no nulls                                     no reading has one; a null in the file fails      contents
//	both bounds inclusive, on row-group edges    lo = group 3's largest ts, hi = group 7's          query-result, pruned-reads
//	                                             smallest: rows on both sides of each bound
//	hi on the first row of the file              lo = smallest long, hi = group 0's smallest ts     query-result, pruned-reads
//	a single point, the last row of the file     lo = hi = group 11's (the partial one) largest ts  query-result, pruned-reads
//	a range no row group can match               lo..hi inside the gap between groups 5 and 6       query-result (empty), pruned-reads (no group)
//	a range before every row                     lo = smallest long, hi = group 0's smallest ts - 1 query-result (empty), pruned-reads (no group)
//	a range after every row                      lo = group 11's largest ts + 1, hi = largest long  query-result (empty), pruned-reads (no group)
//	skip a group only when max < lo or min > hi  the six ranges above on the reference's file       pruned-reads

// readings are shuffled, with distinct, increasing-when-sorted timestamps.
func readings(seed uint64) []reference.Reading {
	r := rand.New(rand.NewPCG(seed, 19))
	out := make([]reference.Reading, rows)
	ts := int64(1_793_577_600_000) // 2026-11-02T00:00:00Z
	for i := range out {
		ts += int64(1 + r.IntN(2000))
		if i == gapRow {
			ts += 1000
		}
		out[i] = reference.Reading{Device: fmt.Sprintf("ap-%02d", r.IntN(12)+1), TS: ts, Value: float64(r.IntN(100000)) / 100}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// sortedByTS is what the learner's file must hold, in order.
func sortedByTS(rs []reference.Reading) []reference.Reading {
	out := append([]reference.Reading(nil), rs...)
	sort.Slice(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out
}

// wantSpans are the ts min and max of each row group of 1000 sorted rows.
func wantSpans(sorted []reference.Reading) []span {
	var out []span
	for i := 0; i < len(sorted); i += 1000 {
		out = append(out, span{sorted[i].TS, sorted[min(i+1000, len(sorted))-1].TS})
	}
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
	spans := wantSpans(sortedByTS(readings(h.Seed())))
	return readParquet(path, h.Logf, func(pf *file.Reader) error { return judgeRowGroups(h.Logf, pf, spans) })
}

// judgeRowGroups judges the footer: row group sizes, then ts statistics
// that rise from group to group, then each group's ts min and max against
// want, the grader's own slices of the sorted readings.
func judgeRowGroups(logf func(string, ...any), pf *file.Reader, want []span) error {
	var sizes []int64
	for i := 0; i < pf.NumRowGroups(); i++ {
		sizes = append(sizes, pf.MetaData().RowGroup(i).NumRows())
	}
	logf("rows per row group: %v", sizes)
	wantSizes := []int64{}
	for left := int64(rows); left > 0; left -= 1000 {
		wantSizes = append(wantSizes, min(left, 1000))
	}
	if fmt.Sprint(sizes) != fmt.Sprint(wantSizes) {
		return grader.Mismatch("the row groups are not of 1000 rows", wantSizes, sizes)
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
	for i := range want {
		if stats[i] != want[i] {
			return grader.Mismatch(fmt.Sprintf("row group %d's ts statistics are not those of readings %d to %d sorted by ts", i, i*1000, min(i*1000+1000, rows)-1),
				fmt.Sprintf("ts %d..%d", want[i].min, want[i].max), fmt.Sprintf("ts %d..%d", stats[i].min, stats[i].max))
		}
	}
	logf("each row group's ts min and max are those of its 1000 readings in ts order")
	return nil
}

// contents reads every row of the learner's file with the checker's own
// reader and compares it, column by column, with the readings sorted by
// ts: the statistics say nothing about device and value.
func contents(ctx context.Context, h *grader.Harness) error {
	want := sortedByTS(readings(h.Seed()))
	path, err := learnerWrite(ctx, h)
	if err != nil {
		return err
	}
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
	var str func(a arrow.Array, i int) (string, bool)
	str = func(a arrow.Array, i int) (string, bool) {
		switch c := a.(type) {
		case *array.String:
			return c.Value(i), true
		case *array.LargeString:
			return c.Value(i), true
		case *array.Binary:
			return string(c.Value(i)), true
		case *array.Dictionary:
			// Arrow's dictionary type for repeated strings (Parquet
			// dictionary-encodes device either way): the value it stands for.
			return str(c.Dictionary(), c.GetValueIndex(i))
		}
		return "", false
	}
	err = fill("device", func(row int, a arrow.Array, i int) error {
		v, ok := str(a, i)
		if !ok {
			return grader.Failf("device is stored as %s, not a string", a.DataType())
		}
		out[row].Device = v
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

// queryCase is one range the learner's Query is asked about, with the
// grader's own answer: the readings in it, in ts order, and the row
// groups (of 1000 sorted readings) that hold them.
type queryCase struct {
	name   string
	lo, hi int64
	want   []reference.Reading
	groups []int
}

// queryCases are the ranges of the boundary table, on the readings sorted
// by ts, edges of row groups included whatever the seed.
func queryCases(sorted []reference.Reading) []queryCase {
	last := len(sorted) - 1
	cases := []queryCase{
		{name: "lo is row group 3's largest ts, hi row group 7's smallest", lo: sorted[3999].TS, hi: sorted[7000].TS},
		{name: "lo is the smallest int64, hi row group 0's smallest ts: the file's first reading", lo: math.MinInt64, hi: sorted[0].TS},
		{name: "lo = hi = the largest ts of row group 11, the last and partial one", lo: sorted[last].TS, hi: sorted[last].TS},
		{name: "the range lies between row group 5's largest ts and row group 6's smallest: no row group can match", lo: sorted[gapRow-1].TS + 1, hi: sorted[gapRow].TS - 1},
		{name: "the range ends before the file's first reading: no row group can match", lo: math.MinInt64, hi: sorted[0].TS - 1},
		{name: "the range starts after the file's last reading: no row group can match", lo: sorted[last].TS + 1, hi: math.MaxInt64},
	}
	for c := range cases {
		q := &cases[c]
		q.want = []reference.Reading{}
		for i, r := range sorted {
			if r.TS >= q.lo && r.TS <= q.hi {
				q.want = append(q.want, r)
				if g := i / 1000; len(q.groups) == 0 || q.groups[len(q.groups)-1] != g {
					q.groups = append(q.groups, g)
				}
			}
		}
	}
	return cases
}

// queryRun is what the learner's Query did on one case.
type queryRun struct {
	queryCase
	got   []reference.Reading
	reads [][2]int64
}

// query writes the file with the reference Write (so that these checks do
// not depend on the learner's: the contents check reads the learner's
// file) and runs the learner's Query on every case, in one process, each
// through a fresh recording reader.
func query(ctx context.Context, h *grader.Harness) ([]queryRun, *file.Reader, error) {
	rs := readings(h.Seed())
	path := h.Path("sorted.parquet")
	if err := reference.Write(path, rs); err != nil {
		return nil, nil, fmt.Errorf("grader writing the query file: %w", err)
	}
	h.Logf("wrote sorted.parquet with the reference writer: 12 row groups of ts-sorted readings")
	cases := queryCases(sortedByTS(rs))
	args := []string{"query", path}
	for _, c := range cases {
		matching := "no reading matches"
		if len(c.want) > 0 {
			matching = fmt.Sprintf("matching readings: %d, in row groups %v", len(c.want), c.groups)
		}
		h.Logf("running Query(reader, lo=%d, hi=%d): %s; %s", c.lo, c.hi, c.name, matching)
		args = append(args, strconv.FormatInt(c.lo, 10), strconv.FormatInt(c.hi, 10))
	}
	res, err := h.Run(ctx, grader.RunOptions{Args: args})
	if err != nil {
		return nil, nil, err
	}
	var v []struct {
		Rows  []reference.Reading `json:"rows"`
		Reads [][2]int64          `json:"reads"`
		Error string              `json:"error"`
	}
	if err := grader.UnmarshalArtifact("result of Query", res.Value, &v); err != nil || len(v) != len(cases) {
		return nil, nil, fmt.Errorf("decode the harness's capture: %v", err)
	}
	var runs []queryRun
	for i, c := range cases {
		if v[i].Error != "" {
			return nil, nil, grader.Failf("Query(lo=%d, hi=%d) (%s): your code returned an error: %s", c.lo, c.hi, c.name, v[i].Error)
		}
		runs = append(runs, queryRun{queryCase: c, got: v[i].Rows, reads: v[i].Reads})
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, nil, err
	}
	h.Cleanup(func() { pf.Close() })
	return runs, pf, nil
}

func queryResult(ctx context.Context, h *grader.Harness) error {
	runs, _, err := query(ctx, h)
	if err != nil {
		return err
	}
	for _, q := range runs {
		if err := judgeResult(q); err != nil {
			return err
		}
	}
	h.Logf("Query returned exactly the matching readings, in ts order, for all %d ranges", len(runs))
	return nil
}

// judgeResult compares every reading Query returned for one case with the
// grader's own.
func judgeResult(q queryRun) error {
	which := fmt.Sprintf("Query(lo=%d, hi=%d) (%s)", q.lo, q.hi, q.name)
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
					where = " (its ts is lo)"
				case q.hi:
					where = " (its ts is hi)"
				}
				return grader.Mismatch(fmt.Sprintf("%s returned %d readings, not %d: the result lacks %+v%s", which, len(q.got), len(q.want), r, where), len(q.want), len(q.got))
			}
		}
		for _, r := range q.got {
			if r.TS < q.lo || r.TS > q.hi {
				return grader.Mismatch(fmt.Sprintf("%s returned %d readings, not %d: %+v is outside the range", which, len(q.got), len(q.want), r), len(q.want), len(q.got))
			}
		}
		return grader.Mismatch(which+" returned the wrong number of readings", len(q.want), len(q.got))
	}
	for i := range q.want {
		if q.got[i] != q.want[i] {
			return grader.Mismatch(fmt.Sprintf("reading %d of the result of %s is wrong (or out of ts order)", i, which), fmt.Sprintf("%+v", q.want[i]), fmt.Sprintf("%+v", q.got[i]))
		}
	}
	return nil
}

func prunedReads(ctx context.Context, h *grader.Harness) error {
	runs, pf, err := query(ctx, h)
	if err != nil {
		return err
	}
	stats, err := tsStats(pf)
	if err != nil {
		return err
	}
	for _, q := range runs {
		if err := judgeReads(h.Logf, pf, stats, q); err != nil {
			return err
		}
	}
	return nil
}

// judgeReads says which row groups the reads of one case touched, and
// fails on the first whose statistics cannot match the range.
func judgeReads(logf func(string, ...any), pf *file.Reader, stats []span, q queryRun) error {
	var list, can []int
	for i := 0; i < pf.NumRowGroups(); i++ {
		if !(stats[i].max < q.lo || stats[i].min > q.hi) {
			can = append(can, i)
		}
		start, end := byteSpan(pf.MetaData().RowGroup(i))
		for _, rd := range q.reads {
			if rd[0] < end && rd[0]+rd[1] > start {
				list = append(list, i)
				break
			}
		}
	}
	logf("Query(lo=%d, hi=%d): the reader recorded %d reads; they touch row groups %v", q.lo, q.hi, len(q.reads), list)
	want := "no row group"
	if len(can) > 0 {
		want = fmt.Sprintf("only row groups %v", can)
	}
	for _, i := range list {
		if stats[i].max < q.lo || stats[i].min > q.hi {
			return grader.Mismatch(fmt.Sprintf("Query(lo=%d, hi=%d) (%s) read row group %d, whose ts statistics (%d..%d) cannot match", q.lo, q.hi, q.name, i, stats[i].min, stats[i].max),
				want, fmt.Sprint(list))
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
