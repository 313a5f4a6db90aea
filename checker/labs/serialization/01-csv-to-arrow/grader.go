// Package csvtoarrow grades the lab "CSV to Arrow": it writes CSV whose
// typed contents it knows, runs the learner's Convert, and reads the Arrow
// IPC file back with Arrow's own reader: schema, values, nulls, batches.
package csvtoarrow

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/labs/serialization/parquetcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/serialization/01-csv-to-arrow.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"schema": func(ctx context.Context, h *grader.Harness) error {
			_, path, err := convert(ctx, h, 1500, 0)
			if err != nil {
				return err
			}
			return readArrow(path, h.Logf, judgeSchema)
		},
		"values": func(ctx context.Context, h *grader.Harness) error {
			truth, path, err := convert(ctx, h, 2500, 0)
			if err != nil {
				return err
			}
			return readArrow(path, h.Logf, func(f *ipc.FileReader) error { return compareRows(h.Logf, truth, f) })
		},
		"batches": func(ctx context.Context, h *grader.Harness) error {
			_, path, err := convert(ctx, h, 3500, 0)
			if err != nil {
				return err
			}
			return readArrow(path, h.Logf, func(f *ipc.FileReader) error { return judgeBatches(h.Logf, f) })
		},
		"malformed-rows": func(ctx context.Context, h *grader.Harness) error {
			truth, path, err := convert(ctx, h, 2000, 0.06)
			if err != nil {
				return err
			}
			return readArrow(path, h.Logf, func(f *ipc.FileReader) error { return judgeMalformed(h.Logf, truth, f) })
		},
	},
}

func judgeSchema(f *ipc.FileReader) error {
	if !f.Schema().Equal(Schema) {
		return grader.Mismatch("the file's schema is not the required one", Schema.String(), f.Schema().String())
	}
	return nil
}

// batchSizes reads the rows of every record batch, and logs them.
func batchSizes(logf func(string, ...any), f *ipc.FileReader) ([]int64, error) {
	var sizes []int64
	for i := 0; i < f.NumRecords(); i++ {
		rec, err := f.Record(i)
		if err != nil {
			return nil, grader.Failf("record batch %d cannot be read: %v", i, err)
		}
		sizes = append(sizes, rec.NumRows())
	}
	logf("record batch sizes: %v", sizes)
	return sizes, nil
}

func judgeBatches(logf func(string, ...any), f *ipc.FileReader) error {
	sizes, err := batchSizes(logf, f)
	if err != nil {
		return err
	}
	want := []int64{1000, 1000, 1000, 500}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		return grader.Mismatch("the batch sizes are wrong", want, sizes)
	}
	return nil
}

func judgeMalformed(logf func(string, ...any), truth *truth, f *ipc.FileReader) error {
	if truth.returned.Malformed != truth.malformed || truth.returned.Written != len(truth.rows) {
		return grader.Mismatch("Convert's counts are wrong",
			fmt.Sprintf("written %d, malformed %d", len(truth.rows), truth.malformed),
			fmt.Sprintf("written %d, malformed %d", truth.returned.Written, truth.returned.Malformed))
	}
	if err := compareRows(logf, truth, f); err != nil {
		return err
	}
	// Batches count written rows, not input lines: skipped rows must not
	// leave a batch short.
	sizes, err := batchSizes(logf, f)
	if err != nil {
		return err
	}
	var want []int64
	for left := int64(len(truth.rows)); left > 0; left -= 1000 {
		want = append(want, min(left, 1000))
	}
	if fmt.Sprint(sizes) != fmt.Sprint(want) {
		return grader.Mismatch(fmt.Sprintf("with malformed rows skipped, the batches are not 1000 written rows each (only the last smaller): %d rows were written", len(truth.rows)), want, sizes)
	}
	return nil
}

// Schema is the schema the lab asks for.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms},
	{Name: "temperature", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "battery", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
}, nil)

type row struct {
	Device      string
	TS          int64 // ms since the epoch, UTC
	Temperature *float64
	Battery     *uint8
}

