// Package splitboundaries grades the lab "Split boundaries": the harness
// runs the learner's CountSplit once per block of a log on a real HDFS,
// each worker with a reader of its own that counts the bytes it serves;
// the grader checks the splits against the NameNode's block list, the
// totals against its own count, each split's counts against the
// LineRecordReader rule, and each worker's reads against its split.
package splitboundaries

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	pathpkg "path"
	"slices"
	"sort"
	"strings"

	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/hdfs/03-split-boundaries.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"splits":      checkSplits,
		"totals":      checkTotals,
		"boundaries":  checkBoundaries,
		"split-reads": checkSplitReads,
	},
}

const (
	// block is the block size the logs are written with.
	block = 1 << 20
	// readAhead is what a worker may read beyond the bytes its records
	// need (a buffered reader's read-ahead), as the lesson states.
	readAhead = 64 << 10
)

// boundaries is the lab's boundary table: each rule the lesson states,
// the input that holds its edge in every run whatever the seed (built by
// construction in checkSplits, totalsLog, checkTotals and boundaryLog;
// TestEveryBoundaryIsInEveryRun reads those inputs back over many seeds),
// and the check that judges it.
var boundaries = []struct{ rule, input, check string }{
	{"a file that is an exact multiple of the block size has no empty last split", "exact.log: exactly 2 blocks", "splits"},
	{"a file smaller than a block is one split", "small.log: 200–300 KB, no final newline", "splits"},
	{"an empty file has no splits and no records", "empty.log: 0 bytes", "splits, totals"},
	{"splits follow the file's own block size, not a default", "wide.log: written with 2 MiB blocks, over 3 MiB", "splits"},
	{"a last record without a newline is a record", "small.log (both checks), edges.log", "totals, boundaries"},
	{"a record that ends exactly on a block edge belongs to the split before it", "edges.log: a newline is byte 1 MiB − 1", "boundaries"},
	{"a record whose newline alone is past the edge belongs to the split it starts in", "edges.log: a newline is byte 2 MiB", "boundaries"},
	{"a record longer than a block is counted once, by the split it starts in; a split inside it owns nothing", "edges.log: one record covers the whole of block 3", "boundaries, split-reads"},
	{"a record longer than bufio.Scanner's 64 KiB token is read whole", "edges.log: the 1.2 MiB record", "boundaries"},
	{"ordinary records cross most block edges", "events.log: 4+ blocks of random records", "totals"},
	{"a worker reads its split, one more line and at most 64 KiB more", "edges.log, with the harness's counting readers", "split-reads"},
}

// eventKeys are the keys the generated logs draw from; the seed decides
// how often each one occurs, and drops some.
var eventKeys = []string{"view", "search", "login", "add_to_cart", "checkout", "logout", "error", "refund", "signup", "share", "rate", "wishlist"}

// logGen writes a line-oriented event log: "<timestamp> <key> <payload>\n".
type logGen struct {
	r       *rand.Rand
	keys    []string
	weights []int
	sum     int
	sec     int
	buf     bytes.Buffer
}

func newLog(seed, stream uint64) *logGen {
	g := &logGen{r: rand.New(rand.NewPCG(seed, stream))}
	for _, k := range eventKeys {
		if g.r.IntN(5) == 0 {
			continue // this run has no such events
		}
		w := 1 + g.r.IntN(40)
		g.keys = append(g.keys, k)
		g.weights = append(g.weights, w)
		g.sum += w
	}
	if g.sum == 0 {
		g.keys, g.weights, g.sum = []string{"view"}, []int{1}, 1
	}
	return g
}

func (g *logGen) key() string {
	n := g.r.IntN(g.sum)
	for i, w := range g.weights {
		if n < w {
			return g.keys[i]
		}
		n -= w
	}
	return g.keys[len(g.keys)-1]
}

const letters = "abcdefghijklmnopqrstuvwxyz0123456789"

