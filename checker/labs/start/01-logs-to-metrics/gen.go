package logstometrics

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// deviceStats mirrors the learner's DeviceStats JSON.
type deviceStats struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	Bytes        int64 `json:"bytes"`
	MaxLatencyMS int64 `json:"max_latency_ms"`
}

// metrics mirrors the learner's Report JSON.
type metrics struct {
	Lines     int64                   `json:"lines"`
	Malformed int64                   `json:"malformed"`
	Devices   map[string]*deviceStats `json:"devices"`
}

// logSpec describes a log to generate.
type logSpec struct {
	Lines     int     // total lines, malformed included
	Devices   int     // distinct device ids
	Malformed float64 // share of malformed lines
	HugeLine  bool    // include one malformed line longer than bufio.Scanner's default limit
	// NoFinalNewline ends the log without '\n', as a device that reboots
	// mid-write leaves it: the last line is still a line.
	NoFinalNewline bool
	// Edges places the boundary cases of the lesson's rules (edgeCases)
	// in the log whatever the seed: edgesValid only the valid ones (a
	// clean log stays clean), edgesAll every one.
	Edges edgeSet
}

// edgeSet says which boundary cases a log holds.
type edgeSet int

const (
	edgesNone edgeSet = iota
	edgesValid
	edgesAll
)

// edgeCase is one rule's boundary: a valid line turned into the case.
// This table is the lab's boundary table: rule → input → the check that
// judges it (clean-aggregates for valid cases, malformed-lines for all).
type edgeCase struct {
	rule  string
	valid bool
	edit  func(f []string) []string
}

var edgeCases = []edgeCase{
	{"status: 100 is the lowest valid status", true, func(f []string) []string { f[4] = "100"; return f }},
	{"status: 599 is valid and an error", true, func(f []string) []string { f[4] = "599"; return f }},
	{"errors: 500 is the lowest error", true, func(f []string) []string { f[4] = "500"; return f }},
	{"errors: 499 is not an error", true, func(f []string) []string { f[4] = "499"; return f }},
	{"bytes: 0 is valid", true, func(f []string) []string { f[5] = "0"; return f }},
	{"latency: 0ms is valid", true, func(f []string) []string { f[6] = "0ms"; return f }},
	{"timestamp: an offset other than Z is RFC 3339", true, func(f []string) []string {
		t, _ := time.Parse(time.RFC3339Nano, f[0])
		f[0] = t.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000Z07:00")
		return f
	}},
	{"path: / alone starts with /", true, func(f []string) []string { f[3] = "/"; return f }},
	{"status: 600 is out of range", false, func(f []string) []string { f[4] = "600"; return f }},
	{"status: 99 is out of range", false, func(f []string) []string { f[4] = "99"; return f }},
	{"fields: a blank line is malformed", false, func(f []string) []string { return nil }},
	{"fields: six fields are too few", false, func(f []string) []string { return f[:6] }},
	{"fields: eight fields are too many", false, func(f []string) []string { return append(f, "extra") }},
	{"bytes: -1 is negative", false, func(f []string) []string { f[5] = "-1"; return f }},
	{"latency: a number without ms", false, func(f []string) []string { f[6] = strings.TrimSuffix(f[6], "ms"); return f }},
	{"method: lower case is not a method", false, func(f []string) []string { f[2] = strings.ToLower(f[2]); return f }},
	// A digit has no lower case either: strings.ToUpper(m) == m accepts it.
	{"method: a digit is not an upper-case letter", false, func(f []string) []string { f[2] = f[2][:1] + "3" + f[2][2:]; return f }},
	{"path: no leading /", false, func(f []string) []string { f[3] = strings.TrimPrefix(f[3], "/"); return f }},
}

// edgePositions places the spec's edge cases at fixed, spread-out line
// numbers (0-based): the result maps a line number to the case it holds.
func edgePositions(spec logSpec) map[int]edgeCase {
	var edges []edgeCase
	for _, e := range edgeCases {
		if spec.Edges == edgesAll || (spec.Edges == edgesValid && e.valid) {
			edges = append(edges, e)
		}
	}
	at := map[int]edgeCase{}
	for k, e := range edges {
		at[(k+1)*spec.Lines/(len(edges)+2)] = e
	}
	return at
}

// edgeLine returns the edge case of the line's fields, and for a valid
// case its status, bytes and latency.
func edgeLine(e edgeCase, line []byte) (out []byte, status int, bytes, lat int64) {
	f := e.edit(strings.Split(string(line), " "))
	if e.valid {
		status, _ = strconv.Atoi(f[4])
		bytes, _ = strconv.ParseInt(f[5], 10, 64)
		lat, _ = strconv.ParseInt(strings.TrimSuffix(f[6], "ms"), 10, 64)
	}
	return []byte(strings.Join(f, " ")), status, bytes, lat
}