type truth struct {
	rows []row
	// lines are the CSV lines of rows, for messages.
	lines     []string
	malformed int
	returned  struct {
		Written   int `json:"written"`
		Malformed int `json:"malformed"`
	}
}

var offsets = []struct {
	text    string
	seconds int
}{{"Z", 0}, {"+01:00", 3600}, {"-05:00", -5 * 3600}, {"+05:30", 5*3600 + 1800}, {"+00:00", 0}}

// edge is one rule's boundary case, placed at a fixed row whatever the
// seed. This is the lab's boundary table: rule → the row that exercises
// it → the check that judges it (values for the valid cases, which every
// check's data holds; malformed-rows for the malformed ones).
type edge struct {
	rule  string
	row   int // 0-based data row; negative counts from the end
	valid bool
	// edit changes a valid row; fields writes it.
	edit   func(rw *row, at time.Time)
	fields func(rw row, at time.Time) []string
	// bad turns the row's fields into a malformed line.
	bad func(f []string) []string
}

func csvFields(rw row, ts string) []string {
	temp, batt := "", ""
	if rw.Temperature != nil {
		temp = strconv.FormatFloat(*rw.Temperature, 'f', -1, 64)
	}
	if rw.Battery != nil {
		batt = strconv.Itoa(int(*rw.Battery))
	}
	return []string{rw.Device, ts, temp, batt}
}

func utcMillis(rw row, at time.Time) []string {
	return csvFields(rw, at.UTC().Format("2006-01-02T15:04:05.000Z"))
}

func u8(v uint8) *uint8 { return &v }

// lateDevice first appears after the first batch: the one dictionary of
// an IPC file must hold it (see the lesson's "One dictionary per field").
const lateDevice = "ap-777"

