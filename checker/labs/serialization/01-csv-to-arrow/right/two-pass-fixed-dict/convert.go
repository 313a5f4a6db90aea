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

var dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: dictType},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms},
	{Name: "temperature", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "battery", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
}, nil)

type parsed struct {
	device  string
	ts      int64
	temp    float64
	hasTemp bool
	batt    uint8
	hasBatt bool
}

func parseRow(rec []string) (parsed, bool) {
	var p parsed
	if len(rec) != 4 || rec[0] == "" {
		return p, false
	}
	p.device = rec[0]
	t, err := time.Parse(time.RFC3339Nano, rec[1])
	if err != nil {
		return p, false
	}
	p.ts = t.UnixMilli()
	if rec[2] != "" {
		v, err := strconv.ParseFloat(rec[2], 64)
		if err != nil {
			return p, false
		}
		p.temp, p.hasTemp = v, true
	}
	if rec[3] != "" {
		v, err := strconv.Atoi(rec[3])
		if err != nil || v < 0 || v > 100 {
			return p, false
		}
		p.batt, p.hasBatt = uint8(v), true
	}
	return p, true
}

// eachRow calls fn for every data row of the CSV (header skipped); rows
// the CSV reader itself cannot parse are reported as nil.
func eachRow(path string, fn func(rec []string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if header {
				header = false
				continue
			}
			fn(nil)
			continue
		}
		if err != nil {
			return err
		}
		if header {
			header = false
			continue
		}
		fn(rec)
	}
}

// Convert reads the CSV at csvPath (header device,ts,temperature,battery)
// and writes an Arrow IPC file at arrowPath with the schema the lesson
// gives. It returns how many rows it wrote and how many malformed rows it
// skipped.
func Convert(csvPath, arrowPath string) (written, malformed int, err error) {
	mem := memory.DefaultAllocator

	// Pass 1: the distinct devices of the valid rows, in first-seen order.
	index := map[string]int32{}
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	err = eachRow(csvPath, func(rec []string) {
		p, ok := parseRow(rec)
		if !ok {
			return
		}
		if _, seen := index[p.device]; !seen {
			index[p.device] = int32(len(index))
			sb.Append(p.device)
		}
	})
	if err != nil {
		return 0, 0, err
	}
	dict := sb.NewArray()
	defer dict.Release()

	// Pass 2: encode every batch against that one dictionary.
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
	tsb := array.NewTimestampBuilder(mem, arrow.FixedWidthTypes.Timestamp_ms.(*arrow.TimestampType))
	tb := array.NewFloat64Builder(mem)
	bb := array.NewUint8Builder(mem)
	defer idx.Release()
	defer tsb.Release()
	defer tb.Release()
	defer bb.Release()
	pending := 0

	flush := func() error {
		if pending == 0 {
			return nil
		}
		ind := idx.NewArray()
		dev := array.NewDictionaryArray(dictType, ind, dict)
		ind.Release()
		cols := []arrow.Array{dev, tsb.NewArray(), tb.NewArray(), bb.NewArray()}
		rec := array.NewRecord(schema, cols, int64(pending))
		for _, c := range cols {
			c.Release()
		}
		defer rec.Release()
		pending = 0
		return w.Write(rec)
	}

	var werr error
	err = eachRow(csvPath, func(rec []string) {
		if werr != nil {
			return
		}
		p, ok := parseRow(rec)
		if !ok {
			malformed++
			return
		}
		idx.Append(index[p.device])
		tsb.Append(arrow.Timestamp(p.ts))
		if p.hasTemp {
			tb.Append(p.temp)
		} else {
			tb.AppendNull()
		}
		if p.hasBatt {
			bb.Append(p.batt)
		} else {
			bb.AppendNull()
		}
		pending++
		written++
		if pending == BatchSize {
			werr = flush()
		}
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		w.Close()
		return 0, 0, err
	}
	if err := w.Close(); err != nil {
		return 0, 0, err
	}
	if err := out.Close(); err != nil {
		return 0, 0, err
	}
	return written, malformed, nil
}
