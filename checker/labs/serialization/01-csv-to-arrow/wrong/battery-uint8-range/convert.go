// MISTAKE: Relies on ParseUint(s, 10, 8) to validate the battery, so values 101..255 are accepted instead of being malformed.
// RULE: Your lab: CSV to Arrow: "A row is malformed when ... the battery is not an integer from 0 to 100".
// Package csvtoarrow converts CSV device readings into an Arrow IPC file.
//
// Read the lesson first: delab read serialization/00
// Check your work:       delab check serialization/01
package csvtoarrow

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// BatchSize is the number of rows in every record batch but the last.
const BatchSize = 1000

type reading struct {
	device string
	ts     arrow.Timestamp
	temp   *float64
	batt   *uint8
}

func toReading(fields []string) (*reading, error) {
	if len(fields) != 4 {
		return nil, fmt.Errorf("%d fields", len(fields))
	}
	if fields[0] == "" {
		return nil, fmt.Errorf("empty device")
	}
	t, err := time.Parse(time.RFC3339, fields[1])
	if err != nil {
		return nil, err
	}
	r := &reading{device: fields[0], ts: arrow.Timestamp(t.UTC().UnixNano() / int64(time.Millisecond))}
	if fields[2] != "" {
		v, err := strconv.ParseFloat(fields[2], 64)
		if err != nil {
			return nil, err
		}
		r.temp = &v
	}
	if fields[3] != "" {
		v, err := strconv.ParseUint(fields[3], 10, 8)
		if err != nil {
			return nil, err
		}
		// ParseUint with bitSize 8 already rejects anything out of range.
		b := uint8(v)
		r.batt = &b
	}
	return r, nil
}

// Convert reads the CSV at csvPath (header device,ts,temperature,battery)
// and writes an Arrow IPC file at arrowPath with the schema the lesson
// gives. It returns how many rows it wrote and how many malformed rows it
// skipped.
func Convert(csvPath, arrowPath string) (int, int, error) {
	in, err := os.Open(csvPath)
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()

	var rows []*reading
	malformed := 0
	seen := map[string]bool{}

	cr := csv.NewReader(bufio.NewReader(in))
	cr.FieldsPerRecord = -1
	first := true
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if first {
			first = false
			if err != nil || strings.Join(fields, ",") == "device,ts,temperature,battery" {
				continue
			}
		}
		if err != nil {
			if _, ok := err.(*csv.ParseError); ok {
				malformed++
				continue
			}
			return 0, 0, err
		}
		r, perr := toReading(fields)
		if perr != nil {
			malformed++
			continue
		}
		rows = append(rows, r)
		seen[r.device] = true
	}

	devices := make([]string, 0, len(seen))
	for d := range seen {
		devices = append(devices, d)
	}
	sort.Strings(devices)

	mem := memory.NewGoAllocator()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	tsType := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "device", Type: dictType, Nullable: false},
		{Name: "ts", Type: tsType, Nullable: false},
		{Name: "temperature", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "battery", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
	}, nil)

	sb := array.NewStringBuilder(mem)
	sb.AppendValues(devices, nil)
	dict := sb.NewArray()
	sb.Release()
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

	for start := 0; start < len(rows); start += BatchSize {
		end := min(start+BatchSize, len(rows))
		db := array.NewDictionaryBuilderWithDict(mem, dictType, dict).(*array.BinaryDictionaryBuilder)
		tb := array.NewTimestampBuilder(mem, tsType)
		fb := array.NewFloat64Builder(mem)
		ub := array.NewUint8Builder(mem)
		for _, r := range rows[start:end] {
			if err := db.AppendString(r.device); err != nil {
				w.Close()
				return 0, 0, err
			}
			tb.Append(r.ts)
			if r.temp == nil {
				fb.AppendNull()
			} else {
				fb.Append(*r.temp)
			}
			if r.batt == nil {
				ub.AppendNull()
			} else {
				ub.Append(*r.batt)
			}
		}
		cols := []arrow.Array{db.NewArray(), tb.NewArray(), fb.NewArray(), ub.NewArray()}
		db.Release()
		tb.Release()
		fb.Release()
		ub.Release()
		rec := array.NewRecord(schema, cols, int64(end-start))
		for _, c := range cols {
			c.Release()
		}
		err := w.Write(rec)
		rec.Release()
		if err != nil {
			w.Close()
			return 0, 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, 0, err
	}
	if err := out.Close(); err != nil {
		return 0, 0, err
	}
	return len(rows), malformed, nil
}
