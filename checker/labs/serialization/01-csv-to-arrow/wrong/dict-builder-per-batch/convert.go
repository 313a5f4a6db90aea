// MISTAKE: Encodes device with the RecordBuilder's dictionary builder in a single pass, so a device first seen after batch one grows the dictionary and the IPC file writer fails with "Dictionary replacement detected".
// RULE: One dictionary per field in an IPC file: "The IPC file format allows a single dictionary per field for the whole file ... collect the distinct values first ... or use the IPC stream format. The lab uses the file format."

// Package csvtoarrow converts CSV device readings into an Arrow IPC file.
//
// Read the lesson first: delab read serialization/00
// Check your work:       delab check serialization/01
package csvtoarrow

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// BatchSize is the number of rows in every record batch but the last.
const BatchSize = 1000

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms},
	{Name: "temperature", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "battery", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
}, nil)

// Convert reads the CSV at csvPath (header device,ts,temperature,battery)
// and writes an Arrow IPC file at arrowPath with the schema the lesson
// gives. It returns how many rows it wrote and how many malformed rows it
// skipped.
func Convert(csvPath, arrowPath string) (written, malformed int, err error) {
	in, err := os.Open(csvPath)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	out, err := os.Create(arrowPath)
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()

	mem := memory.NewGoAllocator()
	w, err := ipc.NewFileWriter(out, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		return 0, 0, err
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	dev := b.Field(0).(*array.BinaryDictionaryBuilder)
	ts := b.Field(1).(*array.TimestampBuilder)
	temp := b.Field(2).(*array.Float64Builder)
	batt := b.Field(3).(*array.Uint8Builder)

	pending := 0
	flush := func() error {
		if pending == 0 {
			return nil
		}
		rec := b.NewRecord()
		defer rec.Release()
		pending = 0
		return w.Write(rec)
	}

	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil && err != io.EOF { // header
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return 0, 0, err
		}
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				malformed++
				continue
			}
			w.Close()
			return 0, 0, err
		}
		if len(row) != 4 || row[0] == "" {
			malformed++
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, row[1])
		if err != nil {
			malformed++
			continue
		}
		var tv float64
		hasT := row[2] != ""
		if hasT {
			if tv, err = strconv.ParseFloat(row[2], 64); err != nil {
				malformed++
				continue
			}
		}
		var bv int
		hasB := row[3] != ""
		if hasB {
			if bv, err = strconv.Atoi(row[3]); err != nil || bv < 0 || bv > 100 {
				malformed++
				continue
			}
		}
		if err := dev.AppendString(row[0]); err != nil {
			w.Close()
			return 0, 0, err
		}
		ts.Append(arrow.Timestamp(t.UnixMilli()))
		if hasT {
			temp.Append(tv)
		} else {
			temp.AppendNull()
		}
		if hasB {
			batt.Append(uint8(bv))
		} else {
			batt.AppendNull()
		}
		pending++
		written++
		if pending == BatchSize {
			if err := flush(); err != nil {
				w.Close()
				return 0, 0, err
			}
		}
	}
	if err := flush(); err != nil {
		w.Close()
		return 0, 0, err
	}
	if err := w.Close(); err != nil {
		return 0, 0, err
	}
	return written, malformed, out.Close()
}
