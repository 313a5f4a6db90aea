// Package formatshootout grades the lab "Choosing a format, measured": it
// hands the learner's Measure a data set, decodes every file Measure wrote
// with the checker's own decoders, compares reported sizes with the files,
// and judges each reported time against the calls of Encode and Decode
// that Measure made, each timed from inside the learner's package by the
// checker's wrappers (wrap.go.txt).
package formatshootout

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/04-format-shootout/solution"
	"github.com/delab-dev/delab/checker/labs/serialization/parquetcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

//go:embed wrap.go.txt
var wrap string

// Lab is the trusted grader for labs/serialization/04-format-shootout.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	// Measure's calls of Encode and Decode go through the checker's
	// wrappers, which time each call from inside (wrap.go.txt).
	Wrap: &grader.Wrap{Funcs: []string{"Encode", "Decode"}, Source: wrap},
	Checks: map[string]grader.CheckFunc{
		"files":     files,
		"sizes":     sizes,
		"timings":   timings,
		"render":    render,
		"bad-input": badInput,
	},
}

const (
	// dataRows is the size of the data set; large enough that one encode
	// takes milliseconds, so timer resolution and call overhead vanish.
	dataRows = 20_000
	// rounds is what the checker asks Measure for; the timings check
	// asks for otherRounds as well.
	rounds      = 5
	otherRounds = 3
)

// Boundary table: each rule of the lesson, the input that exercises it in
// every run whatever the seed, and the check that judges it.
//
//	rule                                       input                                           check
//	a missing temp is null (nil), never 0      edges[0]: temp null, first in Data and          files (checker decodes Measure's
//	                                           decodeCases                                     files; learner's Decode of the
//	a temp of 0 is a value, not null           edges[1]: temp 0                                checker's files), compared reading
//	a fractional temp survives exactly         edges[2]: temp 12.34                            by reading
//	battery spans 0 to 100                     edges[0], edges[1]: battery 0 and 100
//	Bytes is the file's size after Close       every format's file                             sizes
//	rounds calls of each, none fixed           Measure with 5 rounds, then 3                   timings
//	the median, not the mean                   the last call of each op slowed to 4× + 1ms     timings
//	one round's time, only that call           each call's own time and room, from inside      timings
//	bars round(40 × bytes / largest)           sample: arrow 18.72, parquet 6.99 and 4.98      render
//	the largest, not the first or last row     the sample again with json, the largest, third  render
//	times as Go durations, within 1%           every sample time, parsed by time.ParseDuration  render
//	bad input is an error, never a panic       badInput's cases, one valid and one bad each    bad-input
//	columns compared by name, not only type    an IPC file with temp renamed temperature       bad-input
//	no readings, nil or empty, is an error     Measure(nil) and Measure([]Reading{})           bad-input
//
// boundary_test.go reads the generated inputs back the way the learner's
// code sees them and asserts the edges are there for 150 seeds.
var edges = func() []reference.Reading {
	zero, frac := 0.0, 12.34
	return []reference.Reading{
		{Temp: nil, Battery: 0},
		{Temp: &zero, Battery: 100},
		{Temp: &frac, Battery: 57},
	}
}()

// withEdges puts the edge readings' temperature and battery into the first
// readings of rs, keeping their devices and timestamps.
func withEdges(rs []reference.Reading) []reference.Reading {
	for i, e := range edges {
		rs[i].Temp, rs[i].Battery = e.Temp, e.Battery
		if e.Temp != nil {
			v := *e.Temp
			rs[i].Temp = &v
		}
	}
	return rs
}

// Data is the grader's data set: 200 devices, one reading a second with
// jitter, one temperature in ten missing, the edge readings first.
func Data(seed uint64) []reference.Reading {
	r := rand.New(rand.NewPCG(seed, 41))
	out := make([]reference.Reading, dataRows)
	for i := range out {
		out[i] = reference.Reading{
			Device:  fmt.Sprintf("ap-%03d", r.IntN(200)),
			TS:      1_793_577_600_000 + int64(i)*1000 + int64(r.IntN(900)),
			Battery: int32(r.IntN(101)),
		}
		if r.IntN(10) > 0 {
			v := float64(r.IntN(4000)) / 100
			out[i].Temp = &v
		}
	}
	return withEdges(out)
}

