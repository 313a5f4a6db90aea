package atomiccommit

// The boundary table's cases, proved offline over many seeds: every case
// is in every run's input file, read back the way Publish reads it, and
// the grader's layout for it is the lesson's rule computed here again.
// The real-service proof is checker/labproof.

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// lessonLayout is the lesson's layout of an input file, computed from its
// bytes: each device's lines, in input order, PartLines to a part.
func lessonLayout(t *testing.T, text []byte) (map[string]string, map[string]int) {
	t.Helper()
	lines := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		device, _, ok := strings.Cut(sc.Text(), ",")
		if !ok {
			t.Fatalf("not a reading: %q", sc.Text())
		}
		lines[device] = append(lines[device], sc.Text()+"\n")
	}
	out := map[string]string{"_SUCCESS": ""}
	counts := map[string]int{}
	for d, ls := range lines {
		counts[d] = len(ls)
		for p := 0; p*partLines < len(ls); p++ {
			out[fmt.Sprintf("device=%s/part-%05d", d, p)] = strings.Join(ls[p*partLines:min(len(ls), (p+1)*partLines)], "")
		}
	}
	return out, counts
}

func same(t *testing.T, what string, want map[string]string, got layout) {
	t.Helper()
	if !slices.Equal(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))) {
		t.Errorf("%s: grader's files %v, lesson's %v", what, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		return
	}
	for k, v := range want {
		if k != "_SUCCESS" && string(got[k]) != v {
			t.Errorf("%s: %s differs from the lesson's", what, k)
		}
	}
}

func TestBoundaryCasesOverSeeds(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 405))
		day := fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
		a := genDay(r, day, "readings.csv", nil)
		want, counts := lessonLayout(t, a.text)
		same(t, fmt.Sprintf("seed %d first day", seed), want, a.want)
		has := func(n int) bool { return slices.Contains(slices.Collect(maps.Values(counts)), n) }
		if !has(2*partLines) || !has(partLines+1) || !has(1) || len(counts) != 5 {
			t.Errorf("seed %d: readings per device %v: want 400, 201 and 1 among 5 devices", seed, counts)
		}
		if len(a.want) < crashAt+1 {
			t.Errorf("seed %d: the first day has %d files: the crash after create #%d may not come", seed, len(a.want), crashAt)
		}
		for _, l := range a.lines {
			if !strings.HasPrefix(strings.SplitN(l, ",", 3)[1], day+"T") {
				t.Fatalf("seed %d: reading %q is not of %s", seed, l, day)
			}
		}
		b := genDay(r, day, "corrected.csv", a)
		wantB, countsB := lessonLayout(t, b.text)
		same(t, fmt.Sprintf("seed %d corrected day", seed), wantB, b.want)
		if len(b.want) >= len(a.want) || len(b.want) < crashAt+1 {
			t.Errorf("seed %d: the corrected day has %d files, the first %d: want fewer, and more than %d", seed, len(b.want), len(a.want), crashAt)
		}
		gone, shorter, added := 0, 0, 0
		for d, n := range counts {
			switch {
			case countsB[d] == 0:
				gone++
			case (countsB[d]+partLines-1)/partLines < (n+partLines-1)/partLines:
				shorter++
				if countsB[d] != partLines {
					t.Errorf("seed %d: %s shrank to %d readings, not exactly PartLines", seed, d, countsB[d])
				}
			}
		}
		for d := range countsB {
			if counts[d] == 0 {
				added++
			}
		}
		if gone != 1 || shorter != 1 || added != 1 {
			t.Errorf("seed %d: corrected day: %d devices gone, %d a part shorter, %d new; want 1 each", seed, gone, shorter, added)
		}
		if changed(a, b) == 0 {
			t.Logf("seed %d: no reading got new watts", seed)
		}
		if !strings.Contains(devicesChanged(a, b), " gone") {
			t.Errorf("seed %d: %s", seed, devicesChanged(a, b))
		}
	}
}
