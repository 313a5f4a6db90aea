package pruning

import (
	"bytes"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/parquet/file"
)

// Every seed's data holds every boundary the lesson teaches, and the
// checker's answer is what a plain scan of the events gives.
func TestEverySeedHoldsEveryBoundary(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		ds := generate(seed)
		start := time.Date(ds.year, 1, 1, 0, 0, 0, 0, time.UTC)
		from, err := time.Parse(time.DateOnly, ds.from)
		if err != nil {
			t.Fatal(err)
		}
		if from.Before(start.AddDate(0, 0, 7)) || from.AddDate(0, 0, 14).After(start.AddDate(0, 0, days)) {
			t.Fatalf("seed %d: the week %s is not a week inside the data with a week on both sides", seed, ds.from)
		}
		weekStart, weekEnd := from.UnixMicro(), from.AddDate(0, 0, weekDays).UnixMicro()
		has := map[string]bool{}
		perDevice := map[string]int{}
		dayHas := map[string]bool{}
		for _, e := range ds.events {
			perDevice[e.device]++
			dayHas[time.UnixMicro(e.ts).UTC().Format(time.DateOnly)] = true
			switch {
			case e.device == ds.device && e.ts == weekStart:
				has["first instant"] = true
			case e.device == ds.device && e.ts == weekStart-1:
				has["just before"] = true
			case e.device == ds.device && e.ts == weekEnd-1:
				has["last microsecond"] = true
			case e.device == ds.device && e.ts == weekEnd:
				has["eighth midnight"] = true
			case e.device != ds.device && e.ts >= weekStart && e.ts < weekEnd:
				if e.device == ds.device+"x" {
					has["prefix neighbour"] = true
				}
				if e.device == prev(ds.device) {
					has["lower neighbour"] = true
				}
				if e.device == next(ds.device) {
					has["upper neighbour"] = true
				}
			}
		}
		for _, k := range []string{"first instant", "just before", "last microsecond", "eighth midnight", "prefix neighbour", "lower neighbour", "upper neighbour"} {
			if !has[k] {
				t.Errorf("seed %d: no %s event", seed, k)
			}
		}
		if len(dayHas) != days || ds.dayCount != days {
			t.Errorf("seed %d: events on %d days (dataset says %d), want %d", seed, len(dayHas), ds.dayCount, days)
		}
		// The answer: between 1 and 6 days (one day of the week has no
		// event of the device), the first and last day always there.
		if n := len(ds.truth); n != weekDays-1 {
			t.Errorf("seed %d: %d days in the answer, want %d", seed, n, weekDays-1)
		}
		if ds.truth[0].Day != ds.from || ds.truth[len(ds.truth)-1].Day != addDays(ds.from, weekDays-1) {
			t.Errorf("seed %d: the answer %v lacks the first or the last day of the week", seed, ds.truth)
		}
		// Every device has events: none is rare enough to sit alone.
		if len(perDevice) < nDevices {
			t.Errorf("seed %d: %d devices", seed, len(perDevice))
		}
	}
}

func prev(d string) string { return deviceName(atoi(d[4:]) - 1) }
func next(d string) string { return deviceName(atoi(d[4:]) + 1) }

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// The raw file is one row group: the naive layout has nothing to skip.
func TestRawFileIsOneRowGroup(t *testing.T) {
	ds := generate(3)
	b, err := rawParquet(ds.events)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if pf.NumRowGroups() != 1 || pf.NumRows() != int64(len(ds.events)) {
		t.Errorf("%d row groups, %d rows; want 1 and %d", pf.NumRowGroups(), pf.NumRows(), len(ds.events))
	}
	if len(b) < 3<<20 || len(b) > 6<<20 {
		t.Errorf("raw file of %d bytes: sizes were measured for about 4 MB", len(b))
	}
}
