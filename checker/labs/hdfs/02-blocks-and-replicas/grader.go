// Package blocksandreplicas grades the lab "Blocks and replicas": the
// learner writes a file with a chosen layout, reports where each block of a
// file lives, and reads a file back, also after the checker has killed a
// DataNode. The checker judges the report against `hdfs fsck -files
// -blocks -locations`, run inside the HDFS container, and the bytes against
// what it wrote itself.
//
// Boundary table: every rule the lesson and lab.yaml state, the input that
// reaches its edge in every run whatever the seed (the *Case functions),
// and the check that judges it.
//
//	rule                                         input                                         check
//	Write keeps the block size and replication   writeCase: 1 or 2 MiB blocks, replication 3   write-layout
//	Write stores every byte; blocks not padded   writeCase: a last block of exactly 1 byte     write-layout
//	Report: one Block per block, none for an     reportCases[0]: an empty file                 report-blocks
//	  empty file
//	Report: lengths and offsets from the         reportCases[1]: an exact multiple of the      report-blocks
//	  NameNode, no extra block at an exact         block size (1, 1.5 or 2 MiB, never 128)
//	  multiple
//	Report: a last partial block's length        reportCases[2]: a last partial block          report-blocks
//	Report: every DataNode with a live replica   replication 2 of 3 DataNodes in report-blocks  report-blocks
//	Read: every block, wherever it lives         readCase: 1 replica a block, on ≥2 DataNodes  read-all-blocks
//	Read survives a dead DataNode the NameNode   dieCase: replication 3, one DataNode killed   datanode-dies
//	  still names
//	Report: under-replicated is live < target    dieCase: every block 2 live of 3 after the    datanode-dies
//	                                               NameNode drops the dead DataNode
//
// The truth for a report is fsck run in the HDFS container; the checker
// first checks fsck against the lesson's rule (blockLengths of the size
// and block size it wrote, the replication it asked for), so a report is
// never judged against a service that disagrees with the lesson.
package blocksandreplicas

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	pathpkg "path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/catalog"
	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/hdfs/02-blocks-and-replicas.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"write-layout":    writeLayout,
		"report-blocks":   reportBlocks,
		"read-all-blocks": readAllBlocks,
		"datanode-dies":   dataNodeDies,
	},
}

const (
	// copyLimit bounds every copy of a file the grader reads: the files
	// are at most 5 MB.
	copyLimit = 64 << 20
	// dataNodes is how many DataNodes the lab's HDFS runs; DataNode i
	// has transfer port 9866+10i.
	dataNodes = 3
	// replicaWait bounds the wait for the DataNodes to report the
	// replicas of a file just written.
	replicaWait = 30 * time.Second
	// removalWait bounds the wait for the NameNode to drop a killed
	// DataNode's replicas: 11s to 16s with the lab's heartbeat settings.
	removalWait = 60 * time.Second
)

func dataNodePort(i int) int { return 9866 + 10*i }

