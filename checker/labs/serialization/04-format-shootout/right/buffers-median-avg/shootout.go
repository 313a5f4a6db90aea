// Package shootout measures size and speed of six file formats over the
// same readings, and shows the result as a table and a bar chart.
//
// Read the lesson first: delab read serialization/03
// Check your work:       delab check serialization/04
package shootout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// Formats are the formats to compare, in the order of the table.
var Formats = []string{"json", "csv", "avro", "arrow", "parquet-snappy", "parquet-zstd"}

// Extensions are the file name endings Measure uses, by format.
var Extensions = map[string]string{
	"json": ".jsonl", "csv": ".csv", "avro": ".avro", "arrow": ".arrow",
	"parquet-snappy": ".snappy.parquet", "parquet-zstd": ".zstd.parquet",
}

// Reading is one sensor reading. TS is milliseconds since the epoch (UTC);
// Temp is nil when the sensor sent no temperature.
type Reading struct {
	Device  string   `json:"device" avro:"device"`
	TS      int64    `json:"ts" avro:"ts"`
	Temp    *float64 `json:"temp" avro:"temp"`
	Battery int32    `json:"battery" avro:"battery"`
}

// AvroSchema is the Avro schema of a Reading.
const AvroSchema = `{"type": "record", "name": "Reading", "namespace": "dev.delab", "fields": [
  {"name": "device", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "temp", "type": ["null", "double"], "default": null},
  {"name": "battery", "type": "int"}
]}`

// ArrowSchema is the Arrow schema of a Reading, for Arrow IPC and Parquet.
var ArrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: arrow.BinaryTypes.String},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
	{Name: "temp", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "battery", Type: arrow.PrimitiveTypes.Int32},
}, nil)

// Result is one row of the comparison.
type Result struct {
	Format string        `json:"format"`
	File   string        `json:"file"`   // the file Measure wrote
	Bytes  int64         `json:"bytes"`  // its size on disk
	Encode time.Duration `json:"encode"` // median time of one Encode of all readings
	Decode time.Duration `json:"decode"` // median time of one Decode of the whole file
}

var csvHeader = []string{"device", "ts", "temp", "battery"}

// seekCounter lets ipc.NewFileWriter write into any io.Writer: it only
// ever asks where it is.
type seekCounter struct {
	w io.Writer
	n int64
}

func (s *seekCounter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}

func (s *seekCounter) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekCurrent {
		return s.n, nil
	}
	return 0, errors.New("seekCounter: only Seek(0, io.SeekCurrent) is supported")
}

// noClose hides a sink's Close from the Parquet writer.
type noClose struct{ io.Writer }

func record(rs []Reading) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, ArrowSchema)
	defer b.Release()
	dev := b.Field(0).(*array.StringBuilder)
	ts := b.Field(1).(*array.TimestampBuilder)
	temp := b.Field(2).(*array.Float64Builder)
	batt := b.Field(3).(*array.Int32Builder)
	for _, r := range rs {
		dev.Append(r.Device)
		ts.Append(arrow.Timestamp(r.TS))
		if r.Temp == nil {
			temp.AppendNull()
		} else {
			temp.Append(*r.Temp)
		}
		batt.Append(r.Battery)
	}
	return b.NewRecord()
}

// Encode writes readings to w in format.
func Encode(format string, w io.Writer, rs []Reading) error {
	switch format {
	case "json":
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw) // one object per line: JSON Lines
		for _, r := range rs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return bw.Flush()
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return err
		}
		row := make([]string, 4)
		for _, r := range rs {
			row[0] = r.Device
			row[1] = strconv.FormatInt(r.TS, 10)
			row[2] = ""
			if r.Temp != nil {
				row[2] = strconv.FormatFloat(*r.Temp, 'g', -1, 64)
			}
			row[3] = strconv.FormatInt(int64(r.Battery), 10)
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "avro":
		enc, err := ocf.NewEncoder(AvroSchema, w)
		if err != nil {
			return err
		}
		for i := range rs {
			if err := enc.Encode(&rs[i]); err != nil {
				return err
			}
		}
		return enc.Close()
	case "arrow":
		rec := record(rs)
		defer rec.Release()
		fw, err := ipc.NewFileWriter(&seekCounter{w: w}, ipc.WithSchema(ArrowSchema))
		if err != nil {
			return err
		}
		if err := fw.Write(rec); err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	case "parquet-snappy", "parquet-zstd":
		codec := compress.Codecs.Snappy
		if format == "parquet-zstd" {
			codec = compress.Codecs.Zstd
		}
		rec := record(rs)
		defer rec.Release()
		props := parquet.NewWriterProperties(parquet.WithCompression(codec))
		fw, err := pqarrow.NewFileWriter(ArrowSchema, noClose{w}, props, pqarrow.DefaultWriterProps())
		if err != nil {
			return err
		}
		if err := fw.Write(rec); err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	}
	return fmt.Errorf("unknown format %q", format)
}

