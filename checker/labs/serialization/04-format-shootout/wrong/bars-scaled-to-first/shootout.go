// Package shootout is the reference solution of
// serialization/04-format-shootout.
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

var csvHeader = []string{"device", "ts", "temp", "battery"}

// Result is one row of the comparison.
type Result struct {
	Format string        `json:"format"`
	File   string        `json:"file"`   // the file Measure wrote
	Bytes  int64         `json:"bytes"`  // its size on disk
	Encode time.Duration `json:"encode"` // median time of one Encode of all readings
	Decode time.Duration `json:"decode"` // median time of one Decode of the whole file
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
		rec := make([]string, 4)
		for _, r := range rs {
			rec[0], rec[1], rec[2] = r.Device, strconv.FormatInt(r.TS, 10), ""
			if r.Temp != nil {
				rec[2] = strconv.FormatFloat(*r.Temp, 'g', -1, 64)
			}
			rec[3] = strconv.FormatInt(int64(r.Battery), 10)
			if err := cw.Write(rec); err != nil {
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
		for _, r := range rs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return enc.Close()
	case "arrow":
		rec := toRecord(rs)
		defer rec.Release()
		fw, err := ipc.NewFileWriter(&offsetWriter{w: w}, ipc.WithSchema(ArrowSchema))
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
		rec := toRecord(rs)
		defer rec.Release()
		props := parquet.NewWriterProperties(parquet.WithCompression(codec))
		fw, err := pqarrow.NewFileWriter(ArrowSchema, nopCloser{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
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

// offsetWriter lets ipc.NewFileWriter, which asks for an io.WriteSeeker
// but only ever asks where it is, write to any io.Writer.
type offsetWriter struct {
	w   io.Writer
	off int64
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	o.off += int64(n)
	return n, err
}

func (o *offsetWriter) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return o.off, errors.New("offsetWriter can only tell its position")
	}
	return o.off, nil
}

// nopCloser keeps the Parquet writer from closing the caller's writer.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func toRecord(rs []Reading) arrow.Record {
	b := array.NewRecordBuilder(memory.DefaultAllocator, ArrowSchema)
	defer b.Release()
	dev := b.Field(0).(*array.StringBuilder)
	ts := b.Field(1).(*array.TimestampBuilder)
	temp := b.Field(2).(*array.Float64Builder)
	bat := b.Field(3).(*array.Int32Builder)
	for _, r := range rs {
		dev.Append(r.Device)
		ts.Append(arrow.Timestamp(r.TS))
		if r.Temp == nil {
			temp.AppendNull()
		} else {
			temp.Append(*r.Temp)
		}
		bat.Append(r.Battery)
	}
	return b.NewRecord()
}

// Decode reads back what Encode wrote in format. It returns an error for
// data that is truncated, corrupt or of another schema.
func Decode(format string, data []byte) ([]Reading, error) {
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
		cr.ReuseRecord = true
		head, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("csv: header: %w", err)
		}
		if !slices.Equal(head, csvHeader) {
			return nil, fmt.Errorf("csv: header is %q, want %q", strings.Join(head, ","), strings.Join(csvHeader, ","))
		}
		var out []Reading
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("csv: %w", err)
			}
			r, err := parseCSV(rec)
			if err != nil {
				line, _ := cr.FieldPos(0)
				return nil, fmt.Errorf("csv: line %d: %w", line, err)
			}
			out = append(out, r)
		}
	case "avro":
		dec, err := ocf.NewDecoder(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("avro: %w", err)
		}
		if dec.Schema().Fingerprint() != avroReading.Fingerprint() {
			return nil, fmt.Errorf("avro: the file's schema is not the Reading schema: %s", dec.Schema())
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
		if !sameFields(fr.Schema(), ArrowSchema) {
			return nil, fmt.Errorf("arrow: the columns are (%s), want (%s)", fieldList(fr.Schema()), fieldList(ArrowSchema))
		}
		var out []Reading
		for i := 0; i < fr.NumRecords(); i++ {
			rec, err := fr.Record(i)
			if err != nil {
				return nil, fmt.Errorf("arrow: batch %d: %w", i, err)
			}
			out = appendRecord(out, rec)
		}
		return out, nil
	case "parquet-snappy", "parquet-zstd":
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("parquet: %w", err)
		}
		defer tbl.Release()
		if !sameFields(tbl.Schema(), ArrowSchema) {
			return nil, fmt.Errorf("parquet: the columns are (%s), want (%s)", fieldList(tbl.Schema()), fieldList(ArrowSchema))
		}
		tr := array.NewTableReader(tbl, 1<<16)
		defer tr.Release()
		var out []Reading
		for tr.Next() {
			out = appendRecord(out, tr.Record())
		}
		return out, tr.Err()
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// avroReading is AvroSchema parsed once.
var avroReading = avro.MustParse(AvroSchema)