// payload is size seeded random bytes: different on every run.
func payload(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 11))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func mibs(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// serviceReady returns an error (a service failure, not the learner's)
// unless the NameNode is out of safe mode with all its DataNodes live.
func serviceReady(ctx context.Context, h *grader.Harness) error {
	st, err := hdfsclient.ReadNameNodeState(ctx, h.Endpoints.HDFSWebUI)
	if err != nil {
		return err
	}
	if st.SafeMode != "" {
		return fmt.Errorf("the NameNode is in safe mode, so the check cannot run: %s", st.SafeMode)
	}
	if len(st.Live) != dataNodes {
		return fmt.Errorf("the NameNode counts %d live DataNodes, not %d, before the check began (live %v, dead %v)", len(st.Live), dataNodes, st.Live, st.Dead)
	}
	return nil
}

// writeFile writes data to path with the grader's own client and waits
// until the DataNodes have reported every replica.
func writeFile(ctx context.Context, h *grader.Harness, path string, data []byte, replication int, blockSize int64) ([]location, error) {
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	if len(data) > 0 {
		err = hdfsclient.PutFile(c, path, data, replication, blockSize)
	} else if err = c.MkdirAll(pathpkg.Dir(path), 0o755); err == nil {
		// No Write at all: in this client a Write allocates a block.
		var w *hdfs.FileWriter
		if w, err = c.CreateFile(path, replication, blockSize, 0o644); err == nil {
			err = hdfsclient.CloseFile(w)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("grader writing %s: %w", path, err)
	}
	blocks := int((int64(len(data)) + blockSize - 1) / blockSize)
	return waitReplicas(ctx, h, path, blocks, replication)
}

// location is one block as WebHDFS GETFILEBLOCKLOCATIONS gives it.
type location struct {
	Offset int64    `json:"offset"`
	Length int64    `json:"length"`
	Names  []string `json:"names"`
}

// blockLocations asks the NameNode, through WebHDFS, where the blocks of
// path are.
func blockLocations(ctx context.Context, h *grader.Harness, path string) ([]location, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.Endpoints.HDFSWebUI+"/webhdfs/v1"+path+"?op=GETFILEBLOCKLOCATIONS&user.name=delab", nil)
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
		return nil, fmt.Errorf("WebHDFS GETFILEBLOCKLOCATIONS %s: %s: %s", path, resp.Status, b)
	}
	var doc struct {
		BlockLocations struct {
			BlockLocation []location
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, err
	}
	return doc.BlockLocations.BlockLocation, nil
}

// waitReplicas waits until path has the given number of blocks, each
// with replication locations: the DataNodes report replicas a moment
// after a write.
func waitReplicas(ctx context.Context, h *grader.Harness, path string, blocks, replication int) ([]location, error) {
	deadline := time.Now().Add(replicaWait)
	for {
		locs, err := blockLocations(ctx, h, path)
		if err != nil {
			return nil, err
		}
		done := len(locs) == blocks
		for _, l := range locs {
			done = done && len(l.Names) == replication
		}
		if done {
			return locs, nil
		}
		if time.Now().After(deadline) {
			return locs, fmt.Errorf("the NameNode reports %d blocks for %s with %s replicas, not %d blocks with %d each, %s after it was written", len(locs), path, replicaCounts(locs), blocks, replication, replicaWait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func replicaCounts(locs []location) string {
	var n []string
	for _, l := range locs {
		n = append(n, strconv.Itoa(len(l.Names)))
	}
	return "[" + strings.Join(n, " ") + "]"
}

const mib = 1 << 20

// fileCase is one file of the boundary table.
type fileCase struct {
	// name says what the case is, in the learner's words.
	name        string
	size        int
	blockSize   int64
	replication int
}

// blockLengths is the lesson's rule: a file is cut into blocks of
// blockSize bytes, the last one holding the rest; an empty file has none.
func blockLengths(size, blockSize int64) []int64 {
	var out []int64
	for off := int64(0); off < size; off += blockSize {
		out = append(out, min(blockSize, size-off))
	}
	return out
}

// writeCase is write-layout's file: whole blocks and a last one of a
// single byte.
func writeCase(seed uint64) fileCase {
	r := rand.New(rand.NewPCG(seed, 1))
	bs := int64(1+r.IntN(2)) * mib
	return fileCase{"a file whose last block holds one byte", int(2*bs) + 1, bs, 3}
}

// reportCases are report-blocks' files, smallest first: an empty file, an
// exact multiple of the block size and a last partial block.
func reportCases(seed uint64) []fileCase {
	r := rand.New(rand.NewPCG(seed, 2))
	bs := []int64{mib, 3 * mib / 2, 2 * mib}[r.IntN(3)]
	exact := int(bs) * (2 + r.IntN(2))
	partial := exact + 1 + r.IntN(int(bs)-1)
	return []fileCase{
		{"an empty file", 0, bs, 2},
		{"a file of exactly " + strconv.Itoa(exact/int(bs)) + " blocks", exact, bs, 2},
		{"a file whose last block is partial", partial, bs, 2},
	}
}

// readCase is read-all-blocks' file: one replica a block, the last block
// partial.
func readCase(seed uint64) fileCase {
	r := rand.New(rand.NewPCG(seed, 3))
	return fileCase{"a file spread over the DataNodes", 4*mib + 1 + r.IntN(mib-1), mib, 1}
}

// dieCase is datanode-dies' file: every DataNode holds every block.
func dieCase(seed uint64) fileCase {
	r := rand.New(rand.NewPCG(seed, 4))
	return fileCase{"a file with three replicas a block", 3*mib + 1 + r.IntN(mib-1), mib, 3}
}

// writeLayout runs the learner's Write and asks the NameNode what was
// stored: bytes, block size, replication, blocks and their replicas.
func writeLayout(ctx context.Context, h *grader.Harness) error {
	if err := serviceReady(ctx, h); err != nil {
		return err
	}
	fc := writeCase(h.Seed())
	blockSize, size, replication := fc.blockSize, fc.size, fc.replication
	data := payload(h.Seed(), size)
	local := h.Path("sensors.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return err
	}
	remote := "/delab/" + h.Unique("blocks") + "/raw/sensors.bin"
	h.Logf("running Write(c, %q, <%d bytes, sha256 %s…>, blockSize=%d, replication=%d); /delab/…/raw does not exist yet", remote, size, digest(data), blockSize, replication)
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"write", remote, local, strconv.FormatInt(blockSize, 10), strconv.Itoa(replication)}}); err != nil {
		return err
	}
	c, err := hdfsclient.Connect(h.Endpoints)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	info, err := c.Stat(remote)
	if err != nil {
		return grader.Failf("Write returned nil, but the NameNode has no file at %s: %v", remote, err)
	}
	st := info.Sys().(*hdfs.FileStatus)
	h.Logf("the NameNode says: %d bytes, block size %d, replication %d", info.Size(), st.GetBlocksize(), st.GetBlockReplication())
	if int64(st.GetBlocksize()) != blockSize || int(st.GetBlockReplication()) != replication {
		return grader.Mismatch("the file's layout is not the one Write was asked for",
			fmt.Sprintf("block size %d, replication %d", blockSize, replication),
			fmt.Sprintf("block size %d, replication %d", st.GetBlocksize(), st.GetBlockReplication()))
	}
	if info.Size() != int64(size) {
		return grader.Mismatch("the file on HDFS has the wrong size", size, info.Size())
	}
	got, err := c.ReadFile(remote)
	if err != nil {
		return fmt.Errorf("grader reading %s: %w", remote, err)
	}
	if digest(got) != digest(data) {
		return grader.Mismatch("the file on HDFS differs from the data Write was given", fmt.Sprintf("%d bytes, sha256 %s…", len(data), digest(data)), fmt.Sprintf("%d bytes, sha256 %s…", len(got), digest(got)))
	}
	want := blockLengths(int64(size), blockSize)
	locs, err := blockLocations(ctx, h, remote)
	if err != nil {
		return err
	}
	if got, ok := lengths(locs); !ok || !slices.Equal(got, want) {
		return grader.Mismatch(fmt.Sprintf("%s: the NameNode lists other blocks than %d bytes cut into blocks of %d make", fc.name, size, blockSize), showLengths(want, true), showLengths(got, ok))
	}
	if locs, err = waitReplicas(ctx, h, remote, len(want), replication); err != nil {
		return err
	}
	h.Logf("WebHDFS GETFILEBLOCKLOCATIONS: %s bytes long, as the lesson's rule gives; replicas per block %s", showLengths(want, true), replicaCounts(locs))
	return nil
}

// reportBlocks writes a file whose blocks sit on different pairs of
// DataNodes and judges the learner's report against fsck.
func reportBlocks(ctx context.Context, h *grader.Harness) error {
	if err := serviceReady(ctx, h); err != nil {
		return err
	}
	for i, fc := range reportCases(h.Seed()) {
		remote := fmt.Sprintf("/delab/%s/events-%d.bin", h.Unique("blocks"), i)
		if _, err := writeFile(ctx, h, remote, payload(h.Seed()+2+uint64(10*i), fc.size), fc.replication, fc.blockSize); err != nil {
			return err
		}
		h.Logf("%s: wrote %s: %d bytes, block size %d (%s), replication %d", fc.name, remote, fc.size, fc.blockSize, mibs(fc.blockSize), fc.replication)
		if err := judgeReport(ctx, h, remote, fc, -1); err != nil {
			var f *grader.Failure
			if errors.As(err, &f) {
				f.Message = fc.name + ": " + f.Message
			}
			return err
		}
	}
	return nil
}

// lengths gives the blocks' lengths; ok is false when an offset is not
// where the blocks before it end.
func lengths(bs []location) (out []int64, ok bool) {
	var off int64
	for _, b := range bs {
		if b.Offset != off {
			return out, false
		}
		out = append(out, b.Length)
		off += b.Length
	}
	return out, true
}

func showLengths(l []int64, ok bool) string {
	var s []string
	for _, n := range l {
		s = append(s, strconv.FormatInt(n, 10))
	}
	out := fmt.Sprintf("%d blocks [%s]", len(l), strings.Join(s, " "))
	if !ok {
		out += ", with gaps or overlaps between them"
	}
	return out
}

// judgeReport runs the learner's Report of path and compares it, block
// by block, with what fsck says; dead is the transfer port of a DataNode
// the checker killed, or -1.
func judgeReport(ctx context.Context, h *grader.Harness, path string, fc fileCase, dead int) error {
	want, err := fsck(ctx, h, path)
	if err != nil {
		return err
	}
	if err := want.agrees(fc); err != nil {
		return fmt.Errorf("hdfs fsck %s disagrees with the lesson: %w", path, err)
	}
	h.Logf("hdfs fsck %s -files -blocks -locations: replication %d, %d blocks, live replicas per block %v", path, want.Replication, len(want.Blocks), want.liveCounts())
	if dead >= 0 {
		for i, b := range want.Blocks {
			for _, dn := range b.DataNodes {
				if strings.HasSuffix(dn, ":"+strconv.Itoa(dead)) {
					return fmt.Errorf("fsck still names the killed DataNode %s for block %d", dn, i)
				}
			}
		}
	}
	h.Logf("running Report(c, %q)", path)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"report", path}})
	if err != nil {
		return err
	}
	var got []reportBlock
	if err := grader.UnmarshalArtifact("result of Report", res.Value, &got); err != nil {
		return err
	}
	h.Logf("Report returned %s", plural(len(got), "block"))
	if len(got) != len(want.Blocks) {
		return grader.Mismatch(fmt.Sprintf("Report returned %s; fsck counts %d", plural(len(got), "block"), len(want.Blocks)), render(want.reportBlocks()), render(got))
	}
	for i, w := range want.reportBlocks() {
		g := got[i]
		switch {
		case g.Offset != w.Offset || g.Length != w.Length:
			return grader.Mismatch(fmt.Sprintf("block %d: Report says it covers other bytes of the file than fsck", i),
				fmt.Sprintf("offset %d, length %d", w.Offset, w.Length), fmt.Sprintf("offset %d, length %d", g.Offset, g.Length))
		case !sameSet(g.DataNodes, w.DataNodes):
			return grader.Mismatch(fmt.Sprintf("block %d: Report names other DataNodes than the ones fsck finds a live replica on", i),
				strings.Join(sorted(w.DataNodes), " "), strings.Join(sorted(g.DataNodes), " "))
		case g.UnderReplicated != w.UnderReplicated:
			return grader.Mismatch(fmt.Sprintf("block %d: %d live replicas of %d asked for, but Report says under_replicated=%t", i, len(w.DataNodes), want.Replication, g.UnderReplicated),
				fmt.Sprintf("under_replicated=%t", w.UnderReplicated), fmt.Sprintf("under_replicated=%t", g.UnderReplicated))
		}
	}
	under := 0
	for _, b := range got {
		if b.UnderReplicated {
			under++
		}
	}
	h.Logf("every block matches fsck: offset, length, DataNodes; %d of %d under-replicated", under, len(got))
	return nil
}

