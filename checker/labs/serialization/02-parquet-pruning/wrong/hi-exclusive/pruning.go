// MISTAKE: Filters rows with the half-open range lo <= ts < hi, so readings exactly at hi are dropped (the statistics check itself is inclusive).
// RULE: Your lab: prune with statistics: "Query(r, lo, hi): return the readings with lo <= ts <= hi ... both bounds count."
// Package pruning writes Parquet that readers can skip through, and
// reads it that way.
//
// Read the lesson first: delab read serialization/01
// Check your work:       delab check serialization/02
package pruning

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/metadata"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
)

// RowGroupRows is the number of rows in every row group but the last.
const RowGroupRows = 1000

// Reading is one sensor reading; ts is milliseconds since the epoch (UTC).
type Reading struct {
	Device string  `json:"device"`
	TS     int64   `json:"ts"`
	Value  float64 `json:"value"`
}

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: arrow.BinaryTypes.String},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64},
}, nil)

// Write writes readings to path as Parquet with columns device (string),
// ts (int64) and value (double): sorted by ts, in row groups of
// RowGroupRows rows, compressed with zstd, with column statistics.
func Write(path string, readings []Reading) error {
	sorted := make([]Reading, len(readings))
	copy(sorted, readings)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].TS < sorted[j].TS })

	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	dev := b.Field(0).(*array.StringBuilder)
	ts := b.Field(1).(*array.Int64Builder)
	val := b.Field(2).(*array.Float64Builder)
	for _, r := range sorted {
		dev.Append(r.Device)
		ts.Append(r.TS)
		val.Append(r.Value)
	}
	rec := b.NewRecord()
	defer rec.Release()

	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithStats(true),
	)
	fw, err := pqarrow.NewFileWriter(schema, out, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	if rec.NumRows() > 0 {
		if err := fw.Write(rec); err != nil {
			fw.Close()
			return err
		}
	}
	return fw.Close() // closes out too
}

// keepRowGroups returns the row groups whose statistics for the INT64
// column col say they may hold a value in [lo, hi].
func keepRowGroups(pf *file.Reader, col int, lo, hi int64) ([]int, error) {
	var keep []int
	for i := 0; i < pf.NumRowGroups(); i++ {
		chunk, err := pf.MetaData().RowGroup(i).ColumnChunk(col)
		if err != nil {
			return nil, err
		}
		stats, err := chunk.Statistics()
		if err != nil {
			return nil, err
		}
		s, ok := stats.(*metadata.Int64Statistics)
		if !ok || !s.HasMinMax() {
			keep = append(keep, i)
			continue
		}
		if s.Max() >= lo && s.Min() <= hi {
			keep = append(keep, i)
		}
	}
	return keep, nil
}

// Query returns the readings with lo <= ts <= hi, in ts order, reading
// from r only the row groups whose ts statistics can match.
func Query(r parquet.ReaderAtSeeker, lo, hi int64) ([]Reading, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	devCol, tsCol, valCol := sc.ColumnIndexByName("device"), sc.ColumnIndexByName("ts"), sc.ColumnIndexByName("value")
	if devCol < 0 || tsCol < 0 || valCol < 0 {
		return nil, fmt.Errorf("file lacks device, ts or value column")
	}
	keep, err := keepRowGroups(pf, tsCol, lo, hi)
	if err != nil {
		return nil, err
	}
	if len(keep) == 0 {
		return nil, nil
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	tbl, err := fr.ReadRowGroups(context.Background(), []int{devCol, tsCol, valCol}, keep)
	if err != nil {
		return nil, err
	}
	defer tbl.Release()

	tr := array.NewTableReader(tbl, 4096)
	defer tr.Release()
	var out []Reading
	for tr.Next() {
		rec := tr.Record()
		d := rec.Column(0).(*array.String)
		t := rec.Column(1).(*array.Int64)
		v := rec.Column(2).(*array.Float64)
		for i := 0; i < int(rec.NumRows()); i++ {
			if t.Value(i) < lo || t.Value(i) >= hi {
				continue
			}
			out = append(out, Reading{Device: d.Value(i), TS: t.Value(i), Value: v.Value(i)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out, nil
}
