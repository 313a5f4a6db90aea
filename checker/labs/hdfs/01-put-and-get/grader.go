// Package putandget grades the lab "Put and get a file": it runs the
// learner's Put and Get against a real HDFS and asks the NameNode itself
// what was stored — bytes, block size, replication, blocks and replicas.
package putandget

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
	"net/http"
	"os"
	"strconv"
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
		"put-content": func(ctx context.Context, h *grader.Harness) error {
			_, err := put(ctx, h, 3_500_000, 1<<20, 2)
			return err
		},
		"put-layout": func(ctx context.Context, h *grader.Harness) error {
			path, err := put(ctx, h, 5_000_000, 2<<20, 3)
			if err != nil {
				return err
			}
			return checkLayout(ctx, h, path, 5_000_000, 2<<20, 3)
		},
		"get-content": getContent,
	},
}

// copyLimit is the largest copy of a file the grader reads, on HDFS or
// local: the files are at most 5 MB.
const copyLimit = 64 << 20

func client(h *grader.Harness) (*hdfs.Client, error) {
	return hdfsclient.Connect(h.Endpoints)
}

// payload is size seeded random bytes: different on every run.
func payload(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
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

// put runs the learner's Put of a fresh local file to a path under a new
// directory and checks the bytes the NameNode and DataNodes now serve.
func put(ctx context.Context, h *grader.Harness, size int, blockSize int64, replication int) (string, error) {
	data := payload(h.Seed(), size)
	local := h.Path("readings.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return "", err
	}
	remote := "/delab/" + h.Unique("putget") + "/landing/readings.bin"
	h.Logf("wrote a local file of %d bytes (sha256 %s…)", size, digest(data))
	h.Logf("running Put(client, \"readings.bin\", %q, blockSize=%d, replication=%d); %s does not exist yet", remote, blockSize, replication, "/delab/…/landing")
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"put", local, remote, strconv.FormatInt(blockSize, 10), strconv.Itoa(replication)}}); err != nil {
		return "", err
	}
	c, err := client(h)
	if err != nil {
		return "", fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	// The file is the learner's: its size is known before it is read.
	info, err := c.Stat(remote)
	if err != nil {
		return "", grader.Failf("Put returned nil, but the NameNode has no readable file at %s: %v", remote, err)
	}
	if info.Size() > copyLimit {
		return "", grader.Mismatch("the file on HDFS differs from the local file",
			fmt.Sprintf("%d bytes, sha256 %s…", len(data), digest(data)), fmt.Sprintf("%d bytes (not read: the checker reads at most %d MiB)", info.Size(), copyLimit>>20))
	}
	got, err := c.ReadFile(remote)
	if err != nil {
		return "", grader.Failf("Put returned nil, but the NameNode has no readable file at %s: %v", remote, err)
	}
	h.Logf("read %s back through the NameNode: %d bytes (sha256 %s…)", remote, len(got), digest(got))
	if digest(got) != digest(data) || len(got) != len(data) {
		return "", grader.Mismatch("the file on HDFS differs from the local file", fmt.Sprintf("%d bytes, sha256 %s…", len(data), digest(data)), fmt.Sprintf("%d bytes, sha256 %s…", len(got), digest(got)))
	}
	return remote, nil
}

// checkLayout asks the NameNode for the file's block size and replication,
// and through WebHDFS for its blocks and where their replicas live.
func checkLayout(ctx context.Context, h *grader.Harness, path string, size, blockSize int64, replication int) error {
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
	if int64(st.GetBlocksize()) != blockSize || int(st.GetBlockReplication()) != replication {
		return grader.Mismatch("the file's layout is not the one Put was asked for",
			fmt.Sprintf("block size %d, replication %d", blockSize, replication),
			fmt.Sprintf("block size %d, replication %d", st.GetBlocksize(), st.GetBlockReplication()))
	}
	blocks, err := blockLocations(ctx, h.Endpoints.HDFSWebUI, path)
	if err != nil {
		return fmt.Errorf("ask the NameNode for block locations: %w", err)
	}
	wantBlocks := int((size + blockSize - 1) / blockSize)
	h.Logf("WebHDFS GET_BLOCK_LOCATIONS: %d blocks", len(blocks))
	if len(blocks) != wantBlocks {
		return grader.Mismatch("the number of blocks is wrong", wantBlocks, len(blocks))
	}
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; i < len(blocks); i++ {
		// Replicas are reported as DataNodes confirm them: allow the pipeline a moment.
		for blocks[i] < replication && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			if blocks, err = blockLocations(ctx, h.Endpoints.HDFSWebUI, path); err != nil {
				return err
			}
		}
		if blocks[i] != replication {
			return grader.Mismatch(fmt.Sprintf("block %d has the wrong number of replicas", i), replication, blocks[i])
		}
	}
	h.Logf("replicas per block, once the DataNodes reported them: %v", blocks)
	return nil
}

// blockLocations returns, per block, how many DataNodes hold a replica.
func blockLocations(ctx context.Context, webUI, path string) ([]int, error) {
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
				Locations []json.RawMessage `json:"locations"`
			} `json:"locatedBlocks"`
		} `json:"LocatedBlocks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, err
	}
	var out []int
	for _, b := range doc.LocatedBlocks.LocatedBlocks {
		out = append(out, len(b.Locations))
	}
	return out, nil
}

// getContent writes a multi-block file with the grader's own client and
// checks the learner's Get reproduces it byte for byte.
func getContent(ctx context.Context, h *grader.Harness) error {
	data := payload(h.Seed(), 2_600_000)
	remote := "/delab/" + h.Unique("putget") + "/export/readings.bin"
	c, err := client(h)
	if err != nil {
		return fmt.Errorf("grader's HDFS client: %w", err)
	}
	defer c.Close()
	if err := hdfsclient.PutFile(c, remote, data, 1, 1<<20); err != nil {
		return fmt.Errorf("grader writing %s: %w", remote, err)
	}
	h.Logf("wrote %s on HDFS: %d bytes in 1 MiB blocks (sha256 %s…)", remote, len(data), digest(data))
	local := h.Path("copy.bin")
	h.Logf("running Get(client, %q, \"copy.bin\")", remote)
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"get", remote, local}}); err != nil {
		return err
	}
	got, err := grader.ReadArtifactFile("local copy copy.bin", local, copyLimit)
	var unreadable *grader.Failure
	if errors.As(err, &unreadable) {
		return err
	}
	if err != nil {
		return grader.Failf("Get returned nil but wrote no local file")
	}
	h.Logf("read the local copy: %d bytes (sha256 %s…)", len(got), digest(got))
	if len(got) != len(data) || digest(got) != digest(data) {
		return grader.Mismatch("the local copy differs from the HDFS file", fmt.Sprintf("%d bytes, sha256 %s…", len(data), digest(data)), fmt.Sprintf("%d bytes, sha256 %s…", len(got), digest(got)))
	}
	return nil
}
