// Package logmetrics turns a device access log into per-device metrics.
//
// Read the lesson first: delab read start/00
// Check your work:       delab check start/01
package logmetrics

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
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

// splitFields splits on runs of spaces/tabs/CR without allocating a slice
// longer than eight entries: more than seven fields is already malformed.
func splitFields(line string) ([]string, bool) {
	var out [8]string
	n := 0
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n' || line[i] == '\v' || line[i] == '\f') {
			i++
		}
		if i >= len(line) {
			break
		}
		j := i
		for j < len(line) && !(line[j] == ' ' || line[j] == '\t' || line[j] == '\r' || line[j] == '\n' || line[j] == '\v' || line[j] == '\f') {
			j++
		}
		if n == 8 {
			return nil, false
		}
		out[n] = line[i:j]
		n++
		i = j
	}
	if n != 7 {
		return nil, false
	}
	return out[:7], true
}

// digits parses a non-empty run of ASCII digits into a non-negative int64.
func digits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// ParseLine parses one log line. ok is false when the line is malformed
// (see the lesson's section "The log format" for the rules).
func ParseLine(line string) (Record, bool) {
	f, ok := splitFields(line)
	if !ok {
		return Record{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, f[0])
	if err != nil {
		return Record{}, false
	}
	for i := 0; i < len(f[2]); i++ {
		if f[2][i] < 'A' || f[2][i] > 'Z' {
			return Record{}, false
		}
	}
	if f[3][0] != '/' {
		return Record{}, false
	}
	status, ok := digits(f[4])
	if !ok || status < 100 || status > 599 {
		return Record{}, false
	}
	nbytes, ok := digits(f[5])
	if !ok {
		return Record{}, false
	}
	lat := f[6]
	if len(lat) < 3 || lat[len(lat)-2:] != "ms" {
		return Record{}, false
	}
	latency, ok := digits(lat[:len(lat)-2])
	if !ok {
		return Record{}, false
	}
	return Record{
		Time: ts, Device: f[1], Method: f[2], Path: f[3],
		Status: int(status), Bytes: nbytes, LatencyMS: latency,
	}, true
}

// maxLine is the longest line we look at; anything longer cannot be a
// seven-field log line and is counted as malformed without being held.
const maxLine = 64 * 1024

// Run reads the log at inputPath and writes the JSON report to reportPath.
func Run(inputPath, reportPath string) error {
	in, err := os.Open(inputPath)
	if err != nil {
		return err
	}
	defer in.Close()

	lines, malformed := int64(0), int64(0)
	devices := make(map[string]*DeviceStats)

	br := bufio.NewReaderSize(in, maxLine)
	for {
		chunk, err := br.ReadSlice('\n')
		tooLong := false
		for errors.Is(err, bufio.ErrBufferFull) {
			// Discard the rest of an overlong line, chunk by chunk.
			tooLong = true
			chunk, err = br.ReadSlice('\n')
		}
		if len(chunk) == 0 && !tooLong && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return err
		}
		lines++
		if tooLong {
			malformed++
		} else if rec, ok := ParseLine(string(chunk)); !ok {
			malformed++
		} else {
			d, seen := devices[rec.Device]
			if !seen {
				d = new(DeviceStats)
				devices[rec.Device] = d
			}
			d.Requests++
			if rec.Status/100 == 5 {
				d.Errors++
			}
			d.Bytes += rec.Bytes
			d.MaxLatencyMS = max(d.MaxLatencyMS, rec.LatencyMS)
		}
		if err == io.EOF {
			break
		}
	}

	out, err := os.Create(reportPath)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	if err := enc.Encode(Report{Lines: lines, Malformed: malformed, Devices: devices}); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