// reportBlock is one block of the learner's report, as the harness
// returns it.
type reportBlock struct {
	Offset          int64    `json:"offset"`
	Length          int64    `json:"length"`
	DataNodes       []string `json:"datanodes"`
	UnderReplicated bool     `json:"under_replicated"`
}

func render(bs []reportBlock) string {
	if len(bs) == 0 {
		return "no block"
	}
	var lines []string
	for i, b := range bs {
		lines = append(lines, fmt.Sprintf("block %d: offset %d, length %d, %d DataNodes, under_replicated=%t", i, b.Offset, b.Length, len(b.DataNodes), b.UnderReplicated))
	}
	return strings.Join(lines, "\n")
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func sameSet(a, b []string) bool { return slices.Equal(sorted(a), sorted(b)) }

// fsckFile is what `hdfs fsck <file> -files -blocks -locations` says of
// one file.
type fsckFile struct {
	Size        int64
	Replication int
	Blocks      []fsckBlock
}

type fsckBlock struct {
	Length    int64
	Live      int
	DataNodes []string
}

func (f *fsckFile) liveCounts() []int {
	var n []int
	for _, b := range f.Blocks {
		n = append(n, b.Live)
	}
	return n
}

// agrees returns an error unless fsck's file is what the grader wrote:
// its size, its replication, and blocks as long as the lesson's rule says.
func (f *fsckFile) agrees(fc fileCase) error {
	var got []int64
	for _, b := range f.Blocks {
		got = append(got, b.Length)
	}
	want := blockLengths(int64(fc.size), fc.blockSize)
	if f.Size != int64(fc.size) || f.Replication != fc.replication || !slices.Equal(got, want) {
		return fmt.Errorf("%d bytes, replication %d, %s; the checker wrote %d bytes, replication %d, which make %s",
			f.Size, f.Replication, showLengths(got, true), fc.size, fc.replication, showLengths(want, true))
	}
	return nil
}

// reportBlocks is the report fsck implies: offsets from the lengths,
// under-replicated when fewer live replicas than the file's replication.
func (f *fsckFile) reportBlocks() []reportBlock {
	var out []reportBlock
	var off int64
	for _, b := range f.Blocks {
		out = append(out, reportBlock{Offset: off, Length: b.Length, DataNodes: b.DataNodes, UnderReplicated: b.Live < f.Replication})
		off += b.Length
	}
	return out
}

var (
	fsckHeader   = regexp.MustCompile(`(?m)^(\S+) (\d+) bytes, replicated: replication=(\d+), (\d+) block\(s\)`)
	fsckBlockRe  = regexp.MustCompile(`(?m)^(\d+)\. \S+ len=(\d+) Live_repl=(\d+)\s+\[(.*)\]\s*$`)
	fsckLocation = regexp.MustCompile(`DatanodeInfoWithStorage\[([^,\]]+)`)
)

// fsck runs `hdfs fsck path -files -blocks -locations` in the HDFS
// container and parses what it says of the file.
func fsck(ctx context.Context, h *grader.Harness, path string) (*fsckFile, error) {
	if h.Faults == nil {
		return nil, errors.New("no services session to run fsck in")
	}
	out, err := h.Faults.Exec(ctx, catalog.HDFS, "hdfs", "fsck", path, "-files", "-blocks", "-locations")
	if err != nil {
		return nil, fmt.Errorf("hdfs fsck %s: %w\n%s", path, err, out)
	}
	return parseFsck(path, out)
}

// parseFsck reads what `hdfs fsck path -files -blocks -locations` printed
// of the file.
func parseFsck(path, out string) (*fsckFile, error) {
	m := fsckHeader.FindStringSubmatch(out)
	if m == nil || m[1] != path {
		return nil, fmt.Errorf("hdfs fsck %s: no line for the file in:\n%s", path, out)
	}
	f := &fsckFile{}
	f.Size, _ = strconv.ParseInt(m[2], 10, 64)
	f.Replication, _ = strconv.Atoi(m[3])
	n, _ := strconv.Atoi(m[4])
	for i, bm := range fsckBlockRe.FindAllStringSubmatch(out, -1) {
		if idx, _ := strconv.Atoi(bm[1]); idx != i {
			return nil, fmt.Errorf("hdfs fsck %s: block %d listed as %s", path, i, bm[1])
		}
		b := fsckBlock{}
		b.Length, _ = strconv.ParseInt(bm[2], 10, 64)
		b.Live, _ = strconv.Atoi(bm[3])
		for _, lm := range fsckLocation.FindAllStringSubmatch(bm[4], -1) {
			b.DataNodes = append(b.DataNodes, lm[1])
		}
		f.Blocks = append(f.Blocks, b)
	}
	if len(f.Blocks) != n {
		return nil, fmt.Errorf("hdfs fsck %s: %d blocks announced, %d listed:\n%s", path, n, len(f.Blocks), out)
	}
	return f, nil
}

// readAllBlocks writes a file with one replica per block, spread over the
// DataNodes, and checks the learner's Read returns every byte.
func readAllBlocks(ctx context.Context, h *grader.Harness) error {
	if err := serviceReady(ctx, h); err != nil {
		return err
	}
	fc := readCase(h.Seed())
	size := fc.size
	data := payload(h.Seed()+3, size)
	var remote string
	// With one replica each, the NameNode places blocks on DataNodes at
	// random: write again in the rare case all landed on one.
	for attempt := 0; ; attempt++ {
		remote = "/delab/" + h.Unique("blocks") + "/spread.bin"
		locs, err := writeFile(ctx, h, remote, data, fc.replication, fc.blockSize)
		if err != nil {
			return err
		}
		if spread(locs) > 1 || attempt == 5 {
			h.Logf("wrote %s: %d bytes (sha256 %s…) in %d blocks of 1 MiB, one replica each, on %d different DataNodes", remote, size, digest(data), len(locs), spread(locs))
			break
		}
	}
	return judgeRead(ctx, h, remote, data)
}

// spread counts the DataNodes holding at least one block.
func spread(locs []location) int {
	seen := map[string]bool{}
	for _, l := range locs {
		for _, n := range l.Names {
			seen[n] = true
		}
	}
	return len(seen)
}

// judgeRead runs the learner's Read of path into a local file and
// compares it with data.
func judgeRead(ctx context.Context, h *grader.Harness, path string, data []byte) error {
	local := h.Path("copy.bin")
	h.Logf("running Read(c, %q, <local file>)", path)
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"read", path, local}}); err != nil {
		return err
	}
	got, err := grader.ReadArtifactFile("what Read wrote", local, copyLimit)
	var unreadable *grader.Failure
	if errors.As(err, &unreadable) {
		return err
	}
	if err != nil {
		return grader.Failf("Read returned nil but wrote nothing")
	}
	h.Logf("Read wrote %d bytes (sha256 %s…)", len(got), digest(got))
	if len(got) != len(data) || digest(got) != digest(data) {
		return grader.Mismatch("Read did not return the file's bytes", fmt.Sprintf("%d bytes, sha256 %s…", len(data), digest(data)), fmt.Sprintf("%d bytes, sha256 %s…", len(got), digest(got)))
	}
	return nil
}

