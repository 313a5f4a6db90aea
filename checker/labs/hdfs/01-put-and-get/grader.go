// Package putandget grades the lab "Put and get a file": it runs the
// learner's Put and Get against a real HDFS and asks the NameNode itself
// what was stored — bytes, block size, replication, blocks and replicas.
//
// Boundary table: every rule the lesson and lab.yaml state, the input that
// reaches its edge in every run whatever the seed, and the check that
// judges it. Each check runs its cases smallest first, so a failure names
// the smallest input that shows it.
//
//	rule                                          input (cases)                              check
//	Put stores every byte, even of an empty file  putContentCases[0]: 0 bytes                put-content
//	Put does not drop or pad a block's last byte  putContentCases[1,2]: one block, and one    put-content
//	                                              block and a byte
//	Put copies binary data (no text handling)     every payload ≥256 B holds all 256 byte    put-content
//	                                              values; putContentCases[3]: multi-block
//	Put creates missing parent directories        each case's path has 3 new parent levels   put-content
//	Put uses the block size asked for             putLayoutCases: 2 MiB and 1 MiB blocks     put-layout
//	Put uses the replication asked for            putLayoutCases: replication 3 and 2        put-layout
//	blocks are not padded: an exact multiple has  putLayoutCases[0]: exactly 2 blocks;       put-layout
//	  no extra block, the last block the rest     putLayoutCases[1]: last block partial
//	Get copies an empty file                      getCases[0]: 0 bytes                       get-content
//	Get copies every byte, not one Read's worth   getCases[1,2]: exactly 2 blocks, and a     get-content
//	                                              last partial block
//
// The truth for layout (block count and each block's offset and length)
// is blockLengths, the lesson's rule; the NameNode's own answer
// (GETFILESTATUS through the client, GETFILEBLOCKLOCATIONS through WebHDFS)
// is compared with it. Bytes are compared with the grader's own data.
package putandget

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"

	"github.com/delab-dev/delab/checker/grader"
	"github.com/delab-dev/delab/checker/hdfsclient"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/hdfs/01-put-and-get.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"put-content": putContent,
		"put-layout":  putLayout,
		"get-content": getContent,
	},
}

// copyLimit is the largest copy of a file the grader reads, on HDFS or
// local: the files are at most 5 MB.
const copyLimit = 64 << 20

const mib = 1 << 20

// fileCase is one row of the boundary table: a file of size bytes,
// written with blockSize and replication.
type fileCase struct {
	// name says what the case is, in the learner's words.
	name        string
	size        int
	blockSize   int64
	replication int
}

// putContentCases are put-content's files, smallest first: the bulk size
// of the last one varies with the seed.
func putContentCases(seed uint64) []fileCase {
	r := rand.New(rand.NewPCG(seed, 1))
	return []fileCase{
		{"an empty file", 0, mib, 2},
		{"a file of exactly one block", mib, mib, 2},
		{"a file one byte longer than a block", mib + 1, mib, 2},
		{"a file of several blocks holding every byte value", 3*mib + r.IntN(mib-1) + 1, mib, 2},
	}
}

// putLayoutCases are put-layout's files: an exact multiple of its block
// size, and one whose last block is partial.
func putLayoutCases(seed uint64) []fileCase {
	r := rand.New(rand.NewPCG(seed, 2))
	return []fileCase{
		{"a file of exactly two blocks", 4 * mib, 2 * mib, 3},
		{"a file whose last block is partial", 2*mib + 1 + r.IntN(mib-1), mib, 2},
	}
}

// getCases are get-content's files, written by the grader in 1 MiB blocks.
func getCases(seed uint64) []fileCase {
	r := rand.New(rand.NewPCG(seed, 3))
	return []fileCase{
		{"an empty file", 0, mib, 1},
		{"a file of exactly two blocks", 2 * mib, mib, 1},
		{"a file of several blocks, the last one partial", 2*mib + 1 + r.IntN(mib-1), mib, 1},
	}
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

func client(h *grader.Harness) (*hdfs.Client, error) {
	return hdfsclient.Connect(h.Endpoints)
}

// payload is size seeded random bytes, different on every run; from 256
// bytes on it holds every byte value, at a seeded place.
func payload(seed uint64, stream uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 7+stream))
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if size >= 256 {
		at := r.IntN(size - 255)
		for i, v := range r.Perm(256) {
			b[at+i] = byte(v)
		}
	}
	return b
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// describe shows a copy's size, digest and, against want, where it first
// differs.
func describe(got, want []byte) string {
	s := fmt.Sprintf("%d bytes, sha256 %s…", len(got), digest(got))
	if want == nil {
		return s
	}
	n := min(len(got), len(want))
	for i := 0; i < n; i++ {
		if got[i] != want[i] {
			return s + fmt.Sprintf(", first different byte at offset %d (0x%02x, not 0x%02x)", i, got[i], want[i])
		}
	}
	if len(got) < len(want) {
		return s + fmt.Sprintf(": the first %d bytes, the rest missing", len(got))
	}
	if len(got) > len(want) {
		return s + fmt.Sprintf(": the file's %d bytes, then %d more", len(want), len(got)-len(want))
	}
	return s
}