// call is one Encode or Decode call Measure made, as the checker's
// wrapper in the learner's package saw it: nanoseconds since Measure was
// called. Slowed marks the round the wrapper made slow on purpose.
type call struct {
	Op     string `json:"op"`
	Format string `json:"format"`
	Start  int64  `json:"start"`
	End    int64  `json:"end"`
	Slowed bool   `json:"slowed"`
}

// run is one Measure call: what it returned, the calls it made and how
// long it took.
type run struct {
	Rounds  int                `json:"rounds"`
	Results []reference.Result `json:"results"`
	Calls   []call             `json:"calls"`
	End     int64              `json:"end"`
	dir     string
	byFmt   map[string]reference.Result
}

// measured is what one measure process returned: one run per rounds
// asked, the first in dir.
type measured struct {
	runs  []*run
	dir   string
	truth []reference.Reading
	byFmt map[string]reference.Result
}

// measure runs the learner's Measure once for each of rounds, each into
// its own directory, in one process.
func measure(ctx context.Context, h *grader.Harness, rounds ...int) (*measured, error) {
	truth := Data(h.Seed())
	in := h.Path("readings.json")
	raw, _ := json.Marshal(truth)
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		return nil, err
	}
	args := []string{"measure", in}
	var dirs, what []string
	for i, r := range rounds {
		name := "out"
		if i > 0 {
			name = fmt.Sprintf("out-%d", r)
		}
		dir := h.Path(name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		dirs = append(dirs, dir)
		args = append(args, dir, strconv.Itoa(r))
		what = append(what, fmt.Sprintf("Measure(%q, %d readings, %d rounds)", name, len(truth), r))
	}
	h.Logf("running %s, timing each of its calls of Encode and Decode from inside your package", strings.Join(what, ", then "))
	res, err := h.Run(ctx, grader.RunOptions{Args: args})
	if err != nil {
		return nil, err
	}
	var runs []*run
	if err := grader.UnmarshalArtifact("result of Measure", res.Value, &runs); err != nil {
		return nil, fmt.Errorf("decode the harness's capture: %w", err)
	}
	if len(runs) != len(rounds) {
		return nil, fmt.Errorf("the harness returned %d runs of Measure for %d asked", len(runs), len(rounds))
	}
	for i, r := range runs {
		r.dir, r.byFmt = dirs[i], map[string]reference.Result{}
		var got []string
		for _, x := range r.Results {
			got = append(got, x.Format)
			r.byFmt[x.Format] = x
		}
		if !slices.Equal(got, reference.Formats) {
			return nil, grader.Mismatch("Measure must return one result per format, in this order", strings.Join(reference.Formats, " "), strings.Join(got, " "))
		}
	}
	return &measured{runs: runs, dir: runs[0].dir, truth: truth, byFmt: runs[0].byFmt}, nil
}

// path resolves a result's File, which must lie in the directory given.
func (m *measured) path(r reference.Result) (string, error) {
	p := r.File
	if !filepath.IsAbs(p) {
		p = filepath.Join(m.dir, p)
	}
	if rel, err := filepath.Rel(m.dir, p); err != nil || strings.HasPrefix(rel, "..") {
		return "", grader.Failf("%s: File %q is not in the directory Measure was given", r.Format, r.File)
	}
	return p, nil
}

func show(r reference.Reading) string {
	temp := "null"
	if r.Temp != nil {
		temp = strconv.FormatFloat(*r.Temp, 'g', -1, 64)
	}
	return fmt.Sprintf("{device %s, ts %d, temp %s, battery %d}", r.Device, r.TS, temp, r.Battery)
}

func files(ctx context.Context, h *grader.Harness) error {
	m, err := measure(ctx, h, rounds)
	if err != nil {
		return err
	}
	for _, f := range reference.Formats {
		r := m.byFmt[f]
		p, err := m.path(r)
		if err != nil {
			return err
		}
		if err := judgeFile(h.Logf, f, p, m.truth); err != nil {
			return err
		}
	}
	return judgeDecode(ctx, h)
}

