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
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
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

// posWriter counts bytes so the Arrow file writer can ask where it is.
type posWriter struct {
	io.Writer
	pos int64
}

func (p *posWriter) Write(b []byte) (int, error) {
	n, err := p.Writer.Write(b)
	p.pos += int64(n)
	return n, err
}

func (p *posWriter) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekCurrent || off != 0 {
		return p.pos, fmt.Errorf("posWriter cannot seek (%d, %d)", off, whence)
	}
	return p.pos, nil
}

// writerOnly strips Close (and everything else) from a writer, so the
// Parquet writer cannot close a sink it does not own.
type writerOnly struct{ w io.Writer }

func (o writerOnly) Write(b []byte) (int, error) { return o.w.Write(b) }

const arrowBatch = 4096

var avroSchema = avro.MustParse(AvroSchema)

// batches calls fn with records of at most n readings each.
func batches(rs []Reading, n int, fn func(arrow.Record) error) error {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, ArrowSchema)
	defer b.Release()
	for start := 0; start < len(rs); start += n {
		for _, r := range rs[start:min(start+n, len(rs))] {
			b.Field(0).(*array.StringBuilder).Append(r.Device)
			b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(r.TS))
			tb := b.Field(2).(*array.Float64Builder)
			if r.Temp != nil {
				tb.Append(*r.Temp)
			} else {
				tb.AppendNull()
			}
			b.Field(3).(*array.Int32Builder).Append(r.Battery)
		}
		rec := b.NewRecord()
		err := fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func csvField(s string) string {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
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
		bw := bufio.NewWriter(w)
		bw.WriteString("device,ts,temp,battery\n")
		var line []byte
		for _, r := range rs {
			line = append(line[:0], csvField(r.Device)...)
			line = append(line, ',')
			line = strconv.AppendInt(line, r.TS, 10)
			line = append(line, ',')
			if r.Temp != nil {
				line = strconv.AppendFloat(line, *r.Temp, 'g', -1, 64)
			}
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(r.Battery), 10)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
		return bw.Flush()
	case "avro":
		enc, err := ocf.NewEncoderWithSchema(avroSchema, w, ocf.WithCodec(ocf.Snappy))
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		if err := enc.Flush(); err != nil {
			return err
		}
		return enc.Close()
	case "arrow":
		fw, err := ipc.NewFileWriter(&posWriter{Writer: w}, ipc.WithSchema(ArrowSchema))
		if err != nil {
			return err
		}
		if err := batches(rs, arrowBatch, fw.Write); err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	case "parquet-snappy", "parquet-zstd":
		codec := map[string]compress.Compression{
			"parquet-snappy": compress.Codecs.Snappy,
			"parquet-zstd":   compress.Codecs.Zstd,
		}[format]
		fw, err := pqarrow.NewFileWriter(ArrowSchema, writerOnly{w},
			parquet.NewWriterProperties(parquet.WithCompression(codec), parquet.WithDictionaryDefault(true)),
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return err
		}
		if err := batches(rs, len(rs)+1, fw.WriteBuffered); err != nil {
			fw.Close()
			return err
		}
		return fw.Close()
	default:
		return fmt.Errorf("encode: no format %q", format)
	}
}

func checkSchema(got *arrow.Schema) error {
	if got.NumFields() != len(ArrowSchema.Fields()) {
		return fmt.Errorf("has %d columns, want %d", got.NumFields(), len(ArrowSchema.Fields()))
	}
	for _, want := range ArrowSchema.Fields() {
		idx := got.FieldIndices(want.Name)
		if len(idx) != 1 {
			return fmt.Errorf("no column %s", want.Name)
		}
		if f := got.Field(idx[0]); !arrow.TypeEqual(f.Type, want.Type) {
			return fmt.Errorf("column %s is %s, want %s", want.Name, f.Type, want.Type)
		}
	}
	return nil
}

func appendRecord(out []Reading, rec arrow.Record) []Reading {
	sch := rec.Schema()
	col := func(name string) arrow.Array { return rec.Column(sch.FieldIndices(name)[0]) }
	dev := col("device").(*array.String)
	ts := col("ts").(*array.Timestamp)
	temp := col("temp").(*array.Float64)
	batt := col("battery").(*array.Int32)
	for i := 0; i < int(rec.NumRows()); i++ {
		r := Reading{Device: dev.Value(i), TS: int64(ts.Value(i)), Battery: batt.Value(i)}
		if !temp.IsNull(i) {
			t := temp.Value(i)
			r.Temp = &t
		}
		out = append(out, r)
	}
	return out
}

func decodeCSV(data []byte) ([]Reading, error) {
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("no header")
	}
	if len(rows[0]) != 4 || rows[0][0] != "device" || rows[0][1] != "ts" || rows[0][2] != "temp" || rows[0][3] != "battery" {
		return nil, fmt.Errorf("header is %v, want [device ts temp battery]", rows[0])
	}
	out := make([]Reading, 0, len(rows)-1)
	for n, row := range rows[1:] {
		ts, err := strconv.ParseInt(row[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", n+2, err)
		}
		batt, err := strconv.ParseInt(row[3], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", n+2, err)
		}
		r := Reading{Device: row[0], TS: ts, Battery: int32(batt)}
		if row[2] != "" {
			t, err := strconv.ParseFloat(row[2], 64)
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", n+2, err)
			}
			r.Temp = &t
		}
		out = append(out, r)
	}
	return out, nil
}