// remotePath is a fresh path three folder levels below /delab/<unique>,
// none of which exist.
func remotePath(h *grader.Harness, kind string, i int) string {
	return fmt.Sprintf("/delab/%s/%s/2026/11/readings-%d.bin", h.Unique("putget"), kind, i)
}

func putContent(ctx context.Context, h *grader.Harness) error {
	for i, fc := range putContentCases(h.Seed()) {
		if _, _, err := put(ctx, h, fc, i); err != nil {
			return err
		}
	}
	return nil
}

func putLayout(ctx context.Context, h *grader.Harness) error {
	for i, fc := range putLayoutCases(h.Seed()) {
		path, _, err := put(ctx, h, fc, 10+i)
		if err != nil {
			return err
		}
		if err := checkLayout(ctx, h, path, fc); err != nil {
			return err
		}
	}
	return nil
}

// put runs the learner's Put of a fresh local file to a path under new
// directories and checks the bytes the NameNode and DataNodes now serve.
func put(ctx context.Context, h *grader.Harness, fc fileCase, i int) (string, []byte, error) {
	data := payload(h.Seed(), uint64(i), fc.size)
	name := fmt.Sprintf("readings-%d.bin", i)
	local := h.Path(name)
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return "", nil, err
	}
	remote := remotePath(h, "landing", i)
	h.Logf("%s: wrote a local file of %d bytes (sha256 %s…)", fc.name, fc.size, digest(data))
	h.Logf("running Put(client, %q, %q, blockSize=%d, replication=%d); /delab/…/landing/2026/11 does not exist yet", name, remote, fc.blockSize, fc.replication)
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"put", local, remote, strconv.FormatInt(fc.blockSize, 10), strconv.Itoa(fc.replication)}}); err != nil {
		var f *grader.Failure
		if errors.As(err, &f) {
			f.Message = fc.name + ": " + f.Message
		}
		return "", nil, err
	}
	c, err := client(h)
	if err != nil {
		return "", nil, fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	// The file is the learner's: its size is known before it is read.
	info, err := c.Stat(remote)
	if err != nil {
		return "", nil, grader.Failf("%s: Put returned nil, but the NameNode has no readable file at %s: %v", fc.name, remote, err)
	}
	if info.IsDir() {
		return "", nil, grader.Failf("%s: Put returned nil, but %s is a folder, not a file", fc.name, remote)
	}
	if info.Size() > copyLimit {
		return "", nil, grader.Mismatch(fc.name+": the file on HDFS differs from the local file",
			describe(data, nil), fmt.Sprintf("%d bytes (not read: the checker reads at most %d MiB)", info.Size(), copyLimit>>20))
	}
	got, err := c.ReadFile(remote)
	if err != nil {
		return "", nil, grader.Failf("%s: Put returned nil, but the NameNode has no readable file at %s: %v", fc.name, remote, err)
	}
	h.Logf("read %s back through the NameNode: %d bytes (sha256 %s…)", remote, len(got), digest(got))
	if !bytes.Equal(got, data) {
		return "", nil, grader.Mismatch(fc.name+": the file on HDFS differs from the local file", describe(data, nil), describe(got, data))
	}
	return remote, data, nil
}