// decodeCases is the data the learner's Decode is given in files: a slice
// of the seed's data with the edge readings first, whatever the seed — a
// missing temperature, a temperature of exactly 0 (which a decoder that
// reads null as zero cannot tell from it), the battery's bounds and a
// fractional temperature.
func decodeCases(seed uint64) []reference.Reading {
	rs := Data(seed ^ 0xdec0de)[:1000]
	for i := range edges {
		rs[i].Device, rs[i].TS = fmt.Sprintf("ap-%03d", i), 1_793_577_600_000+int64(i)
	}
	return rs
}

// judgeDecode gives the learner's Decode a file of each format the checker
// encoded (with the reference's Encode: inputs may come from the
// reference, verdicts never) and compares every reading it returns.
func judgeDecode(ctx context.Context, h *grader.Harness) error {
	truth := decodeCases(h.Seed())
	args := []string{"decode"}
	for _, f := range reference.Formats {
		var b bytes.Buffer
		if err := reference.Encode(f, &b, truth); err != nil {
			return err
		}
		p := h.Path("valid." + f)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			return err
		}
		args = append(args, f, p)
	}
	h.Logf("running your Decode on a valid file of each format that the checker wrote: %d readings, the first three a missing temperature, a temperature of 0 and one of 12.34", len(truth))
	res, err := h.Run(ctx, grader.RunOptions{Args: args})
	if err != nil {
		return err
	}
	var got [][]reference.Reading
	if err := grader.UnmarshalArtifact("result of Decode", res.Value, &got); err != nil {
		return err
	}
	if len(got) != len(reference.Formats) {
		return fmt.Errorf("the harness returned %d decodes for %d formats", len(got), len(reference.Formats))
	}
	for i, f := range reference.Formats {
		if len(got[i]) != len(truth) {
			return grader.Mismatch(fmt.Sprintf("%s: your Decode of a valid file returned the wrong number of readings", f), len(truth), len(got[i]))
		}
		for j := range truth {
			if show(got[i][j]) != show(truth[j]) {
				return grader.Mismatch(fmt.Sprintf("%s: your Decode read reading %d of a valid file wrongly", f, j), show(truth[j]), show(got[i][j]))
			}
		}
	}
	h.Logf("your Decode returns every reading of every format exactly, missing temperatures as nil")
	return nil
}

// fileLimit is the largest file of Measure's the grader reads: the
// largest correct one, the JSON, is about 1.3 MiB.
const fileLimit = 64 << 20

// decodeMemory bounds what Arrow's and Parquet's readers may allocate for
// one of the learner's files.
const decodeMemory = 256 << 20

// judgeFile decodes the file Measure wrote for format at p with the
// checker's decoder (the reference's Decode) and compares it with truth.
func judgeFile(logf func(string, ...any), format, p string, truth []reference.Reading) error {
	name := filepath.Base(p)
	what := fmt.Sprintf("%s file %s", format, name)
	raw, err := grader.ReadArtifactFile(what, p, fileLimit)
	var unreadable *grader.Failure
	if errors.As(err, &unreadable) {
		return err
	}
	if err != nil {
		return grader.Failf("%s: cannot read the file Measure reported: %v", format, err)
	}
	return grader.ReadArtifact(what, func() error {
		if err := preflight(format, raw); err != nil {
			return grader.Unreadable(what, "%v", err)
		}
		got, err := reference.Decode(format, raw)
		if err != nil {
			return grader.Failf("%s: the checker cannot decode %s: %v", format, name, err)
		}
		if len(got) != len(truth) {
			return grader.Mismatch(fmt.Sprintf("%s: %s holds the wrong number of readings", format, name), len(truth), len(got))
		}
		for i := range got {
			if show(got[i]) != show(truth[i]) {
				return grader.Mismatch(fmt.Sprintf("%s: reading %d in %s differs from the data set", format, i, name), show(truth[i]), show(got[i]))
			}
		}
		if codec, ok := map[string]compress.Compression{"parquet-snappy": compress.Codecs.Snappy, "parquet-zstd": compress.Codecs.Zstd}[format]; ok {
			if err := checkCodec(raw, codec); err != nil {
				return grader.Failf("%s: %v", format, err)
			}
		}
		logf("%s: %s decodes to the %d readings, nulls included", format, name, len(got))
		return nil
	})
}