func decodeAvro(data []byte) ([]Reading, error) {
	dec, err := ocf.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	rec, ok := dec.Schema().(*avro.RecordSchema)
	if !ok {
		return nil, errors.New("writer schema is not a record")
	}
	want := map[string]avro.Type{"device": avro.String, "ts": avro.Long, "temp": avro.Union, "battery": avro.Int}
	if len(rec.Fields()) != len(want) {
		return nil, fmt.Errorf("writer schema has %d fields, want %d", len(rec.Fields()), len(want))
	}
	for _, f := range rec.Fields() {
		if t, ok := want[f.Name()]; !ok || f.Type().Type() != t {
			return nil, fmt.Errorf("writer schema field %s %s is not expected", f.Name(), f.Type().Type())
		}
	}
	var out []Reading
	for dec.HasNext() {
		var r Reading
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, dec.Error()
}

func decodeArrow(data []byte) ([]Reading, error) {
	fr, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		return nil, err
	}
	defer fr.Close()
	if err := checkSchema(fr.Schema()); err != nil {
		return nil, err
	}
	var out []Reading
	for {
		rec, err := fr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = appendRecord(out, rec)
	}
}

func decodeParquet(data []byte) ([]Reading, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 8192}, memory.NewGoAllocator())
	if err != nil {
		return nil, err
	}
	sch, err := fr.Schema()
	if err != nil {
		return nil, err
	}
	if err := checkSchema(sch); err != nil {
		return nil, err
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		return nil, err
	}
	defer rr.Release()
	out := make([]Reading, 0, pf.NumRows())
	for rr.Next() {
		out = appendRecord(out, rr.Record())
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		return nil, err
	}
	if int64(len(out)) != pf.NumRows() {
		return nil, fmt.Errorf("read %d rows, the footer says %d", len(out), pf.NumRows())
	}
	return out, nil
}

// Decode reads back what Encode wrote in format. It returns an error for
// data that is truncated, corrupt or of another schema.
func Decode(format string, data []byte) (rs []Reading, err error) {
	defer func() {
		if p := recover(); p != nil {
			rs, err = nil, fmt.Errorf("decode %s: %v", format, p)
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
		rs, err = decodeCSV(data)
	case "avro":
		rs, err = decodeAvro(data)
	case "arrow":
		rs, err = decodeArrow(data)
	case "parquet-snappy", "parquet-zstd":
		rs, err = decodeParquet(data)
	default:
		return nil, fmt.Errorf("decode: no format %q", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	return rs, nil
}

// timeIt runs fn rounds times and returns the median single run (the
// lower middle one for an even number of rounds).
func timeIt(rounds int, fn func() error) (time.Duration, error) {
	times := make([]time.Duration, 0, rounds)
	for range rounds {
		t0 := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	return times[(len(times)-1)/2], nil
}

// Measure encodes readings in every format rounds times and decodes each
// result rounds times, writes one file per format into dir, and returns a
// Result per format with the file's size and the median times.
func Measure(dir string, rs []Reading, rounds int) ([]Result, error) {
	if len(rs) == 0 {
		return nil, errors.New("nothing to measure: no readings")
	}
	if rounds <= 0 {
		return nil, fmt.Errorf("rounds must be at least 1, got %d", rounds)
	}
	out := make([]Result, 0, len(Formats))
	for _, format := range Formats {
		var encoded bytes.Buffer
		encTime, err := timeIt(rounds, func() error {
			encoded.Reset()
			return Encode(format, &encoded, rs)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		data := encoded.Bytes()
		decTime, err := timeIt(rounds, func() error {
			_, err := Decode(format, data)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}

		path := filepath.Join(dir, "readings"+Extensions[format])
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Format: format, File: path, Bytes: info.Size(), Encode: encTime, Decode: decTime})
	}
	return out, nil
}

// BarWidth is the length of the longest bar in Render's chart.
const BarWidth = 40

// Render prints results as a table and a bar chart of the sizes.
func Render(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "FORMAT\tBYTES\tENCODE\tDECODE\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t\n", r.Format, r.Bytes, r.Encode, r.Decode)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var largest int64
	for _, r := range results {
		if r.Bytes > largest {
			largest = r.Bytes
		}
	}
	if _, err := fmt.Fprintln(w, "\nsize"); err != nil {
		return err
	}
	for _, r := range results {
		n := 1
		if largest > 0 {
			n = int(math.Round(float64(BarWidth) * float64(r.Bytes) / float64(largest)))
			if n < 1 {
				n = 1
			}
		}
		if _, err := fmt.Fprintf(w, "%-15s |%s\n", r.Format, strings.Repeat("█", n)); err != nil {
			return err
		}
	}
	return nil
}
