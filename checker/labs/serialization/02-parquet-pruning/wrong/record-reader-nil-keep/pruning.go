// MISTAKE: Query keeps row groups in a nil slice and reads them with pqarrow's GetRecordReader, which takes a nil list of row groups as "all of them": when no row group can match, it reads the whole file (and still returns no reading).
// RULE: Statistics and predicate pushdown: "skips every row group whose [min, max] for ts cannot overlap [a, b]"; "Skipped row groups cost nothing: their bytes are never read."
// Package pruning is a wrong solution of serialization/02-parquet-pruning.
package pruning

import (
	"context"
	"fmt"
	"io"
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

// Write writes readings to path as Parquet: sorted by ts, in row groups of
// RowGroupRows rows, compressed with zstd, with column statistics.
func Write(path string, readings []Reading) error {
	sorted := append([]Reading(nil), readings...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].TS < sorted[j].TS })
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, r := range sorted {
		b.Field(0).(*array.StringBuilder).Append(r.Device)
		b.Field(1).(*array.Int64Builder).Append(r.TS)
		b.Field(2).(*array.Float64Builder).Append(r.Value)
	}
	rec := b.NewRecord()
	defer rec.Release()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithStats(true),
	)
	fw, err := pqarrow.NewFileWriter(schema, out, props, pqarrow.DefaultWriterProps())
	if err != nil {
		out.Close()
		return err
	}
	if err := fw.Write(rec); err != nil {
		fw.Close()
		return err
	}
	return fw.Close() // closes out as well
}

// Query returns the readings with lo <= ts <= hi, in ts order, reading
// from r only the row groups whose ts statistics can match.
func Query(r parquet.ReaderAtSeeker, lo, hi int64) ([]Reading, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	tsCol := pf.MetaData().Schema.ColumnIndexByName("ts")
	if tsCol < 0 {
		return nil, fmt.Errorf("no ts column")
	}
	var keep []int
	for i := 0; i < pf.NumRowGroups(); i++ {
		cc, err := pf.MetaData().RowGroup(i).ColumnChunk(tsCol)
		if err != nil {
			return nil, err
		}
		st, err := cc.Statistics()
		if err != nil {
			return nil, err
		}
		s, ok := st.(*metadata.Int64Statistics)
		if !ok || !s.HasMinMax() || (s.Min() <= hi && s.Max() >= lo) {
			keep = append(keep, i) // no usable statistics: it might match
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1000}, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, keep)
	if err != nil {
		return nil, err
	}
	defer rr.Release()
	out := []Reading{}
	for rr.Next() {
		rec := rr.Record()
		dev := rec.Column(0).(*array.String)
		ts := rec.Column(1).(*array.Int64)
		val := rec.Column(2).(*array.Float64)
		for i := 0; i < int(rec.NumRows()); i++ {
			if t := ts.Value(i); t >= lo && t <= hi {
				out = append(out, Reading{Device: dev.Value(i), TS: t, Value: val.Value(i)})
			}
		}
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out, nil
}