// line appends one record of exactly length bytes, its newline included
// (length >= 64): a timestamp, a key, then short space-separated fields,
// so that a piece of a line cut anywhere still looks like a record.
func (g *logGen) line(length int) {
	g.sec += 1 + g.r.IntN(3)
	s := g.sec
	b := fmt.Appendf(nil, "2026-11-30T%02d:%02d:%02d.%03dZ %s user=u%05d ms=%d", (s/3600)%24, (s/60)%60, s%60, g.r.IntN(1000), g.key(), g.r.IntN(100000), g.r.IntN(5000))
	word := func(n int) {
		for range n {
			b = append(b, letters[g.r.IntN(len(letters))])
		}
	}
	for {
		rest := length - 1 - len(b)
		if rest <= 0 {
			break
		}
		if rest == 1 {
			b = append(b, '0')
			break
		}
		b = append(b, ' ')
		if rest <= 9 {
			word(rest - 1)
			break
		}
		word(1 + g.r.IntN(7))
	}
	g.buf.Write(b)
	g.buf.WriteByte('\n')
}

// random appends one record of an ordinary length: mostly short, now and
// then a few KiB.
func (g *logGen) random() {
	if g.r.IntN(100) == 0 {
		g.line(2000 + g.r.IntN(6000))
		return
	}
	g.line(64 + g.r.IntN(160))
}

// fillTo appends records until the log is exactly end bytes long, so that
// the last one's newline is byte end-1.
func (g *logGen) fillTo(end int) {
	for end-g.buf.Len() > 600 {
		g.line(64 + g.r.IntN(160))
	}
	rest := end - g.buf.Len()
	g.line(rest / 2)
	g.line(rest - rest/2)
}

// growTo appends ordinary records until the log holds at least size bytes.
func (g *logGen) growTo(size int) {
	for g.buf.Len() < size {
		g.random()
	}
}

// noFinalNewline drops the last record's newline.
func (g *logGen) noFinalNewline() []byte {
	b := g.buf.Bytes()
	return b[:len(b)-1]
}

// record is one line of a log: where it starts and its key.
type record struct {
	start, end int64 // end: just past its newline, or the file's end
	key        string
}

// records splits data into its records as the lesson defines them.
func records(data []byte) []record {
	var out []record
	for pos := 0; pos < len(data); {
		n := bytes.IndexByte(data[pos:], '\n')
		end := len(data)
		if n >= 0 {
			end = pos + n + 1
		}
		fields := strings.SplitN(strings.TrimSuffix(string(data[pos:end]), "\n"), " ", 3)
		key := ""
		if len(fields) >= 2 {
			key = fields[1]
		}
		out = append(out, record{start: int64(pos), end: int64(end), key: key})
		pos = end
	}
	return out
}

func countKeys(recs []record) map[string]int64 {
	m := map[string]int64{}
	for _, r := range recs {
		if r.key != "" {
			m[r.key]++
		}
	}
	return m
}

// split is one block of the file, as the harness and the grader see it.
type split struct {
	Start  int64 `json:"start"`
	Length int64 `json:"length"`
}

func (s split) end() int64 { return s.Start + s.Length }

func (s split) String() string { return fmt.Sprintf("[%d, %d)", s.Start, s.end()) }

// owned returns the records of split s under the LineRecordReader rule in
// Hadoop's form (a split owns the lines that start after its start, up to
// and including its end; the first split also owns the line at 0), or in
// the half-open form (the lines that start in [start, end)). Both give
// every record to exactly one split.
func owned(recs []record, s split, hadoop bool) []record {
	var out []record
	for _, r := range recs {
		var in bool
		if hadoop {
			in = (r.start > s.Start || r.start == 0 && s.Start == 0) && r.start <= s.end()
		} else {
			in = r.start >= s.Start && r.start < s.end()
		}
		if in {
			out = append(out, r)
		}
	}
	return out
}

// need is how far a worker of split s must read: to the end of the line
// that holds the split's end (Hadoop's form may read the whole line that
// starts right at the end).
func need(data []byte, s split) int64 {
	if s.end() >= int64(len(data)) {
		return int64(len(data))
	}
	n := bytes.IndexByte(data[s.end():], '\n')
	if n < 0 {
		return int64(len(data))
	}
	return s.end() + int64(n) + 1
}

// part is what the harness reports for one worker.
type part struct {
	split
	Counts map[string]int64 `json:"counts"`
	Keys   int              `json:"keys"`
	Bytes  int64            `json:"bytes"`
	Reads  int64            `json:"reads"`
	Lo     int64            `json:"lo"`
	Hi     int64            `json:"hi"`
}

