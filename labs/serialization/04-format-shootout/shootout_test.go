package shootout_test

// Your own quick loop, no checker needed:
//
//	go test ./labs/serialization/04-format-shootout/
//
// These tests round-trip the readings in testdata/readings.json through
// every format, feed Decode broken files, run Measure on generated readings
// and render a fixed set of results. Add your own cases: this file is
// yours. `delab check serialization/04` still decides the grade: it also
// times your Encode and Decode itself and decodes your files with its own
// readers.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	shootout "github.com/delab-dev/delab/labs/serialization/04-format-shootout"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read serialization/03"
}

func sample(t *testing.T) []shootout.Reading {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "readings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []shootout.Reading
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestRoundTrip(t *testing.T) {
	rs := sample(t)
	for _, f := range shootout.Formats {
		t.Run(f, func(t *testing.T) {
			var buf bytes.Buffer
			if err := shootout.Encode(f, &buf, rs); err != nil {
				t.Fatalf("Encode(%q): %v%s", f, err, reread("Your lab: measure the formats"))
			}
			back, err := shootout.Decode(f, buf.Bytes())
			if err != nil {
				t.Fatalf("Decode(%q) of what Encode wrote: %v%s", f, err, reread("Your lab: measure the formats"))
			}
			if !reflect.DeepEqual(back, rs) {
				got, _ := json.Marshal(back)
				want, _ := json.Marshal(rs)
				t.Errorf("%s round trip:\n    got  %s\n    want %s\n    (a missing temp stays null, not 0)%s", f, got, want, reread("Your lab: measure the formats"))
			}
		})
	}
}

// decodeSafely calls Decode and turns a panic into a test failure.
func decodeSafely(t *testing.T, format string, data []byte) (n int, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("Decode(%q) panicked on bad input: %v%s", format, p, reread("Bad input"))
			err = fmt.Errorf("panic")
		}
	}()
	rs, err := shootout.Decode(format, data)
	return len(rs), err
}

func TestDecodeRejectsBadInput(t *testing.T) {
	rs := sample(t)
	for _, f := range []string{"avro", "arrow", "parquet-snappy", "parquet-zstd"} {
		var buf bytes.Buffer
		if err := shootout.Encode(f, &buf, rs); err != nil {
			t.Errorf("Encode(%q): %v%s", f, err, reread("Your lab: measure the formats"))
			continue
		}
		half := buf.Bytes()[:buf.Len()/2]
		if n, err := decodeSafely(t, f, half); err == nil {
			t.Errorf("Decode(%q) of a file cut in half returned %d readings and no error%s", f, n, reread("Bad input"))
		}
	}
	otherHeader := "device,ts,temperature,battery\nap-01,1793577600000,21.5,87\n"
	if n, err := decodeSafely(t, "csv", []byte(otherHeader)); err == nil {
		t.Errorf("Decode(\"csv\") of a file with the header device,ts,temperature,battery returned %d readings and no error: check the header%s", n, reread("Bad input"))
	}
}

// many returns n readings, one in five without a temperature.
func many(n int) []shootout.Reading {
	rs := make([]shootout.Reading, n)
	for i := range rs {
		rs[i] = shootout.Reading{Device: fmt.Sprintf("ap-%02d", i%25), TS: 1793577600000 + int64(i)*250, Battery: int32(100 - i%100)}
		if i%5 != 0 {
			v := float64(i%400) / 8
			rs[i].Temp = &v
		}
	}
	return rs
}

func TestMeasure(t *testing.T) {
	dir := t.TempDir()
	const rounds = 5
	start := time.Now()
	results, err := shootout.Measure(dir, many(2000), rounds)
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("Measure: %v%s", err, reread("Measuring honestly"))
	}
	if len(results) != len(shootout.Formats) {
		t.Fatalf("Measure returned %d results, want one per format (%d)%s", len(results), len(shootout.Formats), reread("Your lab: measure the formats"))
	}
	var sum time.Duration
	for i, r := range results {
		f := shootout.Formats[i]
		if r.Format != f {
			t.Errorf("result %d is for %q, want %q (the order of Formats)", i, r.Format, f)
		}
		if want := filepath.Join(dir, "readings"+shootout.Extensions[f]); r.File != want {
			t.Errorf("%s: File = %q, want %q%s", f, r.File, want, reread("Your lab: measure the formats"))
		}
		if st, err := os.Stat(r.File); err != nil {
			t.Errorf("%s: %v%s", f, err, reread("Your lab: measure the formats"))
		} else if st.Size() != r.Bytes {
			t.Errorf("%s: Bytes = %d, but the file has %d bytes%s", f, r.Bytes, st.Size(), reread("Sizes are file sizes"))
		}
		if r.Encode < time.Microsecond || r.Decode < time.Microsecond {
			t.Errorf("%s: encode %v, decode %v: encoding or decoding 2000 readings takes longer than that; is the clock stopped before the work?%s", f, r.Encode, r.Decode, reread("Measuring honestly"))
		}
		sum += r.Encode + r.Decode
	}
	if rounds*sum > 2*wall {
		t.Errorf("Measure took %v in all, but its results add up to %v per round, %v for %d rounds: report the time of one operation (the median), not of all rounds%s",
			wall.Round(time.Millisecond), sum.Round(time.Microsecond), (rounds * sum).Round(time.Millisecond), rounds, reread("Measuring honestly"))
	}
	if _, err := shootout.Measure(t.TempDir(), nil, rounds); err == nil {
		t.Errorf("Measure of no readings returned no error%s", reread("Bad input"))
	}
}

func TestRender(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	results := []shootout.Result{
		{Format: "json", Bytes: 10000, Encode: ms(11.85), Decode: ms(20.5)},
		{Format: "csv", Bytes: 6000, Encode: ms(4.2), Decode: ms(6)},
		{Format: "avro", Bytes: 3000, Encode: ms(2.3), Decode: ms(3.1)},
		{Format: "arrow", Bytes: 4500, Encode: ms(0.64), Decode: ms(0.12)},
		{Format: "parquet-snappy", Bytes: 1490, Encode: ms(5.5), Decode: ms(1.25)},
		{Format: "parquet-zstd", Bytes: 100, Encode: ms(7.75), Decode: ms(1.5)},
	}
	var out bytes.Buffer
	if err := shootout.Render(&out, results); err != nil {
		t.Fatalf("Render: %v%s", err, reread("Your lab: measure the formats"))
	}
	table, bars := map[string]string{}, map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(line, "█") {
			bars[fields[0]] = line
		} else {
			table[fields[0]] = line
		}
	}
	for _, r := range results {
		row := table[r.Format]
		for _, want := range []string{strconv.FormatInt(r.Bytes, 10), r.Encode.String(), r.Decode.String()} {
			if !strings.Contains(row, want) {
				t.Errorf("the table row of %s is %q, it should show %s%s", r.Format, row, want, reread("Your lab: measure the formats"))
			}
		}
		want := max(1, int(math.Round(shootout.BarWidth*float64(r.Bytes)/10000)))
		if got := strings.Count(bars[r.Format], "█"); got != want {
			t.Errorf("the bar of %s (%d bytes, the largest is 10000) is %d long, want %d: %q%s", r.Format, r.Bytes, got, want, bars[r.Format], reread("Your lab: measure the formats"))
		}
	}
	if t.Failed() {
		t.Logf("Render wrote:\n%s", out.String())
	}
}
