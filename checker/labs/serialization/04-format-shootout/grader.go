// Package formatshootout grades the lab "Choosing a format, measured": it
// hands the learner's Measure a data set, decodes every file Measure wrote
// with the checker's own decoders, compares reported sizes with the files,
// and judges the reported times against its own timing of the learner's
// Encode and Decode in the same process and the same run.
package formatshootout

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
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

// Lab is the trusted grader for labs/serialization/04-format-shootout.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
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
	// rounds is what the checker asks Measure for.
	rounds = 5
	// floor: a reported time may be at most this many times shorter than
	// the checker's own timing of the same function.
	floor = 10
)

// Data is the grader's data set: 200 devices, one reading a second with
// jitter, one temperature in ten missing.
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
	return out
}

// measured is what one measure run returned.
type measured struct {
	Results []reference.Result `json:"results"`
	Wall    int64              `json:"wall"`
	Samples map[string]struct {
		Encode []int64 `json:"encode"`
		Decode []int64 `json:"decode"`
	} `json:"samples"`
	dir   string
	truth []reference.Reading
	byFmt map[string]reference.Result
}

func measure(ctx context.Context, h *grader.Harness) (*measured, error) {
	truth := Data(h.Seed())
	in, dir := h.Path("readings.json"), h.Path("out")
	raw, _ := json.Marshal(truth)
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	h.Logf("running Measure(\"out\", %d readings, %d rounds); then timing your Encode and Decode of each format myself, 7 rounds", len(truth), rounds)
	res, err := h.Run(ctx, grader.RunOptions{Args: append([]string{"measure", in, dir, strconv.Itoa(rounds)}, reference.Formats...)})
	if err != nil {
		return nil, err
	}
	m := &measured{dir: dir, truth: truth, byFmt: map[string]reference.Result{}}
	if err := grader.UnmarshalArtifact("result of Measure", res.Value, m); err != nil {
		return nil, fmt.Errorf("decode the harness's capture: %w", err)
	}
	var got []string
	for _, r := range m.Results {
		got = append(got, r.Format)
		m.byFmt[r.Format] = r
	}
	if !slices.Equal(got, reference.Formats) {
		return nil, grader.Mismatch("Measure must return one result per format, in this order", strings.Join(reference.Formats, " "), strings.Join(got, " "))
	}
	return m, nil
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
	m, err := measure(ctx, h)
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
// of the seed's data with the values where decoders go wrong placed first,
// whatever the seed — a missing temperature, a temperature of exactly 0
// (which a decoder that reads null as zero cannot tell from it), the
// battery's bounds and a fractional temperature.
func decodeCases(seed uint64) []reference.Reading {
	zero, frac := 0.0, 12.34
	edges := []reference.Reading{
		{Device: "ap-000", TS: 1_793_577_600_000, Battery: 0},
		{Device: "ap-001", TS: 1_793_577_600_001, Temp: &zero, Battery: 100},
		{Device: "ap-002", TS: 1_793_577_600_002, Temp: &frac, Battery: 57},
	}
	return append(edges, Data(seed ^ 0xdec0de)[:997]...)
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
	m, err := measure(ctx, h)
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

func median(ns []int64) time.Duration {
	s := slices.Clone(ns)
	slices.Sort(s)
	return time.Duration(s[len(s)/2])
}

// spread is the ratio of the slowest to the fastest round, leaving out the
// first, which warms caches up.
func spread(ns []int64) float64 {
	s := slices.Clone(ns[1:])
	slices.Sort(s)
	return float64(s[len(s)-1]) / float64(max(s[0], 1))
}

func timings(ctx context.Context, h *grader.Harness) error {
	m, err := measure(ctx, h)
	if err != nil {
		return err
	}
	type op struct {
		name          string
		learner, mine time.Duration
		noise         float64
	}
	var ops []op
	var reported time.Duration
	for _, f := range reference.Formats {
		r, s := m.byFmt[f], m.Samples[f]
		if len(s.Encode) < 3 || len(s.Decode) < 3 {
			return fmt.Errorf("the harness measured too few rounds of %s", f)
		}
		ops = append(ops,
			op{f + " encode", r.Encode, median(s.Encode), spread(s.Encode)},
			op{f + " decode", r.Decode, median(s.Decode), spread(s.Decode)})
		reported += rounds * (r.Encode + r.Decode)
	}
	for _, o := range ops {
		if o.learner <= 0 {
			return grader.Failf("%s: the reported time is %s; every time must be a measurement", o.name, o.learner)
		}
		if o.learner*floor < o.mine {
			return grader.Mismatch(fmt.Sprintf("%s: the time you report is far shorter than your code takes; the checker timed the same function at %s (median of 7), and a measurement cannot be %d× faster than the code it measures", o.name, o.mine, floor),
				fmt.Sprintf("at least %s", o.mine/floor), o.learner)
		}
	}
	h.Logf("no reported time is %d× shorter than the checker's own timing of your code", floor)
	wall := time.Duration(m.Wall)
	if reported > wall*3/2+20*time.Millisecond {
		return grader.Mismatch(fmt.Sprintf("the times you report add up to more than Measure took: %d rounds × (encode + decode) of every format is %s, but the whole Measure call took %s", rounds, reported, wall),
			fmt.Sprintf("at most %s", wall), reported)
	}
	h.Logf("%d rounds × the reported times add up to no more than the %s Measure took", rounds, wall)

	// Relative speeds: each time as a share of the geometric mean of all
	// twelve, the learner's against the checker's. The tolerance is twice
	// the worst round-to-round spread the checker saw in this run, and at
	// least 2×, so a noisy machine widens it instead of failing anyone.
	noise := 1.0
	var lg, mg float64
	for _, o := range ops {
		noise = max(noise, o.noise)
		lg += math.Log(float64(o.learner))
		mg += math.Log(float64(o.mine))
	}
	lg, mg = lg/float64(len(ops)), mg/float64(len(ops))
	tol := max(2, 2*noise)
	for _, o := range ops {
		ratio := math.Exp((math.Log(float64(o.learner)) - lg) - (math.Log(float64(o.mine)) - mg))
		if ratio > tol || ratio < 1/tol {
			return grader.Mismatch(fmt.Sprintf("%s: relative to the other formats, the time you report does not match the checker's timing of your code (tolerance %.1f×, from the spread between rounds in this run)", o.name, tol),
				fmt.Sprintf("%.2f× the typical time", float64(o.mine)/math.Exp(mg)), fmt.Sprintf("%.2f× the typical time", float64(o.learner)/math.Exp(lg)))
		}
	}
	h.Logf("relative speeds agree with the checker's timing within the tolerance measured in this run")
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

func render(ctx context.Context, h *grader.Harness) error {
	arg, _ := json.Marshal(sample)
	h.Logf("running Render on six fixed results (json is the largest at 1289507 bytes)")
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
	for _, r := range sample {
		largest = max(largest, r.Bytes)
	}
	for _, r := range sample {
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
			return grader.Mismatch(fmt.Sprintf("the %s bar is not round(%d × %d / %d) █ long", r.Format, reference.BarWidth, r.Bytes, largest), want, n)
		}
	}
	h.Logf("every format has a table row with its bytes and times, and a bar proportional to its size")
	return nil
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
	cases := []badCase{
		{"json", "valid JSON Lines", enc["json"], true},
		{"json", "a reading whose ts is the string \"yesterday\"", jsonBad, false},
		{"csv", "valid CSV", enc["csv"], true},
		{"csv", "CSV whose header says time instead of ts", csvBad, false},
		{"avro", "a valid container file", enc["avro"], true},
		{"avro", "a container file cut in half", enc["avro"][:len(enc["avro"])/2], false},
		{"arrow", "a valid IPC file", enc["arrow"], true},
		{"arrow", "an IPC file cut in half", enc["arrow"][:len(enc["arrow"])/2], false},
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
	h.Logf("running Decode on %d inputs: one valid and one bad for each format", len(cases))
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