// sameFields compares names, types and nullability, and not the metadata
// Parquet adds to every field.
func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i, f := range a.Fields() {
		g := b.Field(i)
		if f.Name != g.Name || f.Nullable != g.Nullable || !arrow.TypeEqual(f.Type, g.Type) {
			return false
		}
	}
	return true
}

// fieldList describes a schema on one line: "device utf8, ts utf8".
func fieldList(s *arrow.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		parts = append(parts, f.Name+" "+f.Type.String())
	}
	return strings.Join(parts, ", ")
}

func parseCSV(rec []string) (Reading, error) {
	var r Reading
	r.Device = rec[0]
	ts, err := strconv.ParseInt(rec[1], 10, 64)
	if err != nil {
		return r, fmt.Errorf("ts: %w", err)
	}
	r.TS = ts
	if rec[2] != "" {
		t, err := strconv.ParseFloat(rec[2], 64)
		if err != nil {
			return r, fmt.Errorf("temp: %w", err)
		}
		r.Temp = &t
	}
	b, err := strconv.ParseInt(rec[3], 10, 32)
	if err != nil {
		return r, fmt.Errorf("battery: %w", err)
	}
	r.Battery = int32(b)
	return r, nil
}

func appendRecord(out []Reading, rec arrow.Record) []Reading {
	dev := rec.Column(0).(*array.String)
	ts := rec.Column(1).(*array.Timestamp)
	temp := rec.Column(2).(*array.Float64)
	bat := rec.Column(3).(*array.Int32)
	for i := 0; i < int(rec.NumRows()); i++ {
		r := Reading{Device: dev.Value(i), TS: int64(ts.Value(i)), Battery: bat.Value(i)}
		if temp.IsValid(i) {
			t := temp.Value(i)
			r.Temp = &t
		}
		out = append(out, r)
	}
	return out
}

// Measure encodes readings in every format rounds times and decodes each
// result rounds times, writes one file per format into dir, and returns a
// Result per format with the file's size and the median times.
func Measure(dir string, rs []Reading, rounds int) ([]Result, error) {
	if len(rs) == 0 {
		return nil, errors.New("no readings to measure")
	}
	if rounds < 1 {
		return nil, fmt.Errorf("rounds must be at least 1, not %d", rounds)
	}
	var out []Result
	for _, f := range Formats {
		var buf bytes.Buffer
		var enc, dec []time.Duration
		for range rounds {
			buf.Reset()
			start := time.Now()
			if err := Encode(f, &buf, rs); err != nil {
				return nil, fmt.Errorf("%s: encode: %w", f, err)
			}
			enc = append(enc, time.Since(start))
		}
		for range rounds {
			start := time.Now()
			back, err := Decode(f, buf.Bytes())
			if err != nil {
				return nil, fmt.Errorf("%s: decode: %w", f, err)
			}
			dec = append(dec, time.Since(start))
			if len(back) != len(rs) {
				return nil, fmt.Errorf("%s: decoded %d readings, encoded %d", f, len(back), len(rs))
			}
		}
		path := filepath.Join(dir, "readings"+Extensions[f])
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Format: f, File: path, Bytes: st.Size(), Encode: median(enc), Decode: median(dec)})
	}
	return out, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BarWidth is the length of the longest bar in Render's chart.
const BarWidth = 40

// Render prints results as a table and a bar chart of the sizes.
func Render(w io.Writer, results []Result) error {
	// Wrong: the first row is the largest only when the caller sorts
	// them so; Render must scale to the largest of all.
	var largest int64
	if len(results) > 0 {
		largest = results[0].Bytes
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %12s %12s %12s\n", "format", "bytes", "encode", "decode")
	for _, r := range results {
		fmt.Fprintf(&b, "%-16s %12d %12s %12s\n", r.Format, r.Bytes, r.Encode.Round(10*time.Microsecond), r.Decode.Round(10*time.Microsecond))
	}
	b.WriteString("\nsize\n")
	for _, r := range results {
		n := 0
		if largest > 0 {
			n = max(1, int(math.Round(BarWidth*float64(r.Bytes)/float64(largest))))
		}
		fmt.Fprintf(&b, "%-16s %s %d\n", r.Format, strings.Repeat("█", n), r.Bytes)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
