// Package shootout measures size and speed of six file formats over the
// same readings, and shows the result as a table and a bar chart.
//
// Read the lesson first: delab read serialization/03
// Check your work:       delab check serialization/04
package shootout

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow/go/v15/arrow" // with arrow/array, arrow/ipc, parquet/pqarrow
	_ "github.com/hamba/avro/v2/ocf"       // Avro container files
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
	}
	// TODO: csv, avro, arrow, parquet-snappy, parquet-zstd.
	return fmt.Errorf("Encode(%q) is not implemented yet (lesson section \"Your lab: measure the formats\")", format)
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
	}
	// TODO: csv, avro, arrow, parquet-snappy, parquet-zstd.
	return nil, fmt.Errorf("Decode(%q) is not implemented yet (lesson section \"Your lab: measure the formats\")", format)
}

// Measure encodes readings in every format rounds times and decodes each
// result rounds times, writes one file per format into dir, and returns a
// Result per format with the file's size and the median times.
func Measure(dir string, rs []Reading, rounds int) ([]Result, error) {
	// TODO: see the lesson section "Measuring honestly".
	return nil, errors.New("Measure is not implemented yet (lesson section \"Measuring honestly\")")
}

// BarWidth is the length of the longest bar in Render's chart.
const BarWidth = 40

// Render prints results as a table and a bar chart of the sizes.
func Render(w io.Writer, results []Result) error {
	// TODO: see the lesson section "Your lab: measure the formats".
	return errors.New("Render is not implemented yet (lesson section \"Your lab: measure the formats\")")
}
