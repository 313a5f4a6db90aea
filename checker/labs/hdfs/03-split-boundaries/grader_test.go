package splitboundaries

// The grader's judges, proved offline over many seeds: the reference and a
// half-open form of the LineRecordReader rule both pass them; the wrong
// solutions fail the judge aimed at them. The real-service proof is
// checker/labproof.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/hdfs/03-split-boundaries/solution"
	dropstraddling "github.com/delab-dev/delab/checker/labs/hdfs/03-split-boundaries/wrong/drop-straddling"
	scanner "github.com/delab-dev/delab/checker/labs/hdfs/03-split-boundaries/wrong/scanner-token-limit"
	wholefile "github.com/delab-dev/delab/checker/labs/hdfs/03-split-boundaries/wrong/whole-file-per-worker"
	wholelines "github.com/delab-dev/delab/checker/labs/hdfs/03-split-boundaries/wrong/whole-lines-from-start"
)

type countFunc func(r io.ReaderAt, size, start, length int64) (map[string]int64, error)

// halfOpen gives a split the lines that start in [start, end): it reads
// the byte before start to know whether a line starts there.
func halfOpen(file io.ReaderAt, size, start, length int64) (map[string]int64, error) {
	counts := map[string]int64{}
	end := start + length
	from := max(start-1, 0)
	r := bufio.NewReader(io.NewSectionReader(file, from, size-from))
	pos := from
	if start > 0 {
		skipped, err := r.ReadBytes('\n')
		pos += int64(len(skipped))
		if err != nil {
			return counts, nil
		}
	}
	for pos < end {
		line, err := r.ReadBytes('\n')
		pos += int64(len(line))
		if f := bytes.SplitN(bytes.TrimSuffix(line, []byte("\n")), []byte(" "), 3); len(f) >= 2 {
			counts[string(f[1])]++
		}
		if err != nil {
			break
		}
	}
	return counts, nil
}

type counting struct {
	mu            sync.Mutex
	r             *bytes.Reader
	bytes, lo, hi int64
}

func (c *counting) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.r.ReadAt(p, off)
	if n > 0 {
		c.bytes += int64(n)
		if c.lo < 0 || off < c.lo {
			c.lo = off
		}
		c.hi = max(c.hi, off+int64(n))
	}
	return n, err
}

// job runs count once per block of data, as the harness does.
func job(t *testing.T, data []byte, count countFunc) ([]part, map[string]int64, error) {
	t.Helper()
	size := int64(len(data))
	var parts []part
	total := map[string]int64{}
	for start := int64(0); start < size; start += block {
		c := &counting{r: bytes.NewReader(data), lo: -1}
		got, err := count(c, size, start, min(block, size-start))
		if err != nil {
			return nil, nil, err
		}
		for k, n := range got {
			total[k] += n
		}
		parts = append(parts, part{split: split{Start: start, Length: min(block, size-start)}, Counts: got, Keys: len(got), Bytes: c.bytes, Lo: c.lo, Hi: c.hi})
	}
	return parts, total, nil
}

func judgeAll(data []byte, parts []part, total map[string]int64) (splitErr, readErr error, totalsOK bool) {
	recs := records(data)
	for i, p := range parts {
		if err := judgeSplit(recs, i, p); err != nil && splitErr == nil {
			splitErr = err
		}
		if err := judgeReads(data, i, p); err != nil && readErr == nil {
			readErr = err
		}
	}
	return splitErr, readErr, equalCounts(countKeys(recs), total)
}

func TestJudgesOverSeeds(t *testing.T) {
	right := map[string]countFunc{
		"reference": func(r io.ReaderAt, size, start, length int64) (map[string]int64, error) {
			return reference.CountSplit(r, size, reference.Split{Start: start, Length: length})
		},
		"half-open": halfOpen,
	}
	seeds := uint64(6)
	if testing.Short() {
		seeds = 2
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		logs := map[string][]byte{"edges": boundaryLog(seed), "events": totalsLog(seed)}
		for name, data := range logs {
			for impl, count := range right {
				parts, total, err := job(t, data, count)
				if err != nil {
					t.Fatalf("seed %d %s %s: %v", seed, name, impl, err)
				}
				if s, r, ok := judgeAll(data, parts, total); s != nil || r != nil || !ok {
					t.Errorf("seed %d %s: %s judged wrong: split %v, reads %v, totals ok %v", seed, name, impl, s, r, ok)
				}
			}
			parts, total, _ := job(t, data, func(r io.ReaderAt, size, start, length int64) (map[string]int64, error) {
				return wholelines.CountSplit(r, size, wholelines.Split{Start: start, Length: length})
			})
			if _, _, ok := judgeAll(data, parts, total); ok {
				t.Errorf("seed %d %s: whole-lines-from-start got the right totals", seed, name)
			}
			parts, total, _ = job(t, data, func(r io.ReaderAt, size, start, length int64) (map[string]int64, error) {
				return dropstraddling.CountSplit(r, size, dropstraddling.Split{Start: start, Length: length})
			})
			if _, _, ok := judgeAll(data, parts, total); ok {
				t.Errorf("seed %d %s: drop-straddling got the right totals", seed, name)
			}
			parts, total, _ = job(t, data, func(r io.ReaderAt, size, start, length int64) (map[string]int64, error) {
				return wholefile.CountSplit(r, size, wholefile.Split{Start: start, Length: length})
			})
			var f *grader.Failure
			if s, r, ok := judgeAll(data, parts, total); s != nil || !ok || !errors.As(r, &f) {
				t.Errorf("seed %d %s: whole-file-per-worker: split %v, reads %v, totals ok %v", seed, name, s, r, ok)
			}
		}
		if _, _, err := job(t, boundaryLog(seed), func(r io.ReaderAt, size, start, length int64) (map[string]int64, error) {
			return scanner.CountSplit(r, size, scanner.Split{Start: start, Length: length})
		}); err == nil {
			t.Errorf("seed %d: the bufio.Scanner solution read the edges log without an error", seed)
		}
	}
}