var (
	methods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths   = []string{"/v1/clients", "/v1/status", "/v1/config", "/v1/radios/2g", "/v1/radios/5g", "/v1/firmware", "/health"}
	// Statuses weighted like a real fleet: mostly 2xx, some 3xx/4xx, a few 5xx.
	statuses = []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 404, 429, 500, 502, 503}
)

// writeLog writes a log to w and returns the metrics a correct
// implementation must report for it. The same seed gives the same log.
func writeLog(w io.Writer, seed uint64, spec logSpec) (metrics, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 256<<10)
	truth := metrics{Devices: map[string]*deviceStats{}}
	t := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	hugeAt := -1
	if spec.HugeLine {
		hugeAt = spec.Lines / 2
	}
	at := edgePositions(spec)
	for _, clash := at[hugeAt]; clash; _, clash = at[hugeAt] {
		hugeAt++
	}
	buf := make([]byte, 0, 256)
	for i := 0; i < spec.Lines; i++ {
		t = t.Add(time.Duration(r.IntN(90)+1) * time.Millisecond)
		dev := "ap-" + pad4(r.IntN(spec.Devices)+1)
		status := statuses[r.IntN(len(statuses))]
		bytes := int64(r.IntN(48000))
		lat := int64(r.ExpFloat64() * 60)
		buf = buf[:0]
		buf = t.AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
		buf = append(buf, ' ')
		buf = append(buf, dev...)
		buf = append(buf, ' ')
		buf = append(buf, methods[r.IntN(len(methods))]...)
		buf = append(buf, ' ')
		buf = append(buf, paths[r.IntN(len(paths))]...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(status), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, bytes, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, lat, 10)
		buf = append(buf, "ms"...)

		truth.Lines++
		edge, isEdge := at[i]
		if isEdge {
			buf, status, bytes, lat = edgeLine(edge, buf)
		}
		switch {
		case isEdge && !edge.valid:
			truth.Malformed++
		case !isEdge && i == hugeAt:
			truth.Malformed++
			buf = append(buf[:0], strings.Repeat("\x00\x13firmware-dump:", 100<<10/16)...)
		case !isEdge && r.Float64() < spec.Malformed:
			truth.Malformed++
			buf = corrupt(r, buf)
		default:
			d := truth.Devices[dev]
			if d == nil {
				d = &deviceStats{}
				truth.Devices[dev] = d
			}
			d.Requests++
			if status >= 500 {
				d.Errors++
			}
			d.Bytes += bytes
			d.MaxLatencyMS = max(d.MaxLatencyMS, lat)
		}
		if i < spec.Lines-1 || !spec.NoFinalNewline {
			buf = append(buf, '\n')
		}
		if _, err := bw.Write(buf); err != nil {
			return truth, err
		}
	}
	return truth, bw.Flush()
}

// corrupt turns a valid line into one of the malformed kinds real devices
// write: truncation, garbage, bad numbers, bad time, wrong field count.
func corrupt(r *rand.Rand, line []byte) []byte {
	f := strings.Split(string(line), " ")
	switch r.IntN(12) {
	case 0:
		return line[:0] // blank line
	case 1:
		return []byte(strings.Join(f[:2+r.IntN(4)], " ")) // truncated by a reboot
	case 2:
		return []byte("#### watchdog reset: radio 2 ####")
	case 3:
		f[4] = strings.Replace(f[4], "0", "O", 1) + "x" // "2OO"-style typo
	case 4:
		f[4] = strconv.Itoa(600 + r.IntN(300)) // status out of range
	case 5:
		// Negative bytes. Not "-"+f[5]: for 0 bytes that is "-0", a valid zero.
		f[5] = "-" + strconv.Itoa(1+r.IntN(5000))
	case 6:
		f[6] = strings.TrimSuffix(f[6], "ms") // latency without unit
	case 7:
		f[6] = strings.TrimSuffix(f[6], "ms") + "s" // wrong unit
	case 8:
		f[0] = "02/Nov/2026:08:15:03" // not RFC 3339
	case 9:
		f[2] = strings.ToLower(f[2]) // method not upper-case
	case 10:
		f[3] = strings.TrimPrefix(f[3], "/") // path without leading slash
	case 11:
		f = append(f, "trailing-field") // eight fields
	}
	return []byte(strings.Join(f, " "))
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", max(0, 4-len(s))) + s
}
