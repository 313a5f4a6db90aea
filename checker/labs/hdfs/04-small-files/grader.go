// Package smallfiles grades the lab "Compact small files": it drops
// hundreds of small per-device CSV files on a real HDFS, runs the learner's
// Compact, and then judges what the namespace holds: the NameNode's own
// counters (JMX), the grader's own listing, every record of the Avro parts
// read with the grader's own bounded reader, and every row of the index.
package smallfiles

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
	"github.com/delab-dev/delab/checker/labs/serialization/parquetcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/hdfs/04-small-files.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"namespace": namespace,
		"records":   records,
		"index":     index,
		"part-size": partSize,
	},
}

const (
	// bigDrop is how many originals the namespace check drops: enough
	// that a 50× drop is far beyond what one part per original, or per
	// few originals, can reach, and few enough that the checker writes
	// them in a few seconds (about 5 ms a file on an idle 2-core machine),
	// so that a warm check stays under 15 s: 500 originals cost 1,000
	// objects, a correct compaction about ten.
	bigDrop = 500
	// bigPart is the namespace check's partBytes: about 3 parts.
	bigPart = 96 << 10
	// smallDrop and smallPart are the other checks' drop: about 8 parts,
	// so every rule about part boundaries is tested several times.
	smallDrop = 250
	smallPart = 16 << 10
	// minDrop is how many times fewer namespace objects the compacted
	// directory must cost than the drop did.
	minDrop = 50
	// partLimit and totalLimit bound what the grader reads of the
	// learner's parts: a correct drop compacts to about 1 MiB in all.
	partLimit  = 32 << 20
	totalLimit = 64 << 20
	// indexLimit bounds the index the grader reads: a correct one is
	// about 60 bytes a row.
	indexLimit = 4 << 20
	// listLimit bounds how many entries the grader lists under outDir.
	listLimit = 20_000
)

// ---------------------------------------------------------------------
// The drop: what the checker writes, and how.

// reading is one line of an original file.
type reading struct {
	TS    int64
	Value float64
}

// original is one small file of the drop.
type original struct {
	name     string
	data     []byte
	readings []reading
}

// Boundary table: every rule the lesson's contract states, the input that
// reaches its edge in every run whatever the seed (generate places them),
// and the check that judges it. wantParts is the lesson's part rule
// applied to the drop in the order the learner lists it (by name).
//
//	rule                                         input                                      check
//	a part is closed once its originals reach    part 0 of the rule holds exactly partBytes  part-size (index,
//	  partBytes, at exactly partBytes too                                                     records)
//	…and only then: the original that crosses    the parts after part 1 cross partBytes      part-size
//	  partBytes stays in the part                  naturally (≥2 originals, sum > partBytes)
//	an original is never split, even one larger  part 1 of the rule is one original of more   part-size, records
//	  than partBytes                               than partBytes
//	every line is one record, in order; at       an original of exactly one line             records, index
//	  least one line per file
//	index.csv names each original by its base    one name with a space and a comma, one with  index, records
//	  name, as CSV                                 a double quote
//	first/count point at the original's records  the first original of every part            index
//	the drop's objects fall ≥50×, originals      500 files in one directory                  namespace
//	  gone from the NameNode's counters
//	every file closed before the first delete    the same drop, its NameNode calls recorded  namespace
//	  of an original                               in order by the harness
//
// generate makes n per-device files of one hour, with seeded device ids,
// line counts and values: "<unix ms>,<value>\n" lines. Device ids grow, so
// the order generated is the order a listing gives.
func generate(seed uint64, n int, partBytes int64) []original {
	r := rand.New(rand.NewPCG(seed, 4))
	hour := int64(1772323200000) + int64(r.IntN(24*60))*3_600_000 // March and April 2026
	stamp := time.UnixMilli(hour).UTC().Format("20060102T15")
	out := make([]original, n)
	device := r.IntN(500)
	// Where the seeded cases go among the originals of the first part.
	oneLine, comma, quote := 1+r.IntN(4), 5+r.IntN(4), 9+r.IntN(4)
	var inPart int64 // bytes of the originals in the rule's current part
	parts := 0
	for i := range out {
		device += 1 + r.IntN(40)
		name := fmt.Sprintf("sensor-%05d_%s.csv", device, stamp)
		switch i {
		case comma:
			name = fmt.Sprintf("sensor-%05d_%s (resent, 2).csv", device, stamp)
		case quote:
			name = fmt.Sprintf(`sensor-%05d_%s "late".csv`, device, stamp)
		}
		var rs []reading
		var b []byte
		switch {
		case parts == 1 && inPart == 0:
			// Part 1: one original larger than partBytes, alone.
			rs, b = readingsOfSize(r, hour, int(partBytes)+1+r.IntN(2000))
		case parts == 0 && partBytes-inPart < 1200:
			// Part 0 ends at exactly partBytes.
			rs, b = readingsOfSize(r, hour, int(partBytes-inPart))
		case i == oneLine:
			rs, b = readingsOfLines(r, hour, 1)
		default:
			rs, b = readingsOfLines(r, hour, 3+r.IntN(40))
		}
		out[i] = original{name: name, data: b, readings: rs}
		if inPart += int64(len(b)); inPart >= partBytes {
			parts, inPart = parts+1, 0
		}
	}
	return out
}