// preflight checks the learner's file before the reference's Decode,
// which uses the libraries' default allocators, reads it: what the file
// declares must be allocatable (see parquetcheck), and for Arrow and
// Parquet, decoding it with a grader.Budget as the allocator must stay
// within the budget. Decode then allocates what the budget allowed. A
// file the libraries refuse passes, for Decode to say why.
func preflight(format string, raw []byte) error {
	switch format {
	case "avro":
		return parquetcheck.CheckAvroContainer(raw, parquetcheck.DefaultAvroLimits)
	case "arrow":
		if err := parquetcheck.CheckArrowFile(raw, parquetcheck.DefaultArrowLimits); err != nil {
			return err
		}
		mem := grader.NewBudget(decodeMemory)
		r, err := ipc.NewFileReader(bytes.NewReader(raw), ipc.WithAllocator(mem))
		if err != nil {
			return nil
		}
		defer r.Close()
		for i := 0; i < r.NumRecords(); i++ {
			rec, err := r.RecordAt(i)
			if err != nil {
				return nil
			}
			rec.Release()
		}
	case "parquet-snappy", "parquet-zstd":
		size := int64(len(raw))
		if err := parquetcheck.CheckParquetFooter(bytes.NewReader(raw), size); err != nil {
			return err
		}
		mem := grader.NewBudget(decodeMemory)
		pf, err := file.NewParquetReader(bytes.NewReader(raw), file.WithReadProps(parquet.NewReaderProperties(mem)))
		if err != nil {
			return nil
		}
		defer pf.Close()
		if err := parquetcheck.CheckParquetData(pf, size, parquetcheck.DefaultParquetLimits); err != nil {
			return err
		}
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(raw), parquet.NewReaderProperties(mem), pqarrow.ArrowReadProperties{}, mem)
		if err != nil {
			return nil
		}
		tbl.Release()
	}
	return nil
}

func checkCodec(raw []byte, want compress.Compression) error {
	pf, err := file.NewParquetReader(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	defer pf.Close()
	other, err := parquetcheck.FirstOtherCodec(pf, want)
	if err != nil {
		return err
	}
	if other != nil {
		return fmt.Errorf("column %s is compressed with %s, not %s", other.Path, other.Codec, want)
	}
	return nil
}

func sizes(ctx context.Context, h *grader.Harness) error {
	m, err := measure(ctx, h, rounds)
	if err != nil {
		return err
	}
	for _, f := range reference.Formats {
		r := m.byFmt[f]
		p, err := m.path(r)
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return grader.Failf("%s: cannot stat the file Measure reported: %v", f, err)
		}
		if r.Bytes != st.Size() {
			return grader.Mismatch(fmt.Sprintf("%s: Bytes is not the size of %s on disk", f, filepath.Base(p)), st.Size(), r.Bytes)
		}
	}
	h.Logf("every Bytes equals its file's size on disk")
	return nil
}

// op is one operation of one format in one run of Measure: the time the
// learner reported for it and the calls the checker saw.
type op struct {
	name, verb, format string
	reported           time.Duration
	// took is each call's own duration, from inside the wrapper; room is
	// the time from the end of the previous call (or the start of
	// Measure) to the start of the next one (or the end of Measure): all
	// a clock around this call alone can have seen.
	took, room []time.Duration
	slowed     int // index of the round made slow on purpose, -1 if none
}

// window is what an honest report of o lies in: at least the median of
// the calls' own durations, at most the median of their rooms, widened
// by the tolerance.
func (o op) window() (lo, hi time.Duration) {
	return median(o.took) - tolerance(median(o.took)), median(o.room) + tolerance(median(o.took))
}

