// Package csvtoarrow is a wrong solution of serialization/01-csv-to-arrow:
// it cuts a batch every 1000 input lines, so skipped rows leave batches short.
package csvtoarrow

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// BatchSize is the number of rows in every record batch but the last.
const BatchSize = 1000

var deviceType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: deviceType},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms},
	{Name: "temperature", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "battery", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
}, nil)

type row struct {
	device      string
	ts          time.Time
	temperature *float64
	battery     *uint8
}

// parse validates one CSV record; ok is false for a malformed one.
func parse(f []string) (r row, ok bool) {
	if len(f) != 4 || f[0] == "" {
		return r, false
	}
	ts, err := time.Parse(time.RFC3339Nano, f[1])
	if err != nil {
		return r, false
	}
	r = row{device: f[0], ts: ts}
	if f[2] != "" {
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return r, false
		}
		r.temperature = &v
	}
	if f[3] != "" {
		v, err := strconv.Atoi(f[3])
		if err != nil || v < 0 || v > 100 {
			return r, false
		}
		b := uint8(v)
		r.battery = &b
	}
	return r, true
}

// each calls fn for every data record of the CSV, header skipped.
func each(path string, fn func([]string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1 // a wrong field count is a malformed row, not a fatal error
	if _, err := cr.Read(); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Convert reads the CSV at csvPath and writes an Arrow IPC file at
// arrowPath. An IPC file allows one dictionary per field, so a first pass
// collects the devices and the second encodes every batch against them.
func Convert(csvPath, arrowPath string) (written, malformed int, err error) {
	seen := map[string]bool{}
	err = each(csvPath, func(f []string) error {
		if r, ok := parse(f); ok {
			seen[r.device] = true
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	devices := make([]string, 0, len(seen))
	for d := range seen {
		devices = append(devices, d)
	}
	sort.Strings(devices)
	index := map[string]int32{}
	mem := memory.DefaultAllocator
	db := array.NewStringBuilder(mem)
	for i, d := range devices {
		index[d] = int32(i)
		db.Append(d)
	}
	dict := db.NewArray()
	defer dict.Release()

	out, err := os.Create(arrowPath)
	if err != nil {
		return 0, 0, err
	}
	defer out.Close()
	w, err := ipc.NewFileWriter(out, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err != nil {
		return 0, 0, err
	}
	idx := array.NewInt32Builder(mem)
	ts := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	temp := array.NewFloat64Builder(mem)
	batt := array.NewUint8Builder(mem)
	pending := 0
	flush := func() error {
		if pending == 0 {
			return nil
		}
		indices := idx.NewArray()
		devCol := array.NewDictionaryArray(deviceType, indices, dict)
		cols := []arrow.Array{devCol, ts.NewArray(), temp.NewArray(), batt.NewArray()}
		rec := array.NewRecord(schema, cols, int64(pending))
		err := w.Write(rec)
		rec.Release()
		indices.Release()
		for _, c := range cols {
			c.Release()
		}
		written += pending
		pending = 0
		return err
	}
	lines := 0
	err = each(csvPath, func(f []string) error {
		lines++
		r, ok := parse(f)
		if !ok {
			malformed++
			if lines%BatchSize == 0 {
				return flush()
			}
			return nil
		}
		idx.Append(index[r.device])
		ts.Append(arrow.Timestamp(r.ts.UnixMilli()))
		if r.temperature != nil {
			temp.Append(*r.temperature)
		} else {
			temp.AppendNull()
		}
		if r.battery != nil {
			batt.Append(*r.battery)
		} else {
			batt.AppendNull()
		}
		if pending++; lines%BatchSize == 0 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		w.Close()
		return written, malformed, err
	}
	if err := w.Close(); err != nil {
		return written, malformed, err
	}
	return written, malformed, out.Close()
}