// fromArrow turns records with ArrowSchema's columns into readings.
func fromArrow(out []Reading, rec arrow.Record) ([]Reading, error) {
	dev, ok1 := rec.Column(0).(*array.String)
	ts, ok2 := rec.Column(1).(*array.Timestamp)
	temp, ok3 := rec.Column(2).(*array.Float64)
	batt, ok4 := rec.Column(3).(*array.Int32)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return nil, errors.New("unexpected column types")
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		if dev.IsNull(i) || ts.IsNull(i) || batt.IsNull(i) {
			return nil, fmt.Errorf("row %d: null in a required column", len(out)+1)
		}
		r := Reading{Device: dev.Value(i), TS: int64(ts.Value(i)), Battery: batt.Value(i)}
		if temp.IsValid(i) {
			v := temp.Value(i)
			r.Temp = &v
		}
		out = append(out, r)
	}
	return out, nil
}

// sameColumns says whether s has ArrowSchema's field names and types.
func sameColumns(s *arrow.Schema) error {
	if s.NumFields() != ArrowSchema.NumFields() {
		return fmt.Errorf("schema mismatch: %d columns, want %d", s.NumFields(), ArrowSchema.NumFields())
	}
	for i, want := range ArrowSchema.Fields() {
		got := s.Field(i)
		if got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) {
			return fmt.Errorf("schema mismatch: column %d is %s %s, want %s %s", i, got.Name, got.Type, want.Name, want.Type)
		}
	}
	return nil
}

var avroFields = []struct{ name, typ string }{
	{"device", "string"}, {"ts", "long"}, {"temp", "union"}, {"battery", "int"},
}

