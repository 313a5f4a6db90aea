package logmetrics_test

// Your own quick loop, no checker needed:
//
//	go test ./labs/start/01-logs-to-metrics/
//
// These tests run your code on the small log in testdata/access.log, whose
// answer was worked out by hand. Add your own lines and cases: this file is
// yours. `delab check start/01` still decides the grade, on larger logs it
// generates afresh every run.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/delab-dev/delab/labs/start/01-logs-to-metrics"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read start/00"
}

func TestParseLine(t *testing.T) {
	valid := []struct {
		line string
		want logmetrics.Record
	}{
		{"2026-11-02T08:15:03.120Z ap-0142 GET /v1/clients 200 512 23ms",
			logmetrics.Record{Time: time.Date(2026, 11, 2, 8, 15, 3, 120e6, time.UTC), Device: "ap-0142", Method: "GET", Path: "/v1/clients", Status: 200, Bytes: 512, LatencyMS: 23}},
		{"2026-11-02T09:15:04+01:00 ap-0007 POST /v1/auth 503 0 910ms",
			logmetrics.Record{Time: time.Date(2026, 11, 2, 8, 15, 4, 0, time.UTC), Device: "ap-0007", Method: "POST", Path: "/v1/auth", Status: 503, Bytes: 0, LatencyMS: 910}},
	}
	for _, tc := range valid {
		got, ok := logmetrics.ParseLine(tc.line)
		if !ok {
			t.Errorf("ParseLine(%q) says malformed, but every field follows its rule%s", tc.line, reread("The log format"))
			continue
		}
		if !got.Time.Equal(tc.want.Time) {
			t.Errorf("ParseLine(%q).Time = %v, want %v%s", tc.line, got.Time, tc.want.Time, reread("The log format"))
		}
		got.Time = tc.want.Time
		if got != tc.want {
			t.Errorf("ParseLine(%q) = %+v\n    want %+v%s", tc.line, got, tc.want, reread("The log format"))
		}
	}

	malformed := map[string]string{
		"":                        "a blank line",
		"%%% device rebooted %%%": "not seven fields",
		"2026-11-02T08:15:05Z ap-1 GET /a 200 1 2ms extra": "eight fields",
		"02/11/2026T08:15:07 ap-1 GET /a 200 1 2ms":        "a time that is not RFC 3339",
		"2026-11-02T08:15:05Z ap-1 get /a 200 1 2ms":       "a method that is not upper-case",
		"2026-11-02T08:15:05Z ap-1 GET a 200 1 2ms":        "a path without a leading /",
		"2026-11-02T08:15:05Z ap-1 GET /a 600 1 2ms":       "a status above 599",
		"2026-11-02T08:15:05Z ap-1 GET /a 99 1 2ms":        "a status below 100",
		"2026-11-02T08:15:05Z ap-1 GET /a 200 -1 2ms":      "negative bytes",
		"2026-11-02T08:15:05Z ap-1 GET /a 200 1 2":         "a latency without ms",
		"2026-11-02T08:15:05Z ap-1 GET /a 200 1 -2ms":      "a negative latency",
	}
	for line, why := range malformed {
		if _, ok := logmetrics.ParseLine(line); ok {
			t.Errorf("ParseLine(%q) accepts %s: it must say malformed%s", line, why, reread("The log format"))
		}
	}
}

// runOn runs Run on the log at input and decodes the report it writes; an
// error from Run fails the test with a pointer to section.
func runOn(t *testing.T, input, section string) logmetrics.Report {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	if err := logmetrics.Run(input, out); err != nil {
		t.Fatalf("Run(%q): %v%s", input, err, reread(section))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("Run returned nil but wrote no report: %v%s", err, reread("Your lab: logs to metrics"))
	}
	var rep logmetrics.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("the report is not the JSON the lesson shows: %v\n%s%s", err, data, reread("Your lab: logs to metrics"))
	}
	return rep
}

func TestRunOnSampleLog(t *testing.T) {
	rep := runOn(t, filepath.Join("testdata", "access.log"), "Your lab: logs to metrics")
	if rep.Lines != 15 {
		t.Errorf("lines = %d, want 15: every line counts, valid or not, blank included%s", rep.Lines, reread("Your lab: logs to metrics"))
	}
	if rep.Malformed != 9 {
		t.Errorf("malformed = %d, want 9 (lines 4 and 6 to 13 of testdata/access.log)%s", rep.Malformed, reread("Malformed lines are normal"))
	}
	want := map[string]*logmetrics.DeviceStats{
		"ap-0142": {Requests: 2, Errors: 0, Bytes: 576, MaxLatencyMS: 23},
		"ap-0007": {Requests: 3, Errors: 2, Bytes: 168, MaxLatencyMS: 910},
		"ap-0099": {Requests: 1, Errors: 1, Bytes: 0, MaxLatencyMS: 1500},
	}
	if !reflect.DeepEqual(rep.Devices, want) {
		got, _ := json.MarshalIndent(rep.Devices, "    ", "  ")
		exp, _ := json.MarshalIndent(want, "    ", "  ")
		t.Errorf("devices:\n    got  %s\n    want %s\n    (errors are statuses 500 to 599 only)%s", got, exp, reread("Aggregate per key"))
	}
}

func TestRunReadsPastAHugeLine(t *testing.T) {
	ok := "2026-11-02T08:15:03Z ap-1 GET /a 200 10 5ms\n"
	log := ok + strings.Repeat("x", 100<<10) + "\n" + ok
	path := filepath.Join(t.TempDir(), "huge.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := runOn(t, path, "Malformed lines are normal")
	if rep.Lines != 3 || rep.Malformed != 1 {
		t.Errorf("a log with a 100 KiB line between two valid ones: lines = %d, malformed = %d, want 3 and 1%s",
			rep.Lines, rep.Malformed, reread("Malformed lines are normal"))
	}
}