// dataNodeDies writes a file with three replicas per block, kills one
// DataNode, runs the learner's Read at once (the NameNode still names
// the dead DataNode), then, once the NameNode has dropped the dead
// DataNode's replicas, the learner's Report, judged against fsck. The
// DataNode is started again afterwards.
func dataNodeDies(ctx context.Context, h *grader.Harness) error {
	if err := serviceReady(ctx, h); err != nil {
		return err
	}
	fc := dieCase(h.Seed())
	size, replication := fc.size, fc.replication
	data := payload(h.Seed()+4, size)
	remote := "/delab/" + h.Unique("blocks") + "/ledger.bin"
	locs, err := writeFile(ctx, h, remote, data, replication, fc.blockSize)
	if err != nil {
		return err
	}
	h.Logf("wrote %s: %d bytes (sha256 %s…) in %d blocks of 1 MiB, replication %d: every DataNode holds every block", remote, size, digest(data), len(locs), replication)

	victim := int(h.Seed() % dataNodes)
	port := dataNodePort(victim)
	h.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		if err := h.Faults.StartNode(ctx, catalog.HDFS, victim); err != nil {
			h.Logf("starting DataNode %d again failed: %v", victim, err)
			return
		}
		h.Logf("started DataNode %d again; the NameNode counts it live with its replicas", victim)
	})
	if err := h.Faults.StopNode(ctx, catalog.HDFS, victim); err != nil {
		return err
	}
	h.Logf("killed DataNode %d (transfer port %d) with SIGKILL; the NameNode does not know yet", victim, port)
	if err := judgeRead(ctx, h, remote, data); err != nil {
		var f *grader.Failure
		if errors.As(err, &f) {
			f.Message += fmt.Sprintf(" after DataNode %d (transfer port %d) died: a replica on another DataNode serves each block", victim, port)
		}
		return err
	}

	// The NameNode drops a dead DataNode's replicas 11s to 16s after the
	// kill here (10m30s with Hadoop's defaults).
	began := time.Now()
	for {
		locs, err := blockLocations(ctx, h, remote)
		if err != nil {
			return err
		}
		if !names(locs, port) {
			h.Logf("the NameNode declared DataNode %d dead and stopped naming it, %s after the kill", victim, time.Since(began).Round(100*time.Millisecond))
			break
		}
		if time.Since(began) > removalWait {
			return fmt.Errorf("the NameNode still names the killed DataNode %d for %s, %s after the kill", victim, remote, removalWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return judgeReport(ctx, h, remote, fc, port)
}

// names reports whether a location of any block has transfer port port.
func names(locs []location, port int) bool {
	for _, l := range locs {
		for _, n := range l.Names {
			if _, p, err := net.SplitHostPort(n); err == nil && p == strconv.Itoa(port) {
				return true
			}
		}
	}
	return false
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