// valueText is a reading's value as an original writes it: two decimals,
// -20.00 to 44.99; width 4 to 6 picks it among those that many characters
// long, and 0 any.
func valueText(r *rand.Rand, width int) string {
	var v int
	switch width {
	case 4:
		v = r.IntN(1000) // 0.00 to 9.99
	case 5:
		v = 1000 + r.IntN(3500) // 10.00 to 44.99
	case 6:
		v = -1000 - r.IntN(1001) // -10.00 to -20.00
	default:
		v = r.IntN(6500) - 2000
	}
	return strconv.FormatFloat(float64(v)/100, 'f', 2, 64)
}

// readingsOf writes one line per value text, a minute apart.
func readingsOf(r *rand.Rand, hour int64, values []string) ([]reading, []byte) {
	var b bytes.Buffer
	rs := make([]reading, len(values))
	for j, text := range values {
		ts := hour + int64(j)*60_000 + int64(r.IntN(1000))
		v, _ := strconv.ParseFloat(text, 64)
		rs[j] = reading{TS: ts, Value: v}
		fmt.Fprintf(&b, "%d,%s\n", ts, text)
	}
	return rs, b.Bytes()
}

func readingsOfLines(r *rand.Rand, hour int64, lines int) ([]reading, []byte) {
	values := make([]string, lines)
	for j := range values {
		values[j] = valueText(r, 0)
	}
	return readingsOf(r, hour, values)
}

// readingsOfSize makes an original of exactly size bytes (size ≥ 171):
// a line is 15 bytes around a value of 4 to 6 characters.
func readingsOfSize(r *rand.Rand, hour int64, size int) ([]reading, []byte) {
	lines := (size + 20) / 21
	extra := size - 19*lines // 0 ≤ extra ≤ 2×lines for size ≥ 171
	values := make([]string, lines)
	for j := range values {
		w := 4 + min(2, extra)
		extra -= w - 4
		values[j] = valueText(r, w)
	}
	r.Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
	return readingsOf(r, hour, values)
}

