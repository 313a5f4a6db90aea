// Package logmetrics turns a device access log into per-device metrics.
//
// Read the lesson first: delab read start/00
// Check your work:       delab check start/01
package logmetrics

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"
)

// Record is one valid log line.
type Record struct {
	Time      time.Time
	Device    string
	Method    string
	Path      string
	Status    int
	Bytes     int64
	LatencyMS int64
}

// DeviceStats are the running totals for one device.
type DeviceStats struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	Bytes        int64 `json:"bytes"`
	MaxLatencyMS int64 `json:"max_latency_ms"`
}

// Report is what Run writes to the report file, as JSON.
type Report struct {
	Lines     int64                   `json:"lines"`
	Malformed int64                   `json:"malformed"`
	Devices   map[string]*DeviceStats `json:"devices"`
}

func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ParseLine parses one log line. ok is false when the line is malformed
// (see the lesson's section "The log format" for the rules).
func ParseLine(line string) (rec Record, ok bool) {
	f := strings.Fields(line)
	if len(f) != 7 {
		return Record{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return Record{}, false
	}
	if f[1] == "" || !isUpperWord(f[2]) || !strings.HasPrefix(f[3], "/") {
		return Record{}, false
	}
	status, err := strconv.Atoi(f[4])
	if err != nil || status < 100 || status > 599 {
		return Record{}, false
	}
	b, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil || b < 0 {
		return Record{}, false
	}
	lat, found := strings.CutSuffix(f[6], "ms")
	if !found {
		return Record{}, false
	}
	l, err := strconv.ParseInt(lat, 10, 64)
	if err != nil || l < 0 {
		return Record{}, false
	}
	return Record{Time: t, Device: f[1], Method: f[2], Path: f[3], Status: status, Bytes: b, LatencyMS: l}, true
}

// Run reads the log at inputPath and writes the JSON report to reportPath.
func Run(inputPath, reportPath string) error {
	f, err := os.Open(inputPath)
	if err != nil {
		return err
	}
	defer f.Close()

	rep := Report{Devices: map[string]*DeviceStats{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		rep.Lines++
		rec, ok := ParseLine(sc.Text())
		if !ok {
			rep.Malformed++
			continue
		}
		st := rep.Devices[rec.Device]
		if st == nil {
			st = &DeviceStats{}
			rep.Devices[rec.Device] = st
		}
		st.Requests++
		if rec.Status >= 500 && rec.Status <= 599 {
			st.Errors++
		}
		st.Bytes += rec.Bytes
		if rec.LatencyMS > st.MaxLatencyMS {
			st.MaxLatencyMS = rec.LatencyMS
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(reportPath, data, 0o644)
}
