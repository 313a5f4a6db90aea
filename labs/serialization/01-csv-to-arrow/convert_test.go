package csvtoarrow_test

// Your own quick loop, no checker needed:
//
//	go test ./labs/serialization/01-csv-to-arrow/
//
// These tests convert the small CSV in testdata/readings.csv, whose answer
// was worked out by hand, and a generated one long enough for several
// batches, then read your Arrow file back with Arrow's own reader. Add your
// own rows and cases: this file is yours. `delab check serialization/01`
// still decides the grade, on data it generates afresh every run.

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"

	"github.com/delab-dev/delab/labs/serialization/01-csv-to-arrow"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read serialization/00"
}

// wantSchema is the schema of the lesson's table.
var wantSchema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
	{Name: "temperature", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "battery", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
}, nil)

// row is one row read back; nil pointers are nulls.
type row struct {
	Device      string
	TS          time.Time
	Temperature *float64
	Battery     *uint8
}

func (r row) String() string {
	temp, batt := "null", "null"
	if r.Temperature != nil {
		temp = fmt.Sprint(*r.Temperature)
	}
	if r.Battery != nil {
		batt = fmt.Sprint(*r.Battery)
	}
	return fmt.Sprintf("{%s %s %s %s}", r.Device, r.TS.UTC().Format(time.RFC3339Nano), temp, batt)
}

func f64(v float64) *float64 { return &v }
func u8(v uint8) *uint8      { return &v }

// convert runs Convert on csvPath and checks the counts it returns.
func convert(t *testing.T, csvPath string, wantWritten, wantMalformed int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "readings.arrow")
	written, malformed, err := csvtoarrow.Convert(csvPath, out)
	if err != nil {
		t.Fatalf("Convert(%q): %v%s", csvPath, err, reread("Your lab: CSV to Arrow"))
	}
	if written != wantWritten || malformed != wantMalformed {
		t.Errorf("Convert returned written=%d malformed=%d, want %d and %d%s", written, malformed, wantWritten, wantMalformed, reread("Your lab: CSV to Arrow"))
	}
	return out
}

// readBack reads an Arrow IPC file: its rows and the size of each batch.
func readBack(t *testing.T, path string) (rows []row, batches []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("Convert returned no error but wrote no file: %v", err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatalf("not an Arrow IPC file (ipc.NewFileWriter, and Close it): %v%s", err, reread("Arrow's model"))
	}
	defer r.Close()
	if !r.Schema().Equal(wantSchema) {
		t.Fatalf("schema:\n    got  %s\n    want %s%s", r.Schema(), wantSchema, reread("Your lab: CSV to Arrow"))
	}
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.Record(i)
		if err != nil {
			t.Fatalf("batch %d: %v%s", i, err, reread("One dictionary per field in an IPC file"))
		}
		batches = append(batches, int(rec.NumRows()))
		dev := rec.Column(0).(*array.Dictionary)
		dict := dev.Dictionary().(*array.String)
		ts := rec.Column(1).(*array.Timestamp)
		temp := rec.Column(2).(*array.Float64)
		batt := rec.Column(3).(*array.Uint8)
		for j := 0; j < int(rec.NumRows()); j++ {
			x := row{Device: dict.Value(dev.GetValueIndex(j)), TS: time.UnixMilli(int64(ts.Value(j))).UTC()}
			if temp.IsValid(j) {
				x.Temperature = f64(temp.Value(j))
			}
			if batt.IsValid(j) {
				x.Battery = u8(batt.Value(j))
			}
			rows = append(rows, x)
		}
	}
	return rows, batches
}

func TestConvertSample(t *testing.T) {
	out := convert(t, filepath.Join("testdata", "readings.csv"), 5, 5)
	rows, _ := readBack(t, out)
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v.UTC() }
	want := []row{
		{"ap-01", at("2026-11-02T08:15:03Z"), f64(21.5), u8(87)},
		{"ap-02", at("2026-11-02T08:15:03.250Z"), nil, u8(90)}, // +01:00 is one hour ahead of UTC
		{"ap-01", at("2026-11-02T08:15:04Z"), f64(21.75), nil},
		{"ap-03", at("2026-11-02T08:15:07Z"), f64(-3.5), u8(0)},
		{"ap-02", at("2026-11-02T08:15:08Z"), nil, nil},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n    got  %v\n    want %v\n    an empty field is null, not 0, and times are instants in UTC%s%s", rows, want, reread("Arrow's model"), reread("Timestamps with a time zone"))
	}
}

func TestConvertBatches(t *testing.T) {
	// 2500 rows; ap-late first appears in the second batch.
	var b strings.Builder
	b.WriteString("device,ts,temperature,battery\n")
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := range 2500 {
		dev := fmt.Sprintf("ap-%02d", i%7)
		if i >= 1500 && i%2 == 0 {
			dev = "ap-late"
		}
		fmt.Fprintf(&b, "%s,%s,%d.5,%d\n", dev, start.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i%40, i%101)
	}
	csvPath := filepath.Join(t.TempDir(), "many.csv")
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, batches := readBack(t, convert(t, csvPath, 2500, 0))
	if !reflect.DeepEqual(batches, []int{csvtoarrow.BatchSize, csvtoarrow.BatchSize, 500}) {
		t.Errorf("batch sizes = %v, want [%d %d 500]: every batch full but the last%s", batches, csvtoarrow.BatchSize, csvtoarrow.BatchSize, reread("Batch size"))
	}
	if len(rows) == 2500 && rows[1500].Device != "ap-late" {
		t.Errorf("row 1500 has device %q, want ap-late%s", rows[1500].Device, reread("One dictionary per field in an IPC file"))
	}
}
