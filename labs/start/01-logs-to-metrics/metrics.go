// Package logmetrics turns a device access log into per-device metrics.
//
// Read the lesson first: delab read start/00
// Check your work:       delab check start/01
package logmetrics

import (
	"errors"
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

// ParseLine parses one log line. ok is false when the line is malformed
// (see the lesson's section "The log format" for the rules).
func ParseLine(line string) (rec Record, ok bool) {
	// TODO: split the line into fields and validate each one.
	return Record{}, false
}

// Run reads the log at inputPath and writes the JSON report to reportPath.
func Run(inputPath, reportPath string) error {
	// TODO: open the file, read it line by line, aggregate per device,
	// count malformed lines, and write the Report as JSON.
	return errors.New("Run is not implemented yet (lesson section \"Your lab: logs to metrics\")")
}
