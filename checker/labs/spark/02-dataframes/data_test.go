package dataframes

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
)

// recompute reads the Parquet files a dataset wrote, as Spark would, and
// makes the report from them with the lesson's rules, independently of
// generate's own bookkeeping.
func recompute(t *testing.T, ds *dataset) (map[key]stats, int) {
	t.Helper()
	out := map[key]stats{}
	n := 0
	for _, data := range ds.files {
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		require.NoError(t, err)
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 16}, memory.DefaultAllocator)
		require.NoError(t, err)
		tbl, err := fr.ReadTable(context.Background())
		require.NoError(t, err)
		require.Equal(t, len(eventSchema.Fields()), len(tbl.Schema().Fields()))
		for i, f := range eventSchema.Fields() {
			g := tbl.Schema().Field(i)
			require.Equal(t, f.Name, g.Name)
			require.True(t, arrow.TypeEqual(f.Type, g.Type), "%s is %s", g.Name, g.Type)
		}
		tr := array.NewTableReader(tbl, 1<<16)
		for tr.Next() {
			rec := tr.Record()
			site := rec.Column(1).(*array.String)
			ts := rec.Column(2).(*array.Timestamp)
			reading := rec.Column(3).(*array.Float64)
			for i := 0; i < int(rec.NumRows()); i++ {
				n++
				if !reading.IsNull(i) && (reading.Value(i) < -40 || reading.Value(i) > 125) {
					continue
				}
				k := key{site.Value(i), time.UnixMicro(int64(ts.Value(i))).UTC().Format("2006-01-02")}
				s := out[k]
				s.events++
				if !reading.IsNull(i) {
					v := reading.Value(i)
					if s.readings == 0 || v < s.min {
						s.min = v
					}
					if s.readings == 0 || v > s.max {
						s.max = v
					}
					s.readings++
					s.sum += v
				}
				out[k] = s
			}
		}
		tr.Release()
		tbl.Release()
		pf.Close()
	}
	return out, n
}

// TestEveryBoundaryIsInEveryRun generates the events of many seeds and
// checks, from the files alone, that each rule of the lesson is exercised
// by the row it names, and that the checker's report is the one the rules
// make.
func TestEveryBoundaryIsInEveryRun(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		ds, err := generate(seed, 3000)
		require.NoError(t, err)
		truth, n := recompute(t, ds)
		require.Equal(t, ds.events, n)
		require.Equal(t, len(truth), len(ds.truth), "seed %d", seed)
		for k, w := range truth {
			g, ok := ds.truth[k]
			require.True(t, ok, "seed %d: %s", seed, k)
			require.Equal(t, w.events, g.events, "seed %d: %s", seed, k)
			require.Equal(t, w.readings, g.readings, "seed %d: %s", seed, k)
			require.Equal(t, w.min, g.min, "seed %d: %s", seed, k)
			require.Equal(t, w.max, g.max, "seed %d: %s", seed, k)
			require.InDelta(t, w.sum, g.sum, 1e-6, "seed %d: %s", seed, k)
		}
		require.Len(t, ds.days, reportDays, "seed %d: one day of kept events is missing", seed)
		require.NotContains(t, ds.days, ds.deadDay)

		rules := map[string]bool{}
		for _, b := range ds.boundaries {
			rules[b.rule] = true
			row, has := truth[b.row]
			switch {
			case strings.HasPrefix(b.rule, "a reading of exactly -40.0"):
				require.True(t, has)
				assert.Equal(t, -40.0, row.min, "seed %d: -40 is the min of %s", seed, b.row)
				assert.Greater(t, row.readings, int64(1), "seed %d: %s has other readings", seed, b.row)
			case strings.HasPrefix(b.rule, "a reading of exactly 125.0"):
				require.True(t, has)
				assert.Equal(t, 125.0, row.max, "seed %d: 125 is the max of %s", seed, b.row)
			case strings.HasPrefix(b.rule, "a reading just below -40.0"):
				require.True(t, has, "seed %d: %s has other events", seed, b.row)
				assert.Greater(t, row.min, -40.0, "seed %d: kept, it would be the min of %s", seed, b.row)
			case strings.HasPrefix(b.rule, "a reading just above 125.0"):
				require.True(t, has, "seed %d: %s has other events", seed, b.row)
				assert.Less(t, row.max, 125.0, "seed %d: kept, it would be the max of %s", seed, b.row)
			case strings.HasPrefix(b.rule, "null readings"):
				require.True(t, has)
				assert.Equal(t, stats{events: 3}, row, "seed %d: %s", seed, b.row)
			case strings.HasPrefix(b.rule, "a site and day none"):
				assert.True(t, b.absent)
				assert.False(t, has, "seed %d: %s has no row", seed, b.row)
			case strings.HasSuffix(b.rule, "is still that day"), strings.HasSuffix(b.rule, "starts the next one"):
				require.True(t, has)
				assert.Equal(t, int64(1), row.events, "seed %d: %s holds only the midnight event", seed, b.row)
			case strings.HasPrefix(b.rule, "a day with no kept event"):
				for k := range truth {
					assert.NotEqual(t, b.row.day, k.day, "seed %d", seed)
				}
			default:
				t.Fatalf("rule %q has no test", b.rule)
			}
		}
		assert.Len(t, rules, 9, "seed %d: every rule, once", seed)
		// Nulls and out-of-range readings are among the random events too.
		var nulls int64
		for _, s := range truth {
			nulls += s.events - s.readings
		}
		assert.Greater(t, nulls, int64(3), "seed %d", seed)
	}
}

