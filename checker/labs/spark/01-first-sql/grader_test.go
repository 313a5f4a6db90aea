package firstsql

import (
	"bytes"
	"encoding/csv"
	"sort"
	"strconv"
	"testing"
)

// TestEveryEdgeIsInEverySeed reads the generated CSV back as text, the way
// a learner's query sees it, and asserts over many seeds that each rule's
// edge (see generate) is in the file, so no seed lets a mistake pass.
func TestEveryEdgeIsInEverySeed(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		data, truth := generate(seed)
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if got := rows[0]; len(got) != 3 || got[0] != "site" || got[2] != "reading" {
			t.Fatalf("seed %d: header %v", seed, got)
		}
		counts, peak, textPeak, devices := map[string]int64{}, map[string]int64{}, map[string]string{}, map[string]map[string]bool{}
		for _, r := range rows[1:] {
			v, err := strconv.ParseInt(r[2], 10, 64)
			if err != nil {
				t.Fatalf("seed %d: reading %q", seed, r[2])
			}
			s := r[0]
			counts[s]++
			peak[s] = max(peak[s], v)
			textPeak[s] = max(textPeak[s], r[2])
			if devices[s] == nil {
				devices[s] = map[string]bool{}
			}
			devices[s][r[1]] = true
		}
		for s, st := range truth {
			if st.Readings != counts[s] || st.Peak != peak[s] {
				t.Fatalf("seed %d: truth for %s is %+v, the file says %d readings, peak %d", seed, s, st, counts[s], peak[s])
			}
			if strconv.FormatInt(peak[s], 10) == textPeak[s] {
				t.Errorf("seed %d: %s's peak %d is also its largest reading as text, so a string peak passes", seed, s, peak[s])
			}
			if int64(len(devices[s])) == counts[s] {
				t.Errorf("seed %d: %s has as many devices as readings", seed, s)
			}
		}
		byName := func(desc bool) string {
			var all []siteStats
			for _, s := range truth {
				all = append(all, s)
			}
			sort.Slice(all, func(i, j int) bool {
				if all[i].Readings != all[j].Readings {
					return all[i].Readings > all[j].Readings
				}
				return (all[i].Site < all[j].Site) != desc
			})
			return names(all[:3])
		}
		if asc, desc := byName(false), byName(true); asc != names(top3(truth)) || asc == desc {
			t.Errorf("seed %d: top three with ties A→Z %s, Z→A %s: a wrong tie-break would pass", seed, asc, desc)
		}
		sorted := top3(truth)
		var all []int64
		for _, s := range truth {
			all = append(all, s.Readings)
		}
		sort.Slice(all, func(i, j int) bool { return all[i] > all[j] })
		if all[0] != all[3] || all[3] == all[4] {
			t.Errorf("seed %d: counts %v: want the four busiest tied, and the fifth below them", seed, all)
		}
		if sorted[0].Readings != all[0] {
			t.Errorf("seed %d: top3 %v", seed, sorted)
		}
	}
}