// countRun is what the harness reports for one "count" run.
type countRun struct {
	File struct {
		Size      int64   `json:"size"`
		BlockSize int64   `json:"block_size"`
		Splits    []split `json:"splits"`
	} `json:"file"`
	Parts     []part           `json:"parts"`
	Total     map[string]int64 `json:"total"`
	TotalKeys int              `json:"total_keys"`
}

func client(h *grader.Harness) (*hdfs.Client, error) {
	return hdfsclient.Connect(h.Endpoints)
}

// putLog writes data to a fresh path with the given block size. A failure
// here is the service's (safe mode, a dead DataNode), never the learner's.
func putLog(h *grader.Harness, name string, data []byte, blockSize int64) (string, error) {
	c, err := client(h)
	if err != nil {
		return "", fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	remote := "/delab/" + h.Unique("splits") + "/" + name
	if len(data) == 0 {
		// Not PutFile: the client's Write, even of nothing, allocates a
		// block, and an empty block is never reported complete.
		if err := c.MkdirAll(pathpkg.Dir(remote), 0o755); err != nil {
			return "", fmt.Errorf("grader creating %s: %w", pathpkg.Dir(remote), err)
		}
		w, err := c.CreateFile(remote, 1, blockSize, 0o644)
		if err == nil {
			err = hdfsclient.CloseFile(w)
		}
		if err != nil {
			return "", fmt.Errorf("grader writing %s: %w", remote, err)
		}
	} else if err := hdfsclient.PutFile(c, remote, data, 1, blockSize); err != nil {
		return "", fmt.Errorf("grader writing %s: %w", remote, err)
	}
	h.Logf("wrote %s: %d bytes, %d records, block size %d (%d blocks)", remote, len(data), len(records(data)), blockSize, (int64(len(data))+blockSize-1)/blockSize)
	return remote, nil
}

// runCount has the harness count each file with one worker per block,
// the files one after the other, in one run.
func runCount(ctx context.Context, h *grader.Harness, paths []string, data [][]byte) ([]*countRun, error) {
	for _, p := range paths {
		h.Logf("running one CountSplit per block of %s, concurrently, each worker with its own counting reader, then Merge", p)
	}
	res, err := h.Run(ctx, grader.RunOptions{Args: append([]string{"count"}, paths...)})
	if err != nil {
		return nil, err
	}
	var out struct {
		ServiceError string      `json:"service_error"`
		Runs         []*countRun `json:"runs"`
	}
	if err := json.Unmarshal(res.Value, &out); err != nil {
		return nil, grader.Failf("the harness's report could not be read: %v", err)
	}
	if out.ServiceError != "" {
		return nil, fmt.Errorf("HDFS failed while the harness read the logs: %s", out.ServiceError)
	}
	if len(out.Runs) != len(paths) {
		return nil, fmt.Errorf("the harness reported %d runs for %d files", len(out.Runs), len(paths))
	}
	for i, run := range out.Runs {
		if run.File.Size != int64(len(data[i])) || len(run.Parts) != len(run.File.Splits) {
			return nil, fmt.Errorf("the harness saw %d bytes and %d parts for %s, the grader wrote %d bytes", run.File.Size, len(run.Parts), paths[i], len(data[i]))
		}
	}
	return out.Runs, nil
}

// showCounts renders counts sorted by key, bounded.
func showCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	var n int64
	for k, v := range m {
		keys = append(keys, k)
		n += v
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d records: ", n)
	for i, k := range keys {
		if i == 12 {
			fmt.Fprintf(&b, " … (%d keys)", len(keys))
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", shorten(k), m[k])
	}
	if len(keys) == 0 {
		b.WriteString("(none)")
	}
	return b.String()
}

func shorten(k string) string {
	if len(k) > 40 {
		return fmt.Sprintf("%q…", k[:40])
	}
	if strings.ContainsAny(k, " \t\n\"") || k == "" {
		return fmt.Sprintf("%q", k)
	}
	return k
}

// diff describes how got differs from want, key by key.
func diff(want, got map[string]int64) string {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		if want[k] != got[k] {
			out = append(out, fmt.Sprintf("%s %+d", shorten(k), got[k]-want[k]))
		}
	}
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("… (%d keys differ)", len(out)))
	}
	return strings.Join(out, ", ")
}

