// Package pruning writes Parquet that readers can skip through, and
// reads it that way.
//
// Read the lesson first: delab read serialization/01
// Check your work:       delab check serialization/02
package pruning

import (
	"cmp"
	"errors"
	"os"
	"slices"

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

// Write writes readings to path as Parquet with columns device (string),
// ts (int64) and value (double): sorted by ts, in row groups of
// RowGroupRows rows, compressed with zstd, with column statistics.
func Write(path string, readings []Reading) error {
	rs := slices.Clone(readings)
	slices.SortStableFunc(rs, func(a, b Reading) int { return cmp.Compare(a.TS, b.TS) })

	// Readers find columns by name, so ts can come first.
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "device", Type: arrow.BinaryTypes.String},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64},
	}, nil)

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(3),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(RowGroupRows),
	)
	w, err := pqarrow.NewFileWriter(sch, f, props, pqarrow.NewArrowWriterProperties())
	if err != nil {
		f.Close()
		return err
	}

	mem := memory.NewGoAllocator()
	tsB := array.NewInt64Builder(mem)
	devB := array.NewStringBuilder(mem)
	valB := array.NewFloat64Builder(mem)
	defer tsB.Release()
	defer devB.Release()
	defer valB.Release()

	// One Write per row group: each call starts a new one.
	for start := 0; start < len(rs); start += RowGroupRows {
		chunk := rs[start:min(start+RowGroupRows, len(rs))]
		for _, r := range chunk {
			tsB.Append(r.TS)
			devB.Append(r.Device)
			valB.Append(r.Value)
		}
		cols := []arrow.Array{tsB.NewArray(), devB.NewArray(), valB.NewArray()}
		rec := array.NewRecord(sch, cols, int64(len(chunk)))
		for _, c := range cols {
			c.Release()
		}
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return nil
}

// mayMatch says whether a row group's ts chunk can hold a value in [lo, hi].
func mayMatch(md *metadata.RowGroupMetaData, col int, lo, hi int64) (bool, error) {
	cc, err := md.ColumnChunk(col)
	if err != nil {
		return false, err
	}
	st, err := cc.Statistics()
	if err != nil {
		return false, err
	}
	if st == nil || !st.HasMinMax() {
		return true, nil
	}
	i64, ok := st.(*metadata.Int64Statistics)
	if !ok {
		return true, nil
	}
	return !(i64.Max() < lo || i64.Min() > hi), nil
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
	tsCol := sc.ColumnIndexByName("ts")
	devCol := sc.ColumnIndexByName("device")
	valCol := sc.ColumnIndexByName("value")
	if tsCol < 0 || devCol < 0 || valCol < 0 {
		return nil, errors.New("pruning: missing column")
	}

	var out []Reading
	for g := 0; g < pf.NumRowGroups(); g++ {
		ok, err := mayMatch(pf.MetaData().RowGroup(g), tsCol, lo, hi)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		rg := pf.RowGroup(g)
		n := rg.NumRows()

		c, err := rg.Column(tsCol)
		if err != nil {
			return nil, err
		}
		tsR, ok := c.(*file.Int64ColumnChunkReader)
		if !ok {
			return nil, errors.New("pruning: ts is not INT64")
		}
		ts := make([]int64, n)
		if err := readAll(n, func(off int64) (int, error) {
			_, k, err := tsR.ReadBatch(n-off, ts[off:], nil, nil)
			return k, err
		}); err != nil {
			return nil, err
		}

		c, err = rg.Column(devCol)
		if err != nil {
			return nil, err
		}
		devR, ok := c.(*file.ByteArrayColumnChunkReader)
		if !ok {
			return nil, errors.New("pruning: device is not BYTE_ARRAY")
		}
		// Byte arrays point into the page buffer: copy them out per batch.
		dev := make([]string, n)
		buf := make([]parquet.ByteArray, n)
		if err := readAll(n, func(off int64) (int, error) {
			_, k, err := devR.ReadBatch(n-off, buf[:n-off], nil, nil)
			for i := 0; i < k; i++ {
				dev[off+int64(i)] = string(buf[i])
			}
			return k, err
		}); err != nil {
			return nil, err
		}

		c, err = rg.Column(valCol)
		if err != nil {
			return nil, err
		}
		valR, ok := c.(*file.Float64ColumnChunkReader)
		if !ok {
			return nil, errors.New("pruning: value is not DOUBLE")
		}
		val := make([]float64, n)
		if err := readAll(n, func(off int64) (int, error) {
			_, k, err := valR.ReadBatch(n-off, val[off:], nil, nil)
			return k, err
		}); err != nil {
			return nil, err
		}

		for i := int64(0); i < n; i++ {
			if ts[i] >= lo && ts[i] <= hi {
				out = append(out, Reading{Device: dev[i], TS: ts[i], Value: val[i]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Reading) int { return cmp.Compare(a.TS, b.TS) })
	return out, nil
}

// readAll calls read until n values have been read.
func readAll(n int64, read func(off int64) (int, error)) error {
	var off int64
	for off < n {
		k, err := read(off)
		if err != nil {
			return err
		}
		if k == 0 {
			return errors.New("pruning: column chunk ended early")
		}
		off += int64(k)
	}
	return nil
}