// tolerance allows a report rounded to the microsecond, or read from the
// wall clock while NTP slews it.
func tolerance(d time.Duration) time.Duration {
	return 10*time.Microsecond + d/100
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func sum(ds []time.Duration) time.Duration {
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	return total
}

func mean(ds []time.Duration) time.Duration {
	return sum(ds) / time.Duration(len(ds))
}

// ops pairs each reported time of r with the calls Measure made. Calls
// are checked first: Measure must call Encode and Decode of each format
// exactly r.Rounds times.
func (r *run) ops() ([]op, error) {
	calls := slices.Clone(r.Calls)
	slices.SortFunc(calls, func(a, b call) int { return cmp.Compare(a.Start, b.Start) })
	by := map[string]*op{}
	var out []*op
	for _, f := range reference.Formats {
		for _, verb := range []string{"Encode", "Decode"} {
			o := &op{name: fmt.Sprintf("%s(%q)", verb, f), verb: verb, format: f, slowed: -1}
			o.reported = r.byFmt[f].Encode
			if verb == "Decode" {
				o.reported = r.byFmt[f].Decode
			}
			by[strings.ToLower(verb)+" "+f] = o
			out = append(out, o)
		}
	}
	for i, c := range calls {
		o := by[c.Op+" "+c.Format]
		if o == nil {
			continue
		}
		from, to := int64(0), r.End
		if i > 0 {
			from = calls[i-1].End
		}
		if i+1 < len(calls) {
			to = calls[i+1].Start
		}
		if c.Slowed {
			o.slowed = len(o.took)
		}
		o.took = append(o.took, time.Duration(c.End-c.Start))
		o.room = append(o.room, time.Duration(to-from))
	}
	var ops []op
	for _, o := range out {
		if len(o.took) != r.Rounds {
			return nil, grader.Mismatch(fmt.Sprintf("Measure(dir, readings, %d) called %s %d times: it must call it once per round, rounds times, and report the median of those calls", r.Rounds, o.name, len(o.took)),
				fmt.Sprintf("%d calls", r.Rounds), fmt.Sprintf("%d calls", len(o.took)))
		}
		ops = append(ops, *o)
	}
	return ops, nil
}

// show lists the calls' durations in the order they were made, marking
// the one slowed on purpose.
func (o op) show() string {
	var parts []string
	for i, d := range o.took {
		s := d.Round(time.Microsecond).String()
		if i == o.slowed {
			s += " (slowed by the checker)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// diagnose names what a report outside its window looks like. Each guess
// is a containment that holds exactly for that mistake (the mean of
// stopwatch readings around the calls lies between the mean of the calls'
// own durations and the mean of their rooms), so which one is named does
// not depend on how busy the machine was.
func diagnose(o op, all []op) string {
	in := func(d, lo, hi time.Duration) bool { return d >= lo && d <= hi }
	switch {
	case o.reported <= 0:
		return "; a time of zero or less is no measurement"
	case in(o.reported, mean(o.took), mean(o.room)):
		return "; that is the mean of the rounds, which the slowed round pulls up: report the median"
	case in(o.reported, sum(o.took), sum(o.room)):
		return "; that is the total of all rounds: report one round's time, the median"
	}
	for _, p := range all {
		if p.name != o.name && in(o.reported, median(p.took), median(p.room)) {
			return fmt.Sprintf("; that is the median of the calls of %s", p.name)
		}
	}
	_, hi := o.window()
	switch {
	case o.reported < slices.Min(o.took):
		return "; that is shorter than even the fastest call: start the clock before the call and stop it after (defer evaluates its arguments at once)"
	case o.reported > hi:
		return "; the clock ran across other work too (another call, a file write): start it just before the call and stop it just after"
	}
	return ""
}

func timings(ctx context.Context, h *grader.Harness) error {
	// Two runs with different rounds, so that a Measure that ignores
	// rounds fails one of them whatever number it uses.
	m, err := measure(ctx, h, rounds, otherRounds)
	if err != nil {
		return err
	}
	closest := math.Inf(1)
	for _, r := range m.runs {
		ops, err := r.ops()
		if err != nil {
			return err
		}
		for _, o := range ops {
			lo, hi := o.window()
			if o.reported < lo || o.reported > hi {
				return grader.Mismatch(fmt.Sprintf("%s, %d rounds: the time you report is not the median of the %d calls Measure made; the checker timed each call from inside your package: %s%s",
					o.name, r.Rounds, len(o.took), o.show(), diagnose(o, ops)),
					fmt.Sprintf("between %s and %s", lo, hi), o.reported)
			}
			tol := float64(tolerance(median(o.took)))
			closest = min(closest, float64(o.reported-lo)/tol, float64(hi-o.reported)/tol)
		}
		h.Logf("%d rounds: Measure called Encode and Decode of every format %d times, one call each slowed on purpose", r.Rounds, r.Rounds)
	}
	h.Logf("every reported time is the median of its calls: at least the median of the calls' own durations and at most the median of the time between the calls before and after them (nearest an edge: %.2f× the tolerance inside)", closest)
	return nil
}

// sample is a fixed set of results for Render, so its output is known.
var sample = []reference.Result{
	{Format: "json", Bytes: 1289507, Encode: 11850 * time.Microsecond, Decode: 40140 * time.Microsecond},
	{Format: "csv", Bytes: 581342, Encode: 4440 * time.Microsecond, Decode: 8720 * time.Microsecond},
	{Format: "avro", Bytes: 455312, Encode: 5490 * time.Microsecond, Decode: 10980 * time.Microsecond},
	{Format: "arrow", Bytes: 603562, Encode: 2100 * time.Microsecond, Decode: 4330 * time.Microsecond},
	{Format: "parquet-snappy", Bytes: 225437, Encode: 20730 * time.Microsecond, Decode: 7420 * time.Microsecond},
	{Format: "parquet-zstd", Bytes: 160401, Encode: 44980 * time.Microsecond, Decode: 7900 * time.Microsecond},
}

// samples are the results Render is given: the sample as it is, json (the
// largest) first, then reordered with json in the middle, so that bars
// scaled to the first or the last row instead of the largest differ.
var samples = []struct {
	what    string
	results []reference.Result
}{
	{"six fixed results (json, the largest at 1289507 bytes, first)", sample},
	{"the same results reordered (json, the largest, third)", []reference.Result{sample[1], sample[2], sample[0], sample[3], sample[4], sample[5]}},
}

func render(ctx context.Context, h *grader.Harness) error {
	for _, s := range samples {
		if err := renderSample(ctx, h, s.what, s.results); err != nil {
			return err
		}
	}
	h.Logf("every format has a table row with its bytes and times, and a bar proportional to its size")
	return nil
}

// renderSample runs Render on results, one of samples, and judges every
// row and bar.
func renderSample(ctx context.Context, h *grader.Harness, what string, results []reference.Result) error {
	arg, _ := json.Marshal(results)
	h.Logf("running Render on %s", what)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"render", string(arg)}})
	if err != nil {
		return err
	}
	var out string
	if err := grader.UnmarshalArtifact("result of Render", res.Value, &out); err != nil {
		return fmt.Errorf("decode the harness's capture: %w", err)
	}
	lines := strings.Split(out, "\n")
	var largest int64
	for _, r := range results {
		largest = max(largest, r.Bytes)
	}
	for _, r := range results {
		var row, bar string
		for _, l := range lines {
			fs := strings.Fields(l)
			if len(fs) == 0 || fs[0] != r.Format {
				continue
			}
			if strings.Contains(l, "█") {
				bar = l
			} else if row == "" {
				row = l
			}
		}
		if row == "" {
			return grader.Failf("the table has no row starting with %q", r.Format)
		}
		if !hasToken(row, func(t string) bool { return t == strconv.FormatInt(r.Bytes, 10) }) {
			return grader.Mismatch(fmt.Sprintf("the %s row does not show its size in bytes", r.Format), r.Bytes, strings.TrimSpace(row))
		}
		for _, d := range []time.Duration{r.Encode, r.Decode} {
			if !hasToken(row, func(t string) bool { return sameDuration(t, d) }) {
				return grader.Mismatch(fmt.Sprintf("the %s row does not show the time %s (as a Go duration)", r.Format, d), d, strings.TrimSpace(row))
			}
		}
		if bar == "" {
			return grader.Failf("the chart has no bar (a run of █) for %q", r.Format)
		}
		n := utf8.RuneCountInString(bar) - utf8.RuneCountInString(strings.ReplaceAll(bar, "█", ""))
		want := max(1, int(math.Round(reference.BarWidth*float64(r.Bytes)/float64(largest))))
		// Exact: the sample's sizes are chosen so that rounding and
		// truncating differ (arrow 18.72, parquet-snappy 6.99,
		// parquet-zstd 4.98 of 40) and no bar is near a half.
		if n != want {
			return grader.Mismatch(fmt.Sprintf("the %s bar is not round(%d × %d / %d) █ long (with the rows given in this order: %s)", r.Format, reference.BarWidth, r.Bytes, largest, formatsOf(results)), want, n)
		}
	}
	return nil
}

// formatsOf lists the results' formats in order, for a failure message.
func formatsOf(rs []reference.Result) string {
	var fs []string
	for _, r := range rs {
		fs = append(fs, r.Format)
	}
	return strings.Join(fs, ", ")
}

func hasToken(row string, ok func(string) bool) bool {
	return slices.ContainsFunc(strings.Fields(row), ok)
}

// sameDuration accepts a Go duration within 1% of d, so "11.85ms" and
// "11.9ms" both show 11.85ms.
func sameDuration(tok string, d time.Duration) bool {
	got, err := time.ParseDuration(tok)
	return err == nil && math.Abs(float64(got-d)) <= 0.01*float64(d)
}

// badCase is one input for Decode, good or bad.
type badCase struct {
	format, what string
	data         []byte
	good         bool
}

func badInput(ctx context.Context, h *grader.Harness) error {
	truth := Data(h.Seed())[:500]
	enc := map[string][]byte{}
	for _, f := range reference.Formats {
		var b bytes.Buffer
		if err := reference.Encode(f, &b, truth); err != nil {
			return err
		}
		enc[f] = b.Bytes()
	}
	jsonBad := bytes.Replace(enc["json"], []byte(`"ts":`), []byte(`"ts":"yesterday","x":`), 1)
	csvBad := bytes.Replace(enc["csv"], []byte("device,ts,temp,battery"), []byte("device,time,temp,battery"), 1)
	otherSchema, err := otherParquet()
	if err != nil {
		return err
	}
	renamed, err := renamedArrow(enc["arrow"])
	if err != nil {
		return err
	}
	cases := []badCase{
		{"json", "valid JSON Lines", enc["json"], true},
		{"json", "a reading whose ts is the string \"yesterday\"", jsonBad, false},
		{"csv", "valid CSV", enc["csv"], true},
		{"csv", "CSV whose header says time instead of ts", csvBad, false},
		{"avro", "a valid container file", enc["avro"], true},
		{"avro", "a container file cut in half", enc["avro"][:len(enc["avro"])/2], false},
		{"arrow", "a valid IPC file", enc["arrow"], true},
		{"arrow", "an IPC file cut in half", enc["arrow"][:len(enc["arrow"])/2], false},
		{"arrow", "an IPC file whose temp column, of the same type, is named temperature", renamed, false},
		{"parquet-snappy", "a valid Parquet file", enc["parquet-snappy"], true},
		{"parquet-snappy", "a Parquet file cut in half", enc["parquet-snappy"][:len(enc["parquet-snappy"])/2], false},
		{"parquet-zstd", "a valid Parquet file", enc["parquet-zstd"], true},
		{"parquet-zstd", "a Parquet file whose ts column holds strings", otherSchema, false},
	}
	args := []string{"bad"}
	for i, c := range cases {
		p := h.Path(fmt.Sprintf("case-%02d", i))
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			return err
		}
		args = append(args, c.format, p)
	}
	h.Logf("running Decode on %d inputs: a valid one and at least one bad one for each format", len(cases))
	res, err := h.Run(ctx, grader.RunOptions{Args: args})
	if err != nil {
		return err
	}
	var got []struct {
		Error, Panic string
		N            int
	}
	if err := grader.UnmarshalArtifact("result of Decode", res.Value, &got); err != nil || len(got) != len(cases) {
		return fmt.Errorf("decode the harness's capture: %v", err)
	}
	for i, c := range cases {
		g := got[i]
		switch {
		case g.Panic != "":
			return grader.Failf("Decode(%q, %s) panicked: %s; bad input must come back as an error", c.format, c.what, g.Panic)
		case c.good && (g.Error != "" || g.N != len(truth)):
			return grader.Mismatch(fmt.Sprintf("Decode(%q, %s) must read it", c.format, c.what), fmt.Sprintf("%d readings", len(truth)), fmt.Sprintf("%d readings, error %q", g.N, g.Error))
		case !c.good && g.Error == "":
			return grader.Mismatch(fmt.Sprintf("Decode(%q, %s) must return an error", c.format, c.what), "an error", fmt.Sprintf("%d readings and no error", g.N))
		case !c.good:
			h.Logf("%s, %s → error: %s", c.format, c.what, g.Error)
		}
	}
	// The directory must exist and be writable: if it did not, any Measure
	// would fail on its first file and pass this check without looking at
	// its readings at all. The lesson's "empty input" is zero readings,
	// whether the slice is nil or empty (an empty JSON array decodes to an
	// empty, non-nil slice), so both are asked.
	dir := h.Path("empty-out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h.Logf("running Measure(\"empty-out\", no readings, 3 rounds) into an existing, writable, empty directory: once with a nil slice, once with an empty one")
	res, err = h.Run(ctx, grader.RunOptions{Args: []string{"empty", dir}})
	if err != nil {
		return err
	}
	var msgs []string
	// A value that does not decode leaves msgs empty: no error.
	_ = grader.UnmarshalArtifact("result of Measure", res.Value, &msgs)
	for i, what := range []string{"nil", "[]Reading{}"} {
		if i >= len(msgs) || msgs[i] == "" {
			return grader.Mismatch(fmt.Sprintf("Measure with no readings (%s) must return an error: there is nothing to measure", what), "an error", "no error")
		}
		h.Logf("no readings (%s) → error: %s", what, msgs[i])
	}
	return nil
}

// renamedArrow rewrites a valid IPC file with its temp column renamed
// temperature: every type and value the same, so only a decoder that
// compares the columns' names, not just their types, rejects it.
func renamedArrow(valid []byte) ([]byte, error) {
	r, err := ipc.NewFileReader(bytes.NewReader(valid))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	fields := slices.Clone(r.Schema().Fields())
	i := slices.IndexFunc(fields, func(f arrow.Field) bool { return f.Name == "temp" })
	if i < 0 {
		return nil, errors.New("the reference's Arrow file has no temp column")
	}
	fields[i].Name = "temperature"
	schema := arrow.NewSchema(fields, nil)
	var out seekBuffer
	fw, err := ipc.NewFileWriter(&out, ipc.WithSchema(schema))
	if err != nil {
		return nil, err
	}
	for k := range r.NumRecords() {
		rec, err := r.Record(k)
		if err != nil {
			return nil, err
		}
		// The renamed record retains rec's columns; the reader owns rec.
		renamed := array.NewRecord(schema, rec.Columns(), rec.NumRows())
		err = fw.Write(renamed)
		renamed.Release()
		if err != nil {
			return nil, err
		}
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// seekBuffer is the io.WriteSeeker the IPC file writer asks for; it only
// ever asks where it is (Seek(0, io.SeekCurrent)).
type seekBuffer struct{ bytes.Buffer }

func (b *seekBuffer) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, errors.New("seekBuffer only tells its position")
	}
	return int64(b.Len()), nil
}

// otherParquet is a valid Parquet file of another schema: ts as strings.
func otherParquet() ([]byte, error) {
	s := arrow.NewSchema([]arrow.Field{{Name: "device", Type: arrow.BinaryTypes.String}, {Name: "ts", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	for i := range 10 {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("ap-%03d", i))
		b.Field(1).(*array.StringBuilder).Append("2026-11-23T10:00:00Z")
	}
	rec := b.NewRecord()
	defer rec.Release()
	var out bytes.Buffer
	fw, err := pqarrow.NewFileWriter(s, &out, parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)), pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	if err := fw.Write(rec); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