// diagnose names the likely mistake behind wrong totals.
func diagnose(want, got map[string]int64) string {
	var extra []string
	var wantN, gotN int64
	for k, n := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, shorten(k))
		}
		gotN += n
	}
	for _, n := range want {
		wantN += n
	}
	switch {
	case len(extra) > 0:
		sort.Strings(extra)
		return fmt.Sprintf(" (no record has the key %s: the piece of a line cut by a boundary was counted as a record)", strings.Join(extra[:min(3, len(extra))], ", "))
	case gotN < wantN:
		return fmt.Sprintf(" (%d records are missing: lines that cross a boundary counted by no split?)", wantN-gotN)
	case gotN > wantN:
		return fmt.Sprintf(" (%d records too many: lines that cross a boundary counted twice?)", gotN-wantN)
	}
	return ""
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// straddlers lists the records that cross or touch split boundaries, for
// messages.
func straddlers(recs []record, splits []split) string {
	var out []string
	for _, s := range splits[1:] {
		if s.Start <= 0 {
			continue
		}
		for _, r := range recs {
			if r.start < s.Start && r.end > s.Start {
				out = append(out, fmt.Sprintf("boundary %d: record [%d, %d) %s crosses it", s.Start, r.start, r.end, r.key))
			} else if r.start == s.Start {
				out = append(out, fmt.Sprintf("boundary %d: record [%d, %d) %s starts on it", s.Start, r.start, r.end, r.key))
			}
		}
	}
	return strings.Join(out, "; ")
}

// checkSplits has the learner's Splits cut four files, with two block
// sizes, and compares each with the blocks the NameNode reports.
func checkSplits(ctx context.Context, h *grader.Harness) error {
	exact := newLog(h.Seed(), 1)
	exact.fillTo(2 * block)
	small := newLog(h.Seed(), 2)
	small.growTo(200_000 + int(h.Seed()%100_000))
	wide := newLog(h.Seed(), 3)
	wide.growTo(3*block + 200_000 + int(h.Seed()%300_000))
	files := []struct {
		name      string
		data      []byte
		blockSize int64
	}{
		{"exact.log", exact.buf.Bytes(), block},
		{"small.log", small.noFinalNewline(), block},
		{"empty.log", nil, block},
		{"wide.log", wide.buf.Bytes(), 2 * block},
	}
	args := []string{"splits"}
	for _, f := range files {
		p, err := putLog(h, f.name, f.data, f.blockSize)
		if err != nil {
			return err
		}
		args = append(args, p)
	}
	h.Logf("running Splits(size, blockSize) for each file, with the size and block size the NameNode reports")
	res, err := h.Run(ctx, grader.RunOptions{Args: args})
	if err != nil {
		return err
	}
	var out struct {
		ServiceError string `json:"service_error"`
		Files        []struct {
			Path      string  `json:"path"`
			Size      int64   `json:"size"`
			BlockSize int64   `json:"block_size"`
			Splits    []split `json:"splits"`
			More      int     `json:"more_splits"`
		} `json:"files"`
	}
	if err := json.Unmarshal(res.Value, &out); err != nil {
		return grader.Failf("the harness's report could not be read: %v", err)
	}
	if out.ServiceError != "" {
		return fmt.Errorf("HDFS failed while the harness asked for the files' sizes: %s", out.ServiceError)
	}
	if len(out.Files) != len(files) {
		return fmt.Errorf("the harness reported %d files, want %d", len(out.Files), len(files))
	}
	for i, f := range out.Files {
		blocks, err := blockList(ctx, h.Endpoints.HDFSWebUI, f.Path)
		if err != nil {
			return fmt.Errorf("ask the NameNode for the blocks of %s: %w", f.Path, err)
		}
		h.Logf("%s (%d bytes, block size %d): the NameNode lists blocks %s; Splits returned %s", files[i].name, f.Size, f.BlockSize, showSplits(blocks, 0), showSplits(f.Splits, f.More))
		got := f.Splits
		if len(blocks) == 0 && len(got) == 1 && got[0] == (split{}) {
			got = nil // Hadoop's one empty split of an empty file is fine too
		}
		if f.More > 0 || !slices.Equal(got, blocks) {
			return grader.Mismatch(fmt.Sprintf("the splits of %s (%d bytes, block size %d) are not its blocks", files[i].name, f.Size, f.BlockSize), showSplits(blocks, 0), showSplits(f.Splits, f.More))
		}
	}
	return nil
}