// Decode reads back what Encode wrote in format. It returns an error for
// data that is truncated, corrupt or of another schema.
func Decode(format string, data []byte) (out []Reading, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%s: corrupt data: %v", format, p)
		}
	}()
	switch format {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var out []Reading
		for {
			var r Reading
			if err := dec.Decode(&r); err == io.EOF {
				return out, nil
			} else if err != nil {
				return nil, fmt.Errorf("json: reading %d: %w", len(out)+1, err)
			}
			out = append(out, r)
		}
	case "csv":
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = 4
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("csv: header: %w", err)
		}
		if strings.Join(header, ",") != strings.Join(csvHeader, ",") {
			return nil, fmt.Errorf("csv: header %q, want %q", strings.Join(header, ","), strings.Join(csvHeader, ","))
		}
		var out []Reading
		for {
			row, err := cr.Read()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("csv: %w", err)
			}
			r := Reading{Device: row[0]}
			if r.TS, err = strconv.ParseInt(row[1], 10, 64); err != nil {
				return nil, fmt.Errorf("csv: reading %d: ts: %w", len(out)+1, err)
			}
			if row[2] != "" {
				v, err := strconv.ParseFloat(row[2], 64)
				if err != nil {
					return nil, fmt.Errorf("csv: reading %d: temp: %w", len(out)+1, err)
				}
				r.Temp = &v
			}
			b, err := strconv.ParseInt(row[3], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("csv: reading %d: battery: %w", len(out)+1, err)
			}
			r.Battery = int32(b)
			out = append(out, r)
		}
	case "avro":
		dec, err := ocf.NewDecoder(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("avro: %w", err)
		}
		rs, ok := dec.Schema().(*avro.RecordSchema)
		if !ok || len(rs.Fields()) != len(avroFields) {
			return nil, errors.New("avro: schema mismatch")
		}
		for i, f := range rs.Fields() {
			if f.Name() != avroFields[i].name || string(f.Type().Type()) != avroFields[i].typ {
				return nil, fmt.Errorf("avro: schema mismatch at field %s", f.Name())
			}
		}
		var out []Reading
		for dec.HasNext() {
			var r Reading
			if err := dec.Decode(&r); err != nil {
				return nil, fmt.Errorf("avro: reading %d: %w", len(out)+1, err)
			}
			out = append(out, r)
		}
		if err := dec.Error(); err != nil {
			return nil, fmt.Errorf("avro: %w", err)
		}
		return out, nil
	case "arrow":
		fr, err := ipc.NewFileReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("arrow: %w", err)
		}
		defer fr.Close()
		if err := sameColumns(fr.Schema()); err != nil {
			return nil, fmt.Errorf("arrow: %w", err)
		}
		var out []Reading
		for i := 0; i < fr.NumRecords(); i++ {
			rec, err := fr.Record(i)
			if err != nil {
				return nil, fmt.Errorf("arrow: batch %d: %w", i, err)
			}
			if out, err = fromArrow(out, rec); err != nil {
				return nil, fmt.Errorf("arrow: %w", err)
			}
		}
		return out, nil
	case "parquet-snappy", "parquet-zstd":
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), parquet.NewReaderProperties(memory.DefaultAllocator), pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("parquet: %w", err)
		}
		defer tbl.Release()
		if err := sameColumns(tbl.Schema()); err != nil {
			return nil, fmt.Errorf("parquet: %w", err)
		}
		tr := array.NewTableReader(tbl, 64*1024)
		defer tr.Release()
		var out []Reading
		for tr.Next() {
			if out, err = fromArrow(out, tr.Record()); err != nil {
				return nil, fmt.Errorf("parquet: %w", err)
			}
		}
		if int64(len(out)) != tbl.NumRows() {
			return nil, errors.New("parquet: short read")
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// median returns the median of ds (the mean of the two middle values
// when there is an even number of them).
func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Measure encodes readings in every format rounds times and decodes each
// result rounds times, writes one file per format into dir, and returns a
// Result per format with the file's size and the median times.
func Measure(dir string, rs []Reading, rounds int) ([]Result, error) {
	if len(rs) == 0 {
		return nil, errors.New("measure: no readings")
	}
	if rounds < 1 {
		rounds = 1
	}
	var results []Result
	for _, f := range Formats {
		enc := make([]time.Duration, rounds)
		var data []byte
		for i := range rounds {
			var buf bytes.Buffer
			start := time.Now()
			err := Encode(f, &buf, rs)
			enc[i] = time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("%s: encode: %w", f, err)
			}
			data = buf.Bytes()
		}
		dec := make([]time.Duration, rounds)
		for i := range rounds {
			start := time.Now()
			back, err := Decode(f, data)
			dec[i] = time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("%s: decode: %w", f, err)
			}
			if len(back) != len(rs) {
				return nil, fmt.Errorf("%s: decoded %d readings, want %d", f, len(back), len(rs))
			}
		}
		path := filepath.Join(dir, "readings"+Extensions[f])
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		results = append(results, Result{Format: f, File: path, Bytes: st.Size(), Encode: median(enc), Decode: median(dec)})
	}
	return results, nil
}

// BarWidth is the length of the longest bar in Render's chart.
const BarWidth = 40

// Render prints results as a table and a bar chart of the sizes.
func Render(w io.Writer, results []Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-16s %12s %14s %14s\n", "format", "bytes", "encode", "decode")
	var largest int64
	for _, r := range results {
		fmt.Fprintf(bw, "%-16s %12d %14s %14s\n", r.Format, r.Bytes, r.Encode, r.Decode)
		largest = max(largest, r.Bytes)
	}
	fmt.Fprintln(bw)
	for _, r := range results {
		n := 1
		if largest > 0 {
			n = max(1, int(math.Round(BarWidth*float64(r.Bytes)/float64(largest))))
		}
		fmt.Fprintf(bw, "%-16s %s %d\n", r.Format, strings.Repeat("█", n), r.Bytes)
	}
	return bw.Flush()
}
