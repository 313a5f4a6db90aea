package blocksandreplicas

// The boundary table's cases, proved offline over many seeds: every case
// is in every run's input, and the grader's truth for it (fsck's output
// read back, and the report it implies) is the lesson's. The real-service
// proof is checker/labproof.

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestBoundaryCasesOverSeeds(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		w := writeCase(seed)
		if l := blockLengths(int64(w.size), w.blockSize); len(l) < 2 || l[len(l)-1] != 1 {
			t.Errorf("seed %d: write-layout's file has blocks %v, not a last block of one byte", seed, l)
		}
		if w.replication != 3 || (w.blockSize != mib && w.blockSize != 2*mib) {
			t.Errorf("seed %d: write-layout's layout %d/%d", seed, w.blockSize, w.replication)
		}
		rc := reportCases(seed)
		var empty, exact, partial bool
		for i, c := range rc {
			if i > 0 && c.size < rc[i-1].size {
				t.Errorf("seed %d: report case %q after a larger one", seed, c.name)
			}
			if c.blockSize >= 128*mib || c.blockSize < mib {
				t.Errorf("seed %d: block size %d", seed, c.blockSize)
			}
			n := len(blockLengths(int64(c.size), c.blockSize))
			switch {
			case c.size == 0:
				empty = true
			case int64(c.size)%c.blockSize == 0 && n >= 2:
				exact = true
			case int64(c.size)%c.blockSize != 0 && n >= 2:
				partial = true
			}
		}
		if !empty || !exact || !partial {
			t.Errorf("seed %d: report cases empty %t, exact multiple %t, last partial %t", seed, empty, exact, partial)
		}
		for _, c := range []fileCase{readCase(seed), dieCase(seed)} {
			if l := blockLengths(int64(c.size), c.blockSize); len(l) < 3 || l[len(l)-1] == c.blockSize {
				t.Errorf("seed %d: %s has blocks %v: want ≥3, the last partial", seed, c.name, l)
			}
		}
		if dieCase(seed).replication != dataNodes {
			t.Errorf("seed %d: datanode-dies' file is not on every DataNode", seed)
		}
	}
}

// fsckOutput is what `hdfs fsck <path> -files -blocks -locations` prints
// for a file of the given block lengths, replicas on the given ports.
func fsckOutput(path string, replication int, lens []int64, ports [][]int) string {
	var size int64
	for _, l := range lens {
		size += l
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Connecting to namenode via http://localhost:9870/fsck?ugi=root&files=1&blocks=1&locations=1&path=%s\n", path)
	fmt.Fprintf(&b, "FSCK started by root (auth:SIMPLE) from /127.0.0.1 for path %s at Tue Dec 01 05:00:00 UTC 2026\n\n", path)
	fmt.Fprintf(&b, "%s %d bytes, replicated: replication=%d, %d block(s):  OK\n", path, size, replication, len(lens))
	for i, l := range lens {
		var locs []string
		for _, p := range ports[i] {
			locs = append(locs, fmt.Sprintf("DatanodeInfoWithStorage[172.18.0.2:%d,DS-1234,DISK]", p))
		}
		fmt.Fprintf(&b, "%d. BP-1-172.18.0.2-1:blk_107374%d_100%d len=%d Live_repl=%d  [%s]\n", i, 1825+i, i+1, l, len(ports[i]), strings.Join(locs, ", "))
	}
	b.WriteString("\n\nStatus: HEALTHY\n")
	return b.String()
}

// parse runs the grader's fsck parser on out.
func parse(t *testing.T, path, out string) *fsckFile {
	t.Helper()
	f, err := parseFsck(path, out)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestTruthIsTheLessons(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		for _, c := range append(reportCases(seed), dieCase(seed)) {
			lens := blockLengths(int64(c.size), c.blockSize)
			ports := make([][]int, len(lens))
			for i := range ports {
				ports[i] = []int{9866 + 10*(i%3), 9866 + 10*((i+1)%3)}
			}
			path := "/delab/blocks-u1/events.bin"
			f := parse(t, path, fsckOutput(path, c.replication, lens, ports))
			if err := f.agrees(c); err != nil {
				t.Errorf("seed %d %s: %v", seed, c.name, err)
			}
			rep := f.reportBlocks()
			if len(rep) != len(lens) {
				t.Fatalf("seed %d %s: %d blocks reported, want %d", seed, c.name, len(rep), len(lens))
			}
			var off int64
			for i, b := range rep {
				if b.Offset != off || b.Length != lens[i] || len(b.DataNodes) != 2 {
					t.Errorf("seed %d %s block %d: %+v, want offset %d length %d", seed, c.name, i, b, off, lens[i])
				}
				// Under-replicated is "live < the file's replication".
				if b.UnderReplicated != (2 < c.replication) {
					t.Errorf("seed %d %s block %d: under_replicated %t with 2 live of %d", seed, c.name, i, b.UnderReplicated, c.replication)
				}
				off += b.Length
			}
			if off != int64(c.size) {
				t.Errorf("seed %d %s: blocks cover %d bytes of %d", seed, c.name, off, c.size)
			}
		}
	}
	// A file of other lengths than the rule's is the service's fault.
	c := fileCase{"x", 3 * mib, mib, 2}
	f := parse(t, "/a", fsckOutput("/a", 2, []int64{2 * mib, mib}, [][]int{{9866}, {9866}}))
	if f.agrees(c) == nil {
		t.Errorf("fsck with 2 MiB blocks agrees with a 1 MiB block size")
	}
	// An empty file: no block line, and an empty report.
	f = parse(t, "/e", fsckOutput("/e", 2, nil, nil))
	if len(f.Blocks) != 0 || f.agrees(fileCase{"e", 0, mib, 2}) != nil || len(f.reportBlocks()) != 0 {
		t.Errorf("empty file: %+v", f)
	}
	if !regexp.MustCompile(`0 block\(s\)`).MatchString(fsckOutput("/e", 2, nil, nil)) {
		t.Errorf("fake output of an empty file")
	}
}