func showSplits(s []split, more int) string {
	if len(s) == 0 && more == 0 {
		return "none"
	}
	var parts []string
	for i, x := range s {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… (%d in all)", len(s)+more))
			break
		}
		parts = append(parts, x.String())
	}
	if more > 0 && len(s) <= 8 {
		parts = append(parts, fmt.Sprintf("… (%d more)", more))
	}
	return strings.Join(parts, " ")
}

// blockList returns the file's blocks as WebHDFS GET_BLOCK_LOCATIONS
// reports them: their start offsets and lengths.
func blockList(ctx context.Context, webUI, path string) ([]split, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, webUI+"/webhdfs/v1"+path+"?op=GET_BLOCK_LOCATIONS&user.name=delab", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var doc struct {
		LocatedBlocks struct {
			LocatedBlocks []struct {
				StartOffset int64 `json:"startOffset"`
				Block       struct {
					NumBytes int64 `json:"numBytes"`
				} `json:"block"`
			} `json:"locatedBlocks"`
		} `json:"LocatedBlocks"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, err
	}
	var out []split
	for _, b := range doc.LocatedBlocks.LocatedBlocks {
		if b.Block.NumBytes > 0 {
			out = append(out, split{Start: b.StartOffset, Length: b.Block.NumBytes})
		}
	}
	return out, nil
}

// totalsLog is an ordinary multi-block log: lines cross most boundaries.
func totalsLog(seed uint64) []byte {
	g := newLog(seed, 4)
	g.growTo(4*block + 300_000 + int(seed%400_000))
	return g.buf.Bytes()
}

// checkTotals compares Merge's totals with the grader's own count, for an
// ordinary multi-block log, a log smaller than a block that ends without a
// newline, and an empty log.
func checkTotals(ctx context.Context, h *grader.Harness) error {
	small := newLog(h.Seed(), 5)
	small.growTo(100_000 + int(h.Seed()%50_000))
	files := []struct {
		name string
		data []byte
	}{
		{"events.log", totalsLog(h.Seed())},
		{"small.log", small.noFinalNewline()},
		{"empty.log", nil},
	}
	var paths []string
	var data [][]byte
	for _, f := range files {
		path, err := putLog(h, f.name, f.data, block)
		if err != nil {
			return err
		}
		paths, data = append(paths, path), append(data, f.data)
	}
	runs, err := runCount(ctx, h, paths, data)
	if err != nil {
		return err
	}
	for i, f := range files {
		run := runs[i]
		want := countKeys(records(f.data))
		h.Logf("%s: Merge returned %s", f.name, showCounts(run.Total))
		if run.TotalKeys != len(run.Total) || !equalCounts(want, run.Total) {
			msg := fmt.Sprintf("the totals of %s (%d bytes, %d splits) are wrong: %s%s", f.name, len(f.data), len(run.Parts), diff(want, run.Total), diagnose(want, run.Total))
			if run.TotalKeys > len(run.Total) {
				msg += fmt.Sprintf(" (Merge returned %d keys; the harness kept %d)", run.TotalKeys, len(run.Total))
			}
			return grader.Mismatch(msg, showCounts(want), showCounts(run.Total))
		}
	}
	return nil
}

// boundaryLog is a log whose boundaries are the edge cases: a line ending
// exactly on the first boundary, a line whose newline alone is past the
// second, a line longer than a block that holds the whole fourth block,
// and a last line without a newline.
func boundaryLog(seed uint64) []byte {
	g := newLog(seed, 6)
	g.fillTo(block)
	g.fillTo(2*block + 1)
	before := 60_000 + int(seed%40_000)
	g.fillTo(3*block - before)
	g.line(before + block + 100_000 + int(seed%50_000))
	g.growTo(5*block + 150_000 + int(seed%200_000))
	return g.noFinalNewline()
}

// checkBoundaries compares each worker's counts with the records the
// LineRecordReader rule gives its split.
func checkBoundaries(ctx context.Context, h *grader.Harness) error {
	data := boundaryLog(h.Seed())
	path, err := putLog(h, "edges.log", data, block)
	if err != nil {
		return err
	}
	recs := records(data)
	h.Logf("the edges: a record ends exactly at byte %d; a record's newline is byte %d; a record of %d bytes spans [%d, %d), the whole of block 3; the last record has no newline",
		block, 2*block, longest(recs).end-longest(recs).start, longest(recs).start, longest(recs).end)
	runs, err := runCount(ctx, h, []string{path}, [][]byte{data})
	if err != nil {
		return err
	}
	run := runs[0]
	for i, p := range run.Parts {
		h.Logf("split %d %s: CountSplit returned %s", i, p.split, showCounts(p.Counts))
		if err := judgeSplit(recs, i, p); err != nil {
			return err
		}
	}
	want := countKeys(recs)
	if !equalCounts(want, run.Total) {
		return grader.Mismatch("every split's counts are right, but Merge's totals are not: "+diff(want, run.Total), showCounts(want), showCounts(run.Total))
	}
	h.Logf("Merge returned %s", showCounts(run.Total))
	return nil
}

// judgeSplit checks that worker i counted exactly the records the
// LineRecordReader rule gives its split, in either form.
func judgeSplit(recs []record, i int, p part) error {
	hadoop, halfOpen := countKeys(owned(recs, p.split, true)), countKeys(owned(recs, p.split, false))
	if p.Keys == len(p.Counts) && (equalCounts(p.Counts, hadoop) || equalCounts(p.Counts, halfOpen)) {
		return nil
	}
	return grader.Mismatch(fmt.Sprintf("split %d %s did not count the records the LineRecordReader rule gives it (differences: %s); near its boundaries: %s",
		i, p.split, diff(hadoop, p.Counts), straddlers(recs, []split{{}, {Start: p.Start}, {Start: p.end()}})),
		showCounts(hadoop), showCounts(p.Counts))
}

func longest(recs []record) record {
	var best record
	for _, r := range recs {
		if r.end-r.start > best.end-best.start {
			best = r
		}
	}
	return best
}

// checkSplitReads checks what each worker read through its reader: at
// most its split, the rest of the line that crosses its end, one byte
// before its start and the read-ahead allowance, all near its split.
func checkSplitReads(ctx context.Context, h *grader.Harness) error {
	data := totalsLog(h.Seed() + 1)
	path, err := putLog(h, "events.log", data, block)
	if err != nil {
		return err
	}
	runs, err := runCount(ctx, h, []string{path}, [][]byte{data})
	if err != nil {
		return err
	}
	run := runs[0]
	for i, p := range run.Parts {
		end := need(data, p.split)
		if p.Bytes == 0 {
			h.Logf("split %d %s: its worker read nothing", i, p.split)
		} else {
			h.Logf("split %d %s: its worker read %d bytes in %d calls, from offset %d to %d (its last record ends at %d; the limit is %d bytes)", i, p.split, p.Bytes, p.Reads, p.Lo, p.Hi, end, readLimit(data, p.split))
		}
		if err := judgeReads(data, i, p); err != nil {
			return err
		}
	}
	want := countKeys(records(data))
	if !equalCounts(want, run.Total) {
		return grader.Mismatch("every worker kept to its split, but the totals are wrong: "+diff(want, run.Total), showCounts(want), showCounts(run.Total))
	}
	return nil
}

// readLimit is how many bytes the worker of split s may read in all.
func readLimit(data []byte, s split) int64 {
	return need(data, s) - s.Start + 1 + readAhead
}

// judgeReads checks what worker i read: at most its split, the rest of
// the line that crosses its end, one byte before its start and the
// read-ahead allowance, and nothing far outside that window.
func judgeReads(data []byte, i int, p part) error {
	end := need(data, p.split)
	limit := readLimit(data, p.split)
	if p.Bytes > limit {
		return grader.Mismatch(fmt.Sprintf("the worker of split %d %s read more than its split and the line that crosses its end", i, p.split),
			fmt.Sprintf("at most %d bytes (%d of the split and the rest of its last line, 1 before it, %d read-ahead)", limit, end-p.Start, readAhead),
			fmt.Sprintf("%d bytes, offsets %d to %d", p.Bytes, p.Lo, p.Hi))
	}
	if p.Bytes > 0 && (p.Lo < p.Start-1-readAhead || p.Hi > end+readAhead) {
		return grader.Mismatch(fmt.Sprintf("the worker of split %d %s read outside its split and the line that crosses its end", i, p.split),
			fmt.Sprintf("offsets within %d to %d (its split, the line that crosses its end, %d read-ahead either side)", max(0, p.Start-1-readAhead), min(int64(len(data)), end+readAhead), readAhead),
			fmt.Sprintf("offsets %d to %d", p.Lo, p.Hi))
	}
	return nil
}
