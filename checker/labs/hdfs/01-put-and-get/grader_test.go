package putandget

// The boundary table's cases, proved offline over many seeds: every case
// is in every run's input, as the learner's code receives it, and the
// grader's truth for it is the lesson's. The real-service proof is
// checker/labproof.

import (
	"slices"
	"testing"
)

func TestBoundaryCasesOverSeeds(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		put := putContentCases(seed)
		layout := putLayoutCases(seed)
		get := getCases(seed)
		has := func(cases []fileCase, what string, ok func(fileCase) bool) {
			t.Helper()
			if !slices.ContainsFunc(cases, ok) {
				t.Errorf("seed %d: no %s", seed, what)
			}
		}
		has(put, "empty file for Put", func(c fileCase) bool { return c.size == 0 })
		has(put, "file of exactly one block for Put", func(c fileCase) bool { return int64(c.size) == c.blockSize })
		has(put, "file one byte past a block for Put", func(c fileCase) bool { return int64(c.size) == c.blockSize+1 })
		has(put, "file of several blocks for Put", func(c fileCase) bool { return len(blockLengths(int64(c.size), c.blockSize)) >= 3 })
		has(layout, "exact multiple of the block size for put-layout", func(c fileCase) bool {
			return c.size > 0 && int64(c.size)%c.blockSize == 0 && int64(c.size) > c.blockSize
		})
		has(layout, "last partial block for put-layout", func(c fileCase) bool { return int64(c.size)%c.blockSize != 0 && int64(c.size) > c.blockSize })
		has(layout, "replication 3 for put-layout", func(c fileCase) bool { return c.replication == 3 })
		has(layout, "block size other than the first case's", func(c fileCase) bool { return c.blockSize != layout[0].blockSize })
		has(get, "empty file for Get", func(c fileCase) bool { return c.size == 0 })
		has(get, "exact multiple of the block size for Get", func(c fileCase) bool { return c.size > 0 && int64(c.size)%c.blockSize == 0 })
		has(get, "last partial block for Get", func(c fileCase) bool { return int64(c.size)%c.blockSize != 0 && int64(c.size) > c.blockSize })
		for _, cases := range [][]fileCase{put, layout, get} {
			for i := 1; i < len(cases); i++ {
				if cases[i].size < cases[i-1].size && cases[i].blockSize == cases[i-1].blockSize {
					t.Errorf("seed %d: case %q comes after a larger one: failures would not name the smallest input", seed, cases[i].name)
				}
			}
		}
		// The bytes as the learner's Put reads them: every byte value in
		// every file of 256 bytes or more.
		for i, c := range put {
			data := payload(seed, uint64(i), c.size)
			if len(data) != c.size {
				t.Fatalf("seed %d %s: %d bytes, not %d", seed, c.name, len(data), c.size)
			}
			if c.size >= 256 {
				var seen [256]bool
				for _, b := range data {
					seen[b] = true
				}
				if slices.Contains(seen[:], false) {
					t.Errorf("seed %d %s: not every byte value", seed, c.name)
				}
			}
		}
	}
}

// TestBlockLengthsAreTheLessons checks the grader's layout truth on the
// lesson's own examples.
func TestBlockLengthsAreTheLessons(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size, bs int64
		want     []int64
	}{
		{"the lesson's 3.5 MiB in 1 MiB blocks", 7 * mib / 2, mib, []int64{mib, mib, mib, mib / 2}},
		{"an empty file has no block", 0, mib, nil},
		{"exactly one block", mib, mib, []int64{mib}},
		{"one byte past a block", mib + 1, mib, []int64{mib, 1}},
		{"an exact multiple has no extra block", 4 * mib, 2 * mib, []int64{2 * mib, 2 * mib}},
	} {
		if got := blockLengths(tc.size, tc.bs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// What the NameNode lists is compared offset by offset.
	if got, ok := lengths([]location{{Offset: 0, Length: mib}, {Offset: mib, Length: 1}}); !ok || !slices.Equal(got, []int64{mib, 1}) {
		t.Errorf("lengths of contiguous blocks: %v %v", got, ok)
	}
	if _, ok := lengths([]location{{Offset: 0, Length: mib}, {Offset: mib + 1, Length: 1}}); ok {
		t.Errorf("lengths of blocks with a gap: ok")
	}
	if got, ok := lengths(nil); !ok || !slices.Equal(got, blockLengths(0, mib)) {
		t.Errorf("an empty file's blocks: %v %v", got, ok)
	}
}