var edges = []edge{
	{rule: "battery 0 is valid", row: 3, valid: true, edit: func(rw *row, _ time.Time) { rw.Battery = u8(0) }, fields: utcMillis},
	{rule: "battery 100 is valid", row: 4, valid: true, edit: func(rw *row, _ time.Time) { rw.Battery = u8(100) }, fields: utcMillis},
	{rule: "both nullable fields empty", row: 5, valid: true, edit: func(rw *row, _ time.Time) { rw.Temperature, rw.Battery = nil, nil }, fields: utcMillis},
	{rule: "RFC 3339 without fractional seconds", row: 6, valid: true,
		edit: func(rw *row, at time.Time) { rw.TS = at.Truncate(time.Second).UnixMilli() },
		fields: func(rw row, at time.Time) []string {
			return csvFields(rw, at.Truncate(time.Second).In(time.FixedZone("", 3600)).Format(time.RFC3339))
		}},
	{rule: "a negative offset: the local date is the day before the UTC date", row: 7, valid: true,
		edit: func(*row, time.Time) {},
		fields: func(rw row, at time.Time) []string {
			return csvFields(rw, at.In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05.000-07:00"))
		}},
	{rule: "a device first seen after the first batch", row: 1100, valid: true, edit: func(rw *row, _ time.Time) { rw.Device = lateDevice }, fields: utcMillis},
	{rule: "the late device again", row: -2, valid: true, edit: func(rw *row, _ time.Time) { rw.Device = lateDevice }, fields: utcMillis},
	{rule: "battery 101 is out of range", row: 9, bad: func(f []string) []string { f[3] = "101"; return f }},
	{rule: "battery -1 is out of range", row: 10, bad: func(f []string) []string { f[3] = "-1"; return f }},
	{rule: "five fields", row: 11, bad: func(f []string) []string { return append(f, "") }},
	{rule: "an empty device", row: 12, bad: func(f []string) []string { f[0] = ""; return f }},
	{rule: "a temperature that is not a number", row: 13, bad: func(f []string) []string { f[2] = "warm"; return f }},
}

// edgeAt returns the edge case placed at data row i of n, if any; the
// malformed ones only when the check's data has malformed rows.
func edgeAt(i, n int, malformed bool) (edge, bool) {
	for _, e := range edges {
		row := e.row
		if row < 0 {
			row += n
		}
		if row == i && (e.valid || malformed) {
			return e, true
		}
	}
	return edge{}, false
}

// generate writes n data lines (a share of them malformed) and returns
// what a correct conversion holds.
func generate(seed uint64, n int, malformedShare float64) ([]byte, *truth) {
	r := rand.New(rand.NewPCG(seed, 17))
	t := &truth{}
	var b bytes.Buffer
	b.WriteString("device,ts,temperature,battery\n")
	base := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		at := base.Add(time.Duration(i)*997*time.Millisecond + time.Duration(r.IntN(1000))*time.Millisecond).Truncate(time.Millisecond)
		off := offsets[r.IntN(len(offsets))]
		ts := at.In(time.FixedZone(off.text, off.seconds)).Format("2006-01-02T15:04:05.000") + off.text
		rw := row{Device: fmt.Sprintf("ap-%03d", r.IntN(40)+1), TS: at.UnixMilli()}
		temp, batt := "", ""
		if r.IntN(10) > 0 {
			v := float64(r.IntN(4000)-500) / 100
			rw.Temperature = &v
			temp = strconv.FormatFloat(v, 'f', -1, 64)
		}
		if r.IntN(10) > 0 {
			v := uint8(r.IntN(101))
			rw.Battery = &v
			batt = strconv.Itoa(int(v))
		}
		fields := []string{rw.Device, ts, temp, batt}
		if e, ok := edgeAt(i, n, malformedShare > 0); ok {
			if e.valid {
				e.edit(&rw, at)
				line := strings.Join(e.fields(rw, at), ",")
				t.rows, t.lines = append(t.rows, rw), append(t.lines, line)
				b.WriteString(line + "\n")
			} else {
				t.malformed++
				b.WriteString(strings.Join(e.bad(fields), ",") + "\n")
			}
			continue
		}
		if r.Float64() < malformedShare {
			t.malformed++
			switch r.IntN(6) {
			case 0:
				fields = fields[:3]
			case 1:
				fields[0] = ""
			case 2:
				fields[1] = "02/11/2026 08:15"
			case 3:
				fields[2] = "hot"
			case 4:
				fields[3] = strconv.Itoa(101 + r.IntN(100))
			case 5:
				fields = append(fields, "extra")
			}
		} else {
			t.rows, t.lines = append(t.rows, rw), append(t.lines, strings.Join(fields, ","))
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	return b.Bytes(), t
}

// convert runs the learner's Convert on fresh data and returns the path
// of the file it wrote.
func convert(ctx context.Context, h *grader.Harness, n int, malformedShare float64) (*truth, string, error) {
	data, t := generate(h.Seed(), n, malformedShare)
	in, out := h.Path("readings.csv"), h.Path("readings.arrow")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return nil, "", err
	}
	h.Logf("wrote readings.csv: %d data rows (%d malformed), some temperatures and batteries empty", n, t.malformed)
	h.Logf("running Convert(\"readings.csv\", \"readings.arrow\")")
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{in, out}})
	if err != nil {
		return nil, "", err
	}
	// Counts that do not decode stay zero, and the malformed-rows check
	// says they are wrong.
	_ = grader.UnmarshalArtifact("result of Convert", res.Value, &t.returned)
	return t, out, nil
}

// arrowWhat names the learner's file in failures.
const arrowWhat = "Arrow file readings.arrow"

// arrowMemory bounds what Arrow's reader may allocate for the learner's
// file: a correct one holds 3,500 rows and needs well under a MiB, but a
// hostile one can declare buffers of any size.
const arrowMemory = 256 << 20