// checkLayout asks the NameNode for the file's block size and replication,
// and through WebHDFS for its blocks and where their replicas live, and
// compares them with the lesson's rule.
func checkLayout(ctx context.Context, h *grader.Harness, path string, fc fileCase) error {
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	info, err := c.Stat(path)
	if err != nil {
		return err
	}
	st := info.Sys().(*hdfs.FileStatus)
	h.Logf("NameNode says: block size %d, replication %d", st.GetBlocksize(), st.GetBlockReplication())
	if int64(st.GetBlocksize()) != fc.blockSize || int(st.GetBlockReplication()) != fc.replication {
		return grader.Mismatch(fc.name+": the file's layout is not the one Put was asked for",
			fmt.Sprintf("block size %d, replication %d", fc.blockSize, fc.replication),
			fmt.Sprintf("block size %d, replication %d", st.GetBlocksize(), st.GetBlockReplication()))
	}
	want := blockLengths(int64(fc.size), fc.blockSize)
	deadline := time.Now().Add(15 * time.Second)
	for {
		blocks, err := blockLocations(ctx, h.Endpoints.HDFSWebUI, path)
		if err != nil {
			return fmt.Errorf("ask the NameNode for block locations: %w", err)
		}
		if got, ok := lengths(blocks); !ok || !slices.Equal(got, want) {
			shown := showLengths(got)
			if !ok {
				shown += ", with gaps or overlaps between them"
			}
			return grader.Mismatch(fmt.Sprintf("%s: the NameNode lists other blocks than %d bytes cut into blocks of %d make (blocks are not padded)", fc.name, fc.size, fc.blockSize), showLengths(want), shown)
		}
		short := -1
		for i, b := range blocks {
			if len(b.Names) != fc.replication {
				short = i
				break
			}
		}
		// Replicas are reported as DataNodes confirm them: allow the pipeline a moment.
		if short < 0 {
			h.Logf("WebHDFS GETFILEBLOCKLOCATIONS: %s bytes long, as the lesson's rule gives; replicas per block %v", showLengths(want), replicas(blocks))
			return nil
		}
		if time.Now().After(deadline) {
			return grader.Mismatch(fmt.Sprintf("%s: block %d has the wrong number of replicas", fc.name, short), fc.replication, len(blocks[short].Names))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// location is one block as WebHDFS GETFILEBLOCKLOCATIONS gives it.
type location struct {
	Offset int64    `json:"offset"`
	Length int64    `json:"length"`
	Names  []string `json:"names"`
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

func showLengths(l []int64) string {
	var s []string
	for _, n := range l {
		s = append(s, strconv.FormatInt(n, 10))
	}
	return fmt.Sprintf("%d blocks [%s]", len(l), strings.Join(s, " "))
}

func replicas(bs []location) []int {
	var out []int
	for _, b := range bs {
		out = append(out, len(b.Names))
	}
	return out
}

// blockLocations asks the NameNode, through WebHDFS, where the blocks of
// path are.
func blockLocations(ctx context.Context, webUI, path string) ([]location, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, webUI+"/webhdfs/v1"+path+"?op=GETFILEBLOCKLOCATIONS&user.name=delab", nil)
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
		BlockLocations struct {
			BlockLocation []location
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, err
	}
	return doc.BlockLocations.BlockLocation, nil
}

// writeFile writes data to path with the grader's own client. An empty
// file gets no Write at all: in this client a Write allocates a block.
func writeFile(c *hdfs.Client, path string, data []byte, blockSize int64) error {
	if len(data) > 0 {
		return hdfsclient.PutFile(c, path, data, 1, blockSize)
	}
	if err := c.MkdirAll(path[:strings.LastIndexByte(path, '/')], 0o755); err != nil {
		return err
	}
	w, err := c.CreateFile(path, 1, blockSize, 0o644)
	if err != nil {
		return err
	}
	return hdfsclient.CloseFile(w)
}

// getContent writes files with the grader's own client and checks the
// learner's Get reproduces each byte for byte.
func getContent(ctx context.Context, h *grader.Harness) error {
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	for i, fc := range getCases(h.Seed()) {
		data := payload(h.Seed(), uint64(20+i), fc.size)
		remote := remotePath(h, "export", i)
		if err := writeFile(c, remote, data, fc.blockSize); err != nil {
			return fmt.Errorf("grader writing %s: %w", remote, err)
		}
		h.Logf("%s: wrote %s on HDFS: %d bytes in 1 MiB blocks (sha256 %s…)", fc.name, remote, len(data), digest(data))
		name := fmt.Sprintf("copy-%d.bin", i)
		local := h.Path(name)
		h.Logf("running Get(client, %q, %q)", remote, name)
		if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"get", remote, local}}); err != nil {
			var f *grader.Failure
			if errors.As(err, &f) {
				f.Message = fc.name + ": " + f.Message
			}
			return err
		}
		got, err := grader.ReadArtifactFile("local copy "+name, local, copyLimit)
		var unreadable *grader.Failure
		if errors.As(err, &unreadable) {
			return err
		}
		if err != nil {
			return grader.Failf("%s: Get returned nil but wrote no local file", fc.name)
		}
		h.Logf("read the local copy: %d bytes (sha256 %s…)", len(got), digest(got))
		if !bytes.Equal(got, data) {
			return grader.Mismatch(fc.name+": the local copy differs from the HDFS file", describe(data, nil), describe(got, data))
		}
	}
	return nil
}
