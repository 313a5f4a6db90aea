package dataframes

import (
	"bytes"
	"math"
	"sort"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/endpoints"
	"github.com/delab-dev/delab/checker/grader"
)

// reportFiles writes a report as a learner's Spark job would: one Parquet
// file per day with the six columns.
func reportFiles(t *testing.T, rows map[key]stats) *listing {
	t.Helper()
	var fields []arrow.Field
	for _, c := range columns {
		fields = append(fields, arrow.Field{Name: c.name, Type: c.typ, Nullable: true})
	}
	schema := arrow.NewSchema(fields, nil)
	byDay := map[string][]key{}
	for k := range rows {
		byDay[k.day] = append(byDay[k.day], k)
	}
	l := &listing{success: true}
	for day, keys := range byDay {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for _, k := range keys {
			s := rows[k]
			b.Field(0).(*array.StringBuilder).Append(k.site)
			b.Field(1).(*array.Int64Builder).Append(s.events)
			b.Field(2).(*array.Int64Builder).Append(s.readings)
			if s.readings == 0 {
				b.Field(3).AppendNull()
				b.Field(4).AppendNull()
				b.Field(5).AppendNull()
			} else {
				b.Field(3).(*array.Float64Builder).Append(s.min)
				b.Field(4).(*array.Float64Builder).Append(s.max)
				b.Field(5).(*array.Float64Builder).Append(s.mean())
			}
		}
		var buf bytes.Buffer
		w, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
		require.NoError(t, err)
		rec := b.NewRecord()
		require.NoError(t, w.Write(rec))
		rec.Release()
		require.NoError(t, w.Close())
		l.days = append(l.days, day)
		l.parts = append(l.parts, part{day: day, path: "/r/report/day=" + day + "/part-00000.parquet", data: buf.Bytes()})
	}
	sort.Strings(l.days)
	return l
}

func judge(t *testing.T, ds *dataset, rows map[key]stats) error {
	h := grader.NewHarness(&catalog.Lab{}, &catalog.Check{}, nil, t.TempDir(), 1, endpoints.Endpoints{})
	return judgeRows(h, &report{ds: ds, out: "/r/report", listing: reportFiles(t, rows)})
}

// TestJudgeNamesTheRule runs the judging on reports with the wrong
// solutions' mistakes, made in Go from the events the checker wrote.
func TestJudgeNamesTheRule(t *testing.T) {
	ds, err := generate(11, 3000)
	require.NoError(t, err)
	require.NoError(t, judge(t, ds, ds.truth), "the checker's own report passes")

	// The report a rule-breaking filter makes, recomputed from the events.
	report := func(keep func(null bool, v float64) bool) map[key]stats {
		out := map[key]stats{}
		forEachEvent(t, ds, func(k key, null bool, v float64) {
			if !keep(null, v) {
				return
			}
			s := out[k]
			s.events++
			if !null {
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
		})
		return out
	}
	right := report(func(null bool, v float64) bool { return null || v >= low && v <= high })
	require.NoError(t, judge(t, ds, right))

	err = judge(t, ds, report(func(null bool, v float64) bool { return !null && v >= low && v <= high }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no row for site")
	assert.Contains(t, err.Error(), "null readings are events")

	err = judge(t, ds, report(func(null bool, v float64) bool { return null || v > low && v < high }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exactly -40.0 is valid")

	err = judge(t, ds, report(func(null bool, v float64) bool { return true }))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kept events")

	// A row for the day whose readings are all out of range.
	extra := map[key]stats{{sites[0], ds.deadDay}: {events: 1, readings: 1, min: 200, max: 200, sum: 200}}
	for k, s := range ds.truth {
		extra[k] = s
	}
	err = judge(t, ds, extra)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "but it should not: a day with no kept event")

	// A mean off in its last bits passes; one off by more does not.
	nudged := map[key]stats{}
	for k, s := range ds.truth {
		nudged[k] = s
	}
	for k, s := range nudged {
		if s.readings > 10 {
			s.sum = math.Nextafter(s.sum, math.Inf(1))
			nudged[k] = s
			break
		}
	}
	require.NoError(t, judge(t, ds, nudged))
	for k, s := range nudged {
		if s.readings > 10 {
			s.sum += 1
			nudged[k] = s
			break
		}
	}
	err = judge(t, ds, nudged)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mean_reading")
}

// forEachEvent calls fn with every event of the dataset's files.
func forEachEvent(t *testing.T, ds *dataset, fn func(k key, null bool, v float64)) {
	t.Helper()
	for _, data := range ds.files {
		tbl, err := readPart(part{path: "events", data: data})
		require.NoError(t, err)
		tr := array.NewTableReader(tbl, 1<<16)
		for tr.Next() {
			rec := tr.Record()
			site := rec.Column(1).(*array.String)
			ts := rec.Column(2).(*array.Timestamp)
			reading := rec.Column(3).(*array.Float64)
			for i := 0; i < int(rec.NumRows()); i++ {
				day := arrow.Timestamp(ts.Value(i)).ToTime(arrow.Microsecond).UTC().Format("2006-01-02")
				fn(key{site.Value(i), day}, reading.IsNull(i), reading.Value(i))
			}
		}
		tr.Release()
		tbl.Release()
	}
}