// wantParts is the lesson's rule on the originals in the order given:
// add them one at a time, and close the part once their bytes reach
// partBytes.
func wantParts(origs []original, partBytes int64) [][]original {
	var out [][]original
	var cur []original
	var sum int64
	for _, o := range origs {
		cur = append(cur, o)
		if sum += int64(len(o.data)); sum >= partBytes {
			out, cur, sum = append(out, cur), nil, 0
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func totalBytes(origs []original) int {
	n := 0
	for _, o := range origs {
		n += len(o.data)
	}
	return n
}

// writeDrop writes the originals into dir with eight writers at once: one
// at a time, the checker would spend most of a check's time on them.
func writeDrop(c *hdfs.Client, dir string, origs []original) error {
	if err := c.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("grader creating %s: %w", dir, err)
	}
	work := make(chan original)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := putSmall(c, path.Join(dir, o.name), o.data); err != nil {
					errs <- fmt.Errorf("grader writing %s/%s: %w", dir, o.name, err)
					for range work {
					}
					return
				}
			}
		}()
	}
	for _, o := range origs {
		work <- o
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

func putSmall(c *hdfs.Client, p string, data []byte) error {
	w, err := c.CreateFile(p, 1, 128<<20, 0o644)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return hdfsclient.CloseFile(w)
}

// ---------------------------------------------------------------------
// The NameNode's own evidence.

// nameNode is what the NameNode's FSNamesystemState bean says. That bean
// is computed when asked; the FSNamesystem bean the lesson also names
// holds the same counters as a metrics snapshot up to ten seconds old.
type nameNode struct {
	Files, Blocks int64
	State         string
	Live, Dead    int
}

func (n nameNode) objects() int64 { return n.Files + n.Blocks }

func readNameNode(ctx context.Context, webUI string) (nameNode, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, webUI+"/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState", nil)
	if err != nil {
		return nameNode{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nameNode{}, fmt.Errorf("ask the NameNode's JMX: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nameNode{}, fmt.Errorf("ask the NameNode's JMX: %s", resp.Status)
	}
	var doc struct {
		Beans []struct {
			FilesTotal       int64
			BlocksTotal      int64
			FSState          string
			NumLiveDataNodes int
			NumDeadDataNodes int
		} `json:"beans"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil || len(doc.Beans) == 0 {
		return nameNode{}, fmt.Errorf("the NameNode's JMX has no FSNamesystemState bean (%v)", err)
	}
	b := doc.Beans[0]
	return nameNode{Files: b.FilesTotal, Blocks: b.BlocksTotal, State: b.FSState, Live: b.NumLiveDataNodes, Dead: b.NumDeadDataNodes}, nil
}

// healthy returns a service error (never the learner's failure) when the
// NameNode is in safe mode (nothing can be created or removed) or, when
// strict, has lost a DataNode (a write or read through it may fail).
func healthy(ctx context.Context, h *grader.Harness, strict bool) error {
	nn, err := readNameNode(ctx, h.Endpoints.HDFSWebUI)
	if err != nil {
		return err
	}
	if nn.State != "Operational" {
		return fmt.Errorf("HDFS is not usable: the NameNode is in safe mode (FSState %q), so no file can be created or removed; this is a service problem, not your code's", nn.State)
	}
	if nn.Live == 0 || strict && nn.Dead > 0 {
		return fmt.Errorf("HDFS is not usable: the NameNode reports %d live and %d dead DataNodes; this is a service problem, not your code's", nn.Live, nn.Dead)
	}
	return nil
}

// blame turns a failure into a service error when HDFS itself was not
// healthy by the time it was seen: a DataNode that died under the
// learner's code, or safe mode, is nobody's fault.
func blame(ctx context.Context, h *grader.Harness, err error) error {
	var f *grader.Failure
	if !errors.As(err, &f) {
		return err
	}
	if herr := healthy(ctx, h, true); herr != nil {
		return fmt.Errorf("%w (the check saw: %s)", herr, f.Message)
	}
	return err
}

// ---------------------------------------------------------------------
// One compaction, as every check runs it.

// compaction is one run of Compact and what the namespace held around it.
type compaction struct {
	in, out   string
	partBytes int64
	origs     []original
	before    nameNode // after the checker's drop, before Compact
	after     nameNode // once Compact has returned
	// calls are the NameNode calls that changed the namespace during
	// Compact, "<method> <path>", in the order the NameNode got them
	// (recorded by the harness around the client it gave Compact).
	calls []string
}

func client(h *grader.Harness) (*hdfs.Client, error) {
	return hdfsclient.Connect(h.Endpoints)
}

// compact drops n originals in a fresh directory and runs the learner's
// Compact on it.
func compact(ctx context.Context, h *grader.Harness, c *hdfs.Client, n int, partBytes int64) (*compaction, error) {
	if err := healthy(ctx, h, false); err != nil {
		return nil, err
	}
	root := "/delab/" + h.Unique("smallfiles")
	k := &compaction{in: root + "/drop", out: root + "/compacted", partBytes: partBytes, origs: generate(h.Seed(), n, partBytes)}
	start := time.Now()
	if err := writeDrop(c, k.in, k.origs); err != nil {
		return nil, err
	}
	h.Logf("wrote a drop of %d small files to %s (%d bytes in all, %d to %d lines each) in %s",
		n, k.in, totalBytes(k.origs), minLines(k.origs), maxLines(k.origs), time.Since(start).Round(time.Millisecond))
	var err error
	if k.before, err = readNameNode(ctx, h.Endpoints.HDFSWebUI); err != nil {
		return nil, err
	}
	h.Logf("running Compact(client, %q, %q, partBytes=%d); %s does not exist yet", k.in, k.out, partBytes, k.out)
	// The learner's process may run as another user: the folder is open
	// to it, and the log is read only after the process is gone.
	callDir := h.Path(h.Unique("calls"))
	if err := os.MkdirAll(callDir, 0o777); err != nil {
		return nil, err
	}
	_ = os.Chmod(callDir, 0o777)
	callLog := filepath.Join(callDir, "calls.log")
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"compact", k.in, k.out, strconv.FormatInt(partBytes, 10), callLog}}); err != nil {
		return nil, blame(ctx, h, err)
	}
	data, err := os.ReadFile(callLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	k.calls = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(data) == 0 {
		k.calls = nil
	}
	if k.after, err = readNameNode(ctx, h.Endpoints.HDFSWebUI); err != nil {
		return nil, err
	}
	return k, nil
}

func minLines(origs []original) int {
	m := len(origs[0].readings)
	for _, o := range origs {
		m = min(m, len(o.readings))
	}
	return m
}

func maxLines(origs []original) int {
	m := 0
	for _, o := range origs {
		m = max(m, len(o.readings))
	}
	return m
}

// ---------------------------------------------------------------------
// Check 1: the namespace shrinks, and the originals are gone.

func namespace(ctx context.Context, h *grader.Harness) error {
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	k, err := compact(ctx, h, c, bigDrop, bigPart)
	if err != nil {
		return err
	}
	if err := judgeNamespace(h, c, k); err != nil {
		return blame(ctx, h, err)
	}
	return judgeOrder(h, k)
}

// judgeOrder holds Compact to the lesson's order: close every part and
// the index, and only then delete the originals. The end state of a
// Compact that deletes each original as soon as it is copied, while its
// part is still open, is the same; the order of its NameNode calls is
// not. A crash between the two would lose the original's only copy.
func judgeOrder(h *grader.Harness, k *compaction) error {
	firstGone, lastClose := -1, -1
	for i, c := range k.calls {
		method, path, _ := strings.Cut(c, " ")
		inDrop := path == k.in || strings.HasPrefix(path, k.in+"/")
		switch {
		case (method == "delete" || method == "rename" || method == "rename2") && inDrop && firstGone < 0:
			firstGone = i
		case method == "complete":
			lastClose = i
		}
	}
	if firstGone < 0 {
		// The drop is gone, so something removed it: not the client
		// Compact was given, whose every call the harness records. The
		// lesson asks for that client because the order is judged on it.
		return grader.Mismatch(fmt.Sprintf("the drop %s is gone, but none of the %d NameNode calls made through the client Compact was given removed it: use the client you are given, which is how the checker sees in what order files were closed and removed", k.in, len(k.calls)),
			"the originals deleted through Compact's client", "no delete or rename of the drop through it")
	}
	if lastClose > firstGone {
		_, gone, _ := strings.Cut(k.calls[firstGone], " ")
		_, closed, _ := strings.Cut(k.calls[lastClose], " ")
		return grader.Mismatch(fmt.Sprintf("Compact removed %s (NameNode call %d of %d) before it closed %s (call %d): an original was gone before everything written from it was closed, so a crash in between loses its only complete copy",
			gone, firstGone+1, len(k.calls), closed, lastClose+1),
			"every part and index.csv closed, then the originals deleted", fmt.Sprintf("a delete at call %d, a close at call %d", firstGone+1, lastClose+1))
	}
	h.Logf("every file Compact wrote was closed (NameNode call %d of %d) before it first removed anything of the drop (call %d)", lastClose+1, len(k.calls), firstGone+1)
	return nil
}

// objects counts what the NameNode keeps in memory for a tree: one object
// per file, per directory and per block.
type objects struct{ files, dirs, blocks int64 }

func (o objects) total() int64 { return o.files + o.dirs + o.blocks }

func (o objects) String() string {
	return fmt.Sprintf("%s (%s, %s, %s)", plural(o.total(), "object"), plural(o.files, "file"), plural(o.dirs, "directory"), plural(o.blocks, "block"))
}

// plural says "1 file", "2 files", "1 directory", "3 directories".
func plural[N int | int64](n N, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// list shows at most five names, and how many more there are.
func list(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:5], ", "), len(names)-5)
}

// count walks the tree at p with the grader's own listing; a missing p
// counts nothing.
func count(c *hdfs.Client, p string) (objects, error) {
	var o objects
	seen := 0
	err := c.Walk(p, func(_ string, fi fs.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if seen++; seen > listLimit {
			return fmt.Errorf("%s holds more than %d entries", p, listLimit)
		}
		if fi.IsDir() {
			o.dirs++
			return nil
		}
		o.files++
		if bs := int64(fi.Sys().(*hdfs.FileStatus).GetBlocksize()); fi.Size() > 0 && bs > 0 {
			o.blocks += (fi.Size() + bs - 1) / bs
		}
		return nil
	})
	return o, err
}

func judgeNamespace(h *grader.Harness, c *hdfs.Client, k *compaction) error {
	left, err := c.ReadDir(k.in)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h.Logf("%s is gone", k.in)
	case err != nil:
		return fmt.Errorf("grader listing %s: %w", k.in, err)
	case len(left) > 0:
		return grader.Mismatch(fmt.Sprintf("Compact returned nil, but the originals are still in %s: remove them once the parts and the index are complete", k.in),
			fmt.Sprintf("%s gone or empty", k.in), fmt.Sprintf("%d of the %d originals, e.g. %s", len(left), len(k.origs), left[0].Name()))
	default:
		h.Logf("%s is empty", k.in)
	}
	if _, err := c.Stat(k.out); err != nil {
		return grader.Failf("Compact returned nil, but there is no %s: %v", k.out, err)
	}
	in, err := count(c, k.in)
	if err != nil {
		return fmt.Errorf("grader listing %s: %w", k.in, err)
	}
	out, err := count(c, k.out)
	if err != nil {
		return fmt.Errorf("grader listing %s: %w", k.out, err)
	}
	n := int64(len(k.origs))
	before := objects{files: n, dirs: 1, blocks: n}
	after := objects{files: in.files + out.files, dirs: in.dirs + out.dirs, blocks: in.blocks + out.blocks}
	h.Logf("the grader's listing: the drop cost the NameNode %s; %s and %s now cost %s",
		before, path.Base(k.in), path.Base(k.out), after)
	if after.total()*minDrop > before.total() {
		return grader.Mismatch(fmt.Sprintf("the compacted drop still costs the NameNode too many objects (%.1f× fewer than before; at least %d× fewer is asked)",
			float64(before.total())/float64(max(after.total(), 1)), minDrop),
			fmt.Sprintf("at most %d objects", before.total()/minDrop), after)
	}
	h.Logf("that is %d× fewer objects, at ~150 bytes of NameNode heap each: %d KiB → %d KiB",
		before.total()/max(after.total(), 1), before.total()*150>>10, after.total()*150>>10)
	// The NameNode's own counters: originals moved to a trash, or
	// anywhere else, still cost it memory although they left the drop.
	freed := before.total() - after.total()
	nnFreed := k.before.objects() - k.after.objects()
	// A delete returns before the NameNode has taken every block out of
	// its block map (it removes them in batches, off the client's call),
	// so BlocksTotal may lag the files for a moment: ask again for up to
	// 20 s before calling it a trash.
	for deadline := time.Now().Add(20 * time.Second); nnFreed < freed*9/10 && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		if now, err := readNameNode(context.Background(), h.Endpoints.HDFSWebUI); err == nil {
			k.after = now
			nnFreed = k.before.objects() - k.after.objects()
		}
	}
	h.Logf("the NameNode's JMX (FSNamesystemState): FilesTotal %d → %d, BlocksTotal %d → %d",
		k.before.Files, k.after.Files, k.before.Blocks, k.after.Blocks)
	if nnFreed < freed*9/10 {
		return grader.Mismatch("the drop left its directory, but the NameNode did not get the memory back: FilesTotal + BlocksTotal (files, directories and blocks in the whole namespace) barely fell, so the originals still exist somewhere, e.g. moved to a trash",
			fmt.Sprintf("FilesTotal + BlocksTotal falls by about %d", freed), fmt.Sprintf("it fell by %d", nnFreed))
	}
	return nil
}

// ---------------------------------------------------------------------
// Reading the learner's parts with the grader's own reader.

// record is one record of a part, as the grader reads it.
type record struct {
	File  string  `avro:"file"`
	TS    int64   `avro:"ts"`
	Value float64 `avro:"value"`
}

// part is one Avro container file in outDir.
type part struct {
	name    string
	records []record
}

// readParts reads every file of outDir except index.csv as a part.
func readParts(c *hdfs.Client, out string) ([]part, error) {
	entries, err := c.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, grader.Failf("Compact returned nil, but there is no %s", out)
	}
	if err != nil {
		return nil, fmt.Errorf("grader listing %s: %w", out, err)
	}
	if len(entries) > listLimit {
		return nil, grader.Failf("%s holds %d entries: the checker reads at most %d", out, len(entries), listLimit)
	}
	var parts []part
	var total int64
	for _, e := range entries {
		if e.Name() == "index.csv" {
			continue
		}
		if e.IsDir() {
			return nil, grader.Failf("%s holds a directory, %s: the parts and index.csv sit directly in outDir, and nothing else does", out, e.Name())
		}
		what := "part " + e.Name()
		if e.Size() > partLimit {
			return nil, grader.Unreadable(what, "it is %d bytes, and the checker reads parts of at most %d MiB", e.Size(), partLimit>>20)
		}
		if total += e.Size(); total > totalLimit {
			return nil, grader.Unreadable(what, "the parts hold more than %d MiB in all, far more than the drop", totalLimit>>20)
		}
		data, err := readHDFS(c, path.Join(out, e.Name()), partLimit)
		if err != nil {
			return nil, err
		}
		recs, err := decodePart(what, data)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{name: e.Name(), records: recs})
	}
	if len(parts) == 0 {
		return nil, grader.Failf("Compact returned nil, but %s holds no part: only %d entries, none of them an Avro container file", out, len(entries))
	}
	return parts, nil
}

// readHDFS reads at most limit bytes of an HDFS file.
func readHDFS(c *hdfs.Client, p string, limit int64) ([]byte, error) {
	r, err := c.Open(p)
	if err != nil {
		return nil, fmt.Errorf("grader opening %s: %w", p, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("grader reading %s: %w", p, err)
	}
	if int64(len(data)) > limit {
		return nil, grader.Unreadable(path.Base(p), "it grew past %d MiB while the checker read it", limit>>20)
	}
	return data, nil
}

// decodePart reads an Avro container file the learner wrote: its
// structure is checked before hamba/avro's decoder trusts what it
// declares (parquetcheck.CheckAvroContainer), its schema must have the
// lesson's three fields, and anything that goes wrong while it is decoded
// is the learner's failure.
func decodePart(what string, data []byte) ([]record, error) {
	if !bytes.HasPrefix(data, []byte("Obj\x01")) {
		return nil, grader.Unreadable(what, "it is not an Avro object container file (it does not start with Obj\\x01)")
	}
	if err := parquetcheck.CheckAvroContainer(data, parquetcheck.DefaultAvroLimits); err != nil {
		return nil, grader.Unreadable(what, "%v", err)
	}
	var recs []record
	err := grader.ReadArtifact(what, func() error {
		dec, err := ocf.NewDecoder(bytes.NewReader(data), ocf.WithDecoderSchemaCache(&avro.SchemaCache{}))
		if err != nil {
			return grader.Unreadable(what, "%v", err)
		}
		if err := checkSchema(dec.Schema()); err != nil {
			return grader.Failf("%s has the wrong schema: %v; the lesson's record has file (string), ts (long) and value (double)", what, err)
		}
		for dec.HasNext() {
			var r record
			if err := dec.Decode(&r); err != nil {
				return grader.Unreadable(what, "record %d: %v", len(recs), err)
			}
			recs = append(recs, r)
		}
		if err := dec.Error(); err != nil {
			return grader.Unreadable(what, "after record %d: %v", len(recs), err)
		}
		return nil
	})
	return recs, err
}

// checkSchema requires the three fields the lesson names, with their
// types; other fields are allowed and ignored.
func checkSchema(s avro.Schema) error {
	rs, ok := s.(*avro.RecordSchema)
	if !ok {
		return fmt.Errorf("it is a %s, not a record", s.Type())
	}
	want := map[string]avro.Type{"file": avro.String, "ts": avro.Long, "value": avro.Double}
	for _, name := range []string{"file", "ts", "value"} {
		var f *avro.Field
		for _, g := range rs.Fields() {
			if g.Name() == name {
				f = g
			}
		}
		if f == nil {
			return fmt.Errorf("it has no field %q", name)
		}
		if got := f.Type().Type(); got != want[name] {
			return fmt.Errorf("its field %q is a %s, not a %s", name, got, want[name])
		}
	}
	return nil
}

// ---------------------------------------------------------------------
// Check 2: every reading is in the parts, once, in its original's order.

func records(ctx context.Context, h *grader.Harness) error {
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	k, err := compact(ctx, h, c, smallDrop, smallPart)
	if err != nil {
		return err
	}
	return blame(ctx, h, judgeRecords(h, c, k))
}

// span says where a run of a file's records sits in the parts, for messages.
type span struct {
	part        string
	first, last int // record positions in the part
	partLen     int
}

func (s span) String() string {
	return fmt.Sprintf("%s records %d..%d of %d", s.part, s.first, s.last, s.partLen)
}

func judgeRecords(h *grader.Harness, c *hdfs.Client, k *compaction) error {
	parts, err := readParts(c, k.out)
	if err != nil {
		return err
	}
	byName := map[string]*original{}
	for i := range k.origs {
		byName[k.origs[i].name] = &k.origs[i]
	}
	got := map[string][]reading{}
	spans := map[string][]span{}
	total := 0
	for _, p := range parts {
		total += len(p.records)
		for i, r := range p.records {
			if byName[r.File] == nil {
				return grader.Failf("%s record %d says it comes from file %q, which is not one of the %d originals (file holds the original's base name, e.g. %q)",
					p.name, i, clip(r.File), len(k.origs), k.origs[0].name)
			}
			got[r.File] = append(got[r.File], reading{TS: r.TS, Value: r.Value})
			s := spans[r.File]
			if len(s) > 0 && s[len(s)-1].part == p.name && s[len(s)-1].last == i-1 {
				s[len(s)-1].last = i
			} else {
				s = append(s, span{part: p.name, first: i, last: i, partLen: len(p.records)})
			}
			spans[r.File] = s
		}
	}
	want := 0
	for _, o := range k.origs {
		want += len(o.readings)
	}
	h.Logf("read %s with the grader's own Avro reader: %s (the drop holds %s)", plural(len(parts), "part"), plural(total, "record"), plural(want, "reading"))
	var bad []string
	for _, o := range k.origs {
		if !sameReadings(got[o.name], o.readings) {
			bad = append(bad, o.name)
		}
	}
	if len(bad) > 0 {
		o := byName[bad[0]]
		where := "no record of it is in any part"
		if s := spans[o.name]; len(s) > 0 {
			where = "its records are at " + joinSpans(s)
		}
		return grader.Mismatch(fmt.Sprintf("%d of the %d originals do not come back whole from the parts; the first, %s (%s)", len(bad), len(k.origs), o.name, where),
			describe(o.readings), describeGot(got[o.name], o.readings))
	}
	h.Logf("every original's readings are in the parts, once each, in the order of its lines")
	return nil
}

func joinSpans(s []span) string {
	var b []string
	for _, x := range s {
		b = append(b, x.String())
	}
	return strings.Join(b, ", ")
}

func sameReadings(a, b []reading) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describe(rs []reading) string {
	if len(rs) == 0 {
		return "no readings"
	}
	return fmt.Sprintf("%d readings, first %d,%g, last %d,%g", len(rs), rs[0].TS, rs[0].Value, rs[len(rs)-1].TS, rs[len(rs)-1].Value)
}

// describeGot says how got differs from want: missing readings at the
// end, at the start, or others.
func describeGot(got, want []reading) string {
	d := describe(got)
	switch {
	case len(got) < len(want) && sameReadings(got, want[:len(got)]):
		d += fmt.Sprintf(" (the last %d are missing)", len(want)-len(got))
	case len(got) < len(want) && sameReadings(got, want[len(want)-len(got):]):
		d += fmt.Sprintf(" (the first %d are missing)", len(want)-len(got))
	case len(got) > len(want):
		d += fmt.Sprintf(" (%d too many)", len(got)-len(want))
	case len(got) == len(want):
		for i := range got {
			if got[i] != want[i] {
				d += fmt.Sprintf(" (reading %d is %d,%g; the original's line %d is %d,%g)", i, got[i].TS, got[i].Value, i+1, want[i].TS, want[i].Value)
				break
			}
		}
	}
	return d
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// ---------------------------------------------------------------------
// Check 3: the index finds every original by name.

// entry is one row of index.csv.
type entry struct {
	part         string
	first, count int
}

func index(ctx context.Context, h *grader.Harness) error {
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	k, err := compact(ctx, h, c, smallDrop, smallPart)
	if err != nil {
		return err
	}
	return blame(ctx, h, judgeIndex(h, c, k))
}

// readIndex reads and parses outDir/index.csv.
func readIndex(c *hdfs.Client, out string) (map[string]entry, error) {
	p := path.Join(out, "index.csv")
	fi, err := c.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, grader.Failf("Compact returned nil, but there is no %s", p)
	}
	if err != nil {
		return nil, fmt.Errorf("grader asking for %s: %w", p, err)
	}
	if fi.IsDir() || fi.Size() > indexLimit {
		return nil, grader.Unreadable("index.csv", "it is a directory or larger than %d MiB", indexLimit>>20)
	}
	data, err := readHDFS(c, p, indexLimit)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = 4
	header, err := r.Read()
	if err != nil {
		return nil, grader.Unreadable("index.csv", "its header: %v", err)
	}
	if strings.Join(header, ",") != "name,part,first,count" {
		return nil, grader.Mismatch("index.csv has the wrong header", "name,part,first,count", clip(strings.Join(header, ",")))
	}
	rows := map[string]entry{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, grader.Unreadable("index.csv", "%v (a name holding a comma or a double quote must be quoted, as encoding/csv writes it)", err)
		}
		first, err1 := strconv.Atoi(rec[2])
		n, err2 := strconv.Atoi(rec[3])
		if err1 != nil || err2 != nil || first < 0 || n < 0 {
			return nil, grader.Failf("index.csv line %d: first and count must be whole numbers ≥ 0, got %q and %q", line, clip(rec[2]), clip(rec[3]))
		}
		if _, dup := rows[rec[0]]; dup {
			return nil, grader.Failf("index.csv line %d names %q a second time: one row per original", line, clip(rec[0]))
		}
		rows[rec[0]] = entry{part: rec[1], first: first, count: n}
	}
	return rows, nil
}

func judgeIndex(h *grader.Harness, c *hdfs.Client, k *compaction) error {
	rows, err := readIndex(c, k.out)
	if err != nil {
		return err
	}
	parts, err := readParts(c, k.out)
	if err != nil {
		return err
	}
	byPart := map[string][]record{}
	for _, p := range parts {
		byPart[p.name] = p.records
	}
	names := map[string]bool{}
	for _, o := range k.origs {
		names[o.name] = true
	}
	h.Logf("index.csv has %d rows; the drop had %d originals", len(rows), len(k.origs))
	var missing []string
	for _, o := range k.origs {
		if _, ok := rows[o.name]; !ok {
			missing = append(missing, o.name)
		}
	}
	if len(missing) > 0 {
		return grader.Failf("index.csv has no row for %d of the %d originals, e.g. %s", len(missing), len(k.origs), missing[0])
	}
	var extra []string
	for name := range rows {
		if !names[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return grader.Failf("index.csv names %d files that were not in the drop, e.g. %q (name is the original's base name, e.g. %q)", len(extra), clip(extra[0]), k.origs[0].name)
	}
	// Every row is looked up; the log shows a few, among them the first
	// original of each part, where an index goes wrong most often.
	shown := map[string]bool{}
	for _, o := range k.origs {
		e := rows[o.name]
		recs, ok := byPart[e.part]
		if !ok {
			return grader.Failf("index.csv says %s is in part %q, and %s holds no such part", o.name, clip(e.part), k.out)
		}
		if e.first+e.count > len(recs) {
			return grader.Mismatch(fmt.Sprintf("looking up %s through index.csv points past the end of %s", o.name, e.part),
				fmt.Sprintf("%d records of %s", len(o.readings), e.part),
				fmt.Sprintf("records %d..%d, but %s holds %d", e.first, e.first+e.count-1, e.part, len(recs)))
		}
		var gotRS []reading
		var from []string
		for _, r := range recs[e.first : e.first+e.count] {
			gotRS = append(gotRS, reading{TS: r.TS, Value: r.Value})
			if r.File != o.name && (len(from) == 0 || from[len(from)-1] != r.File) {
				from = append(from, r.File)
			}
		}
		if len(from) > 0 || !sameReadings(gotRS, o.readings) {
			d := describeGot(gotRS, o.readings)
			if len(from) > 0 {
				d += "; they belong to " + clip(strings.Join(from, ", "))
			}
			return grader.Mismatch(fmt.Sprintf("looking up %s through index.csv (%s, first %d, count %d) gives the wrong records", o.name, e.part, e.first, e.count),
				describe(o.readings), d)
		}
		if e.first == 0 && len(shown) < 3 || len(shown) < 5 && fnv(o.name)%50 == 0 {
			shown[o.name] = true
			h.Logf("looked up %s: %s records %d..%d, %d readings, as in the original", o.name, e.part, e.first, e.first+e.count-1, e.count)
		}
	}
	h.Logf("every one of the %d rows leads to exactly its original's readings", len(rows))
	return nil
}

// fnv hashes a name (FNV-1a): it picks the lookups the log shows, the
// same on every run of one seed.
func fnv(name string) uint64 {
	var s uint64 = 14695981039346656037
	for i := 0; i < len(name); i++ {
		s = (s ^ uint64(name[i])) * 1099511628211
	}
	return s
}

// ---------------------------------------------------------------------
// Check 4: parts close once they reach partBytes, and never split an original.

func partSize(ctx context.Context, h *grader.Harness) error {
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	k, err := compact(ctx, h, c, smallDrop, smallPart)
	if err != nil {
		return err
	}
	return blame(ctx, h, judgePartSize(h, c, k))
}

func judgePartSize(h *grader.Harness, c *hdfs.Client, k *compaction) error {
	parts, err := readParts(c, k.out)
	if err != nil {
		return err
	}
	size := map[string]int64{}
	for _, o := range k.origs {
		size[o.name] = int64(len(o.data))
	}
	// The originals of each part, in the order their records come.
	seenIn := map[string]string{}
	var under []string
	var sizes []string
	for _, p := range parts {
		var files []string
		for _, r := range p.records {
			if len(files) > 0 && files[len(files)-1] == r.File {
				continue
			}
			if size[r.File] == 0 {
				return grader.Failf("%s holds records of %q, which is not one of the originals", p.name, clip(r.File))
			}
			if where, ok := seenIn[r.File]; ok {
				return grader.Failf("the records of %s are split: some in %s, some further on in %s; an original goes whole into one part, its records one after another", r.File, where, p.name)
			}
			seenIn[r.File] = p.name
			files = append(files, r.File)
		}
		var sum int64
		for i, f := range files {
			sum += size[f]
			if sum >= k.partBytes && i < len(files)-1 {
				return grader.Mismatch(fmt.Sprintf("%s was not closed once its originals reached partBytes (%d bytes)", p.name, k.partBytes),
					fmt.Sprintf("closed after its first %d originals (%d bytes of them)", i+1, sum),
					fmt.Sprintf("%d originals (%d bytes)", len(files), sum+sizeOf(size, files[i+1:])))
			}
		}
		if sum < k.partBytes {
			under = append(under, p.name)
		}
		if len(sizes) < 8 {
			sizes = append(sizes, fmt.Sprintf("%s %s, %d bytes", p.name, plural(len(files), "original"), sum))
		} else if len(sizes) == 8 {
			sizes = append(sizes, "…")
		}
	}
	h.Logf("%s; by the sizes of the originals in them: %s", plural(len(parts), "part"), strings.Join(sizes, "; "))
	if len(under) > 1 {
		return grader.Mismatch(fmt.Sprintf("%d parts hold fewer than partBytes (%d bytes) of originals: only the last one may, the others are closed once they reach it", len(under), k.partBytes),
			"at most 1", fmt.Sprintf("%d: %s", len(under), list(under)))
	}
	total := 0
	for _, o := range k.origs {
		total += len(o.data)
	}
	h.Logf("%d bytes of originals at partBytes %d: every part but the last reached partBytes, and none went on past it", total, k.partBytes)
	return nil
}

func sizeOf(size map[string]int64, files []string) int64 {
	var n int64
	for _, f := range files {
		n += size[f]
	}
	return n
}
