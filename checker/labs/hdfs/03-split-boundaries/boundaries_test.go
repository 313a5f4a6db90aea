package splitboundaries

import (
	"bytes"
	"testing"
)

// TestEveryBoundaryIsInEveryRun rebuilds each check's input over many
// seeds and asserts, by reading the bytes back as a learner's code sees
// them, that every row of the boundary table is there: no seed may let a
// mistake at an edge pass.
func TestEveryBoundaryIsInEveryRun(t *testing.T) {
	seeds := uint64(100)
	if testing.Short() {
		seeds = 20
	}
	if len(boundaries) < 11 {
		t.Fatalf("the boundary table lost rows: %d", len(boundaries))
	}
	for seed := uint64(0); seed < seeds; seed++ {
		exact := newLog(seed, 1)
		exact.fillTo(2 * block)
		if d := exact.buf.Bytes(); len(d) != 2*block || d[len(d)-1] != '\n' {
			t.Fatalf("seed %d: exact.log is %d bytes, want exactly 2 blocks ending in a newline", seed, len(d))
		}
		small := newLog(seed, 2)
		small.growTo(200_000 + int(seed%100_000))
		if d := small.noFinalNewline(); len(d) >= block || d[len(d)-1] == '\n' || len(records(d)) < 2 {
			t.Fatalf("seed %d: small.log (splits) is %d bytes; want under a block, several records, no final newline", seed, len(d))
		}
		wide := newLog(seed, 3)
		wide.growTo(3*block + 200_000 + int(seed%300_000))
		if n := wide.buf.Len(); n <= 3*block || n >= 4*block {
			t.Fatalf("seed %d: wide.log is %d bytes; want between 3 and 4 MiB so 2 MiB blocks give 2 splits and 1 MiB would give 4", seed, n)
		}
		events := totalsLog(seed)
		crossing := 0
		for _, r := range records(events) {
			if r.start/block != (r.end-1)/block {
				crossing++
			}
		}
		if len(events) < 4*block || crossing < 4 {
			t.Fatalf("seed %d: events.log is %d bytes with %d records crossing a block edge; want ≥4 blocks, every edge crossed", seed, len(events), crossing)
		}
		small5 := newLog(seed, 5)
		small5.growTo(100_000 + int(seed%50_000))
		if d := small5.noFinalNewline(); d[len(d)-1] == '\n' || len(d) >= block {
			t.Fatalf("seed %d: small.log (totals) must be under a block without a final newline", seed)
		}

		edges := boundaryLog(seed)
		if edges[len(edges)-1] == '\n' {
			t.Fatalf("seed %d: edges.log ends with a newline", seed)
		}
		if edges[block-1] != '\n' {
			t.Errorf("seed %d: edges.log: no record ends exactly on the first block edge", seed)
		}
		if edges[2*block] != '\n' || edges[2*block-1] == '\n' {
			t.Errorf("seed %d: edges.log: no record whose newline alone is past the second edge", seed)
		}
		recs := records(edges)
		long := longest(recs)
		if long.start >= 3*block || long.end <= 4*block || long.end-long.start <= 64<<10 {
			t.Errorf("seed %d: edges.log: the longest record [%d, %d) does not cover block 3 whole", seed, long.start, long.end)
		}
		if bytes.IndexByte(edges[3*block:4*block], '\n') >= 0 {
			t.Errorf("seed %d: edges.log: block 3 holds a newline, so a split inside the long record would own a line", seed)
		}
		// Every split owns the records the rule gives it, in both forms,
		// and together they hold every record once.
		var splits []split
		for s := int64(0); s < int64(len(edges)); s += block {
			splits = append(splits, split{Start: s, Length: min(block, int64(len(edges))-s)})
		}
		for _, hadoop := range []bool{true, false} {
			seen := 0
			for i, sp := range splits {
				o := owned(recs, sp, hadoop)
				seen += len(o)
				if i == 3 && len(o) != 0 {
					t.Errorf("seed %d: split 3 lies inside the long record but owns %d records (hadoop form %v)", seed, len(o), hadoop)
				}
			}
			if seen != len(recs) {
				t.Errorf("seed %d: the splits own %d records of %d (hadoop form %v)", seed, seen, len(recs), hadoop)
			}
		}
	}
}