// TestGenerateIsFastEnough keeps the in-spark check's input cheap to make:
// the whole check must stay within a warm check's budget.
func TestGenerateIsFastEnough(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two million events")
	}
	start := time.Now()
	ds, err := generate(7, bigEvents)
	require.NoError(t, err)
	took := time.Since(start)
	size := 0
	for _, f := range ds.files {
		size += len(f)
	}
	t.Logf("%d events, %.1f MiB of Parquet in %s", ds.events, float64(size)/(1<<20), took)
	assert.Less(t, took, 6*time.Second)
}

// TestReaderReadsWhatSparkWrote reads a part file Spark 4.0.1 wrote for the
// reference solution (testdata/spark) with the checker's reader.
func TestReaderReadsWhatSparkWrote(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "spark", "report-part.snappy.parquet"))
	require.NoError(t, err)
	p := part{day: "2026-03-01", path: "/r/day=2026-03-01/part-0.parquet", data: data}
	tbl, err := readPart(p)
	require.NoError(t, err)
	assert.Empty(t, schemaProblem(tbl.Schema()), "Spark's types are the ones the checker expects")
	got, err := tableRows(tbl, p)
	tbl.Release()
	require.NoError(t, err)
	require.NotEmpty(t, got)
	for _, r := range got {
		assert.Equal(t, "2026-03-01", r.day)
		assert.GreaterOrEqual(t, r.events, r.readings)
	}
}

func TestSchemaProblems(t *testing.T) {
	fields := func(extra ...arrow.Field) *arrow.Schema {
		var fs []arrow.Field
		for _, c := range columns {
			fs = append(fs, arrow.Field{Name: c.name, Type: c.typ, Nullable: true})
		}
		return arrow.NewSchema(append(fs, extra...), nil)
	}
	assert.Empty(t, schemaProblem(fields()))
	assert.Contains(t, schemaProblem(fields(arrow.Field{Name: "day", Type: arrow.FixedWidthTypes.Date32})), "column named day")
	assert.Contains(t, schemaProblem(fields(arrow.Field{Name: "note", Type: arrow.BinaryTypes.String})), "column note")
	s := arrow.NewSchema([]arrow.Field{{Name: "site", Type: arrow.BinaryTypes.String}, {Name: "events", Type: arrow.PrimitiveTypes.Int32}}, nil)
	assert.Contains(t, schemaProblem(s), "events is int32")
}

func TestCompare(t *testing.T) {
	want := stats{events: 4, readings: 3, min: -40, max: 125, sum: 90}
	got := row{key: key{"a", "2026-03-01"}, stats: want, mean: 30}
	assert.Empty(t, compare(want, got))
	got.mean = 30 * (1 + 1e-12)
	assert.Empty(t, compare(want, got), "a mean within the tolerance")
	got.mean = 30.001
	assert.Contains(t, compare(want, got), "mean_reading")
	got.mean, got.events = 30, 3
	assert.Contains(t, compare(want, got), "events is 3")
	none := stats{events: 2}
	assert.Contains(t, compare(none, row{stats: none}), "null")
	assert.Empty(t, compare(none, row{stats: none, minNull: true, maxNull: true, meanNull: true}))
	assert.True(t, math.IsNaN(none.mean()))
}

func TestUnreadablePartIsTheLearners(t *testing.T) {
	_, err := readPart(part{path: "/r/day=2026-03-01/x.parquet", data: []byte("PAR1 not really PAR1")})
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	assert.Contains(t, f.Message, "x.parquet")
}