// readArrow reads the Arrow IPC file at path with Arrow's own reader and
// runs judge on it. The file is the learner's: its flatbuffers are checked
// before Arrow's reader trusts them (parquetcheck.CheckArrowFile), the
// reader's buffers are charged to a grader.Budget, and whatever goes wrong
// while the file is read or judged is the learner's failure.
func readArrow(path string, logf func(string, ...any), judge func(*ipc.FileReader) error) error {
	data, err := grader.ReadArtifactFile(arrowWhat, path, 0)
	var unreadable *grader.Failure
	if errors.As(err, &unreadable) {
		return err
	}
	if err != nil {
		return grader.Failf("Convert returned nil but wrote no file at the path it was given")
	}
	if err := parquetcheck.CheckArrowFile(data, parquetcheck.DefaultArrowLimits); err != nil {
		return grader.Unreadable(arrowWhat, "%v", err)
	}
	return grader.ReadArtifact(arrowWhat, func() error {
		f, err := ipc.NewFileReader(bytes.NewReader(data), ipc.WithAllocator(grader.NewBudget(arrowMemory)))
		if err != nil {
			return grader.Failf("the output is not an Arrow IPC file: %v", err)
		}
		defer f.Close()
		logf("opened readings.arrow with Arrow's reader: %d record batches", f.NumRecords())
		return judge(f)
	})
}

// compareRows checks every row, column by column, in order.
func compareRows(logf func(string, ...any), t *truth, f *ipc.FileReader) error {
	i := 0
	for b := 0; b < f.NumRecords(); b++ {
		rec, err := f.Record(b)
		if err != nil {
			return grader.Failf("record batch %d cannot be read: %v", b, err)
		}
		if rec.NumCols() != 4 {
			return grader.Mismatch("the file does not have the four columns", 4, rec.NumCols())
		}
		dev, ok1 := rec.Column(0).(*array.Dictionary)
		ts, ok2 := rec.Column(1).(*array.Timestamp)
		temp, ok3 := rec.Column(2).(*array.Float64)
		batt, ok4 := rec.Column(3).(*array.Uint8)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return grader.Mismatch("the column types are not the required ones (see the schema check)", Schema.String(), rec.Schema().String())
		}
		dict, ok := dev.Dictionary().(*array.String)
		if !ok {
			return grader.Failf("the device dictionary does not hold strings")
		}
		for r := 0; r < int(rec.NumRows()); r, i = r+1, i+1 {
			if i >= len(t.rows) {
				return grader.Mismatch("the file has more rows than valid lines in the CSV", len(t.rows), fmt.Sprintf("more than %d", i))
			}
			want := t.rows[i]
			// Arrow's reader does not check indices against the
			// dictionary; an index past its end would read out of range.
			idx := dev.GetValueIndex(r)
			if idx < 0 || idx >= dict.Len() {
				return grader.Unreadable(arrowWhat, "column device, row %d (batch %d, row %d): dictionary index %d out of range (its dictionary has %d values)", i, b, r, idx, dict.Len())
			}
			got := row{Device: dict.Value(idx), TS: int64(ts.Value(r))}
			if !temp.IsNull(r) {
				v := temp.Value(r)
				got.Temperature = &v
			}
			if !batt.IsNull(r) {
				v := batt.Value(r)
				got.Battery = &v
			}
			if show(got) != show(want) && i+1 < len(t.rows) && show(got) == show(t.rows[i+1]) {
				return grader.Mismatch(fmt.Sprintf("a valid CSV row is missing from the file: row %d of the file is the CSV's next valid row", i), fmt.Sprintf("the row of CSV line %q", t.lines[i]), "no such row: it was skipped")
			}
			if show(got) != show(want) {
				return grader.Mismatch(fmt.Sprintf("row %d (batch %d, row %d) is wrong", i, b, r), show(want), show(got))
			}
		}
	}
	if i != len(t.rows) {
		return grader.Mismatch("the file has fewer rows than valid lines in the CSV", len(t.rows), i)
	}
	logf("all %d rows match, nulls included", i)
	return nil
}

func show(r row) string {
	temp, batt := "null", "null"
	if r.Temperature != nil {
		temp = strconv.FormatFloat(*r.Temperature, 'f', -1, 64)
	}
	if r.Battery != nil {
		batt = strconv.Itoa(int(*r.Battery))
	}
	return fmt.Sprintf("device=%s ts=%s temperature=%s battery=%s", r.Device, time.UnixMilli(r.TS).UTC().Format("2006-01-02T15:04:05.000Z"), temp, batt)
}
