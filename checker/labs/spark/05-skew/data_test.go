package skew

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
)

// parse reads one generated CSV file (header included) into records.
func parse(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}

// Every seed's data has the hot key and every edge the lesson teaches,
// and the answer the grader keeps is what an inner join of the files
// computes.
func TestEverySeedPlacesTheHotKeyAndEveryEdge(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 8
	}
	for seed := uint64(0); seed < seeds; seed++ {
		d := generate(seed*7919 + 1)
		type customer struct {
			region string
			limit  int64
		}
		cust := map[int64]customer{}
		regions := map[string]int{}
		for _, r := range parse(t, d.customers) {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			limit, _ := strconv.ParseInt(r[2], 10, 64)
			if _, dup := cust[id]; dup {
				t.Fatalf("seed %d: customer %d twice", seed, id)
			}
			cust[id] = customer{r[1], limit}
			regions[r[1]]++
		}
		if len(d.orders) != nFiles {
			t.Fatalf("seed %d: %d order files", seed, len(d.orders))
		}
		perKey := map[int64]int{}
		truth := map[string]regionTotal{}
		var rows, nulls, ghosts, atLimit, over, under int
		ordered := map[string]bool{}
		for _, f := range d.orders {
			for _, r := range parse(t, f) {
				rows++
				amount, _ := strconv.ParseInt(r[2], 10, 64)
				if r[1] == "" {
					nulls++
					continue
				}
				key, _ := strconv.ParseInt(r[1], 10, 64)
				perKey[key]++
				c, ok := cust[key]
				if !ok {
					ghosts++
					continue
				}
				ordered[c.region] = true
				tot := truth[c.region]
				tot.Region = c.region
				tot.Orders++
				tot.Amount += amount
				switch {
				case amount > c.limit:
					tot.OverLimit++
					over++
				case amount == c.limit:
					atLimit++
				default:
					under++
				}
				truth[c.region] = tot
			}
		}
		if rows != nOrders {
			t.Errorf("seed %d: %d orders", seed, rows)
		}
		if perKey[d.hot] != nOrders/2 || d.hotRows != nOrders/2 {
			t.Errorf("seed %d: the hot customer %d has %d orders, want half of %d", seed, d.hot, perKey[d.hot], nOrders)
		}
		if _, ok := cust[d.hot]; !ok {
			t.Errorf("seed %d: the hot customer is not in the customer table", seed)
		}
		second := 0
		for k, n := range perKey {
			if k != d.hot && n > second {
				second = n
			}
		}
		if second*100 > nOrders/2 {
			t.Errorf("seed %d: another customer has %d orders: not one hot key", seed, second)
		}
		if nulls == 0 || ghosts == 0 || atLimit == 0 || over == 0 || under == 0 {
			t.Errorf("seed %d: null keys %d, unknown customers %d, at the limit %d, over %d, under %d", seed, nulls, ghosts, atLimit, over, under)
		}
		if regions[quietRegion] == 0 || ordered[quietRegion] {
			t.Errorf("seed %d: the quiet region has %d customers, ordered %v", seed, regions[quietRegion], ordered[quietRegion])
		}
		if len(truth) != nRegion || len(d.truth) != nRegion {
			t.Errorf("seed %d: %d regions with orders (grader %d), want %d", seed, len(truth), len(d.truth), nRegion)
		}
		for r, w := range truth {
			if d.truth[r] != w {
				t.Errorf("seed %d: region %s: grader %+v, recomputed %+v", seed, r, d.truth[r], w)
			}
		}
	}
}

// The judge names the rule a wrong report broke.
func TestJudgeRows(t *testing.T) {
	d := generate(42)
	var right []regionTotal
	for _, r := range d.truth {
		right = append(right, r)
	}
	if err := judgeRows(d.truth, right); err != nil {
		t.Fatalf("the right rows fail: %v", err)
	}
	quiet := append(append([]regionTotal{}, right...), regionTotal{Region: quietRegion, Orders: 1})
	wrongCount := append([]regionTotal{}, right...)
	wrongCount[0].Orders--
	for _, c := range []struct {
		name string
		got  []regionTotal
		want string
	}{
		{"quiet region", quiet, "never ordered"},
		{"missing", right[1:], "misses 1 of the"},
		{"twice", append(append([]regionTotal{}, right...), right[0]), "appears twice"},
		{"count", wrongCount, "row is wrong"},
	} {
		err := judgeRows(d.truth, c.got)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%s: %v, want a failure saying %q", c.name, err, c.want)
		}
	}
}
