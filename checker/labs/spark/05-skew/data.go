package skew

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
)

// Sizes: the orders are written as nFiles CSV files, so that the scan
// runs one map task per file and AQE can split the hot key's shuffle
// partition at nFiles boundaries.
const (
	nFiles     = 16
	nOrders    = 320_000
	nCustomers = 20_000
	// nQuiet customers (ids above every ordering customer's) never order:
	// their region, quietRegion, has no row in the report.
	nQuiet  = 200
	nGhosts = 500 // customer ids in the orders but not in the customers
	nRegion = 12
)

const quietRegion = "region-quiet"

// regionTotal is one row of the report.
type regionTotal struct {
	Region    string `json:"region"`
	Orders    int64  `json:"orders"`
	Amount    int64  `json:"amount"`
	OverLimit int64  `json:"over_limit"`
}

type dataset struct {
	orders    [][]byte // one CSV file each, header included
	customers []byte
	hot       int64
	truth     map[string]regionTotal
	// edges counts the rows of each rule's edge, for the test.
	hotRows, nullKeys, ghostRows int
}

// generate builds the files and the answer. Every run has: one customer
// holding half the orders (the hot key), orders of customers missing from
// the customer table, orders without a customer (null key), customers who
// never order (a whole region of them), and orders on both sides of the
// credit limit, the equal amount included.
func generate(seed uint64) dataset {
	r := rand.New(rand.NewPCG(seed, 5))
	d := dataset{truth: map[string]regionTotal{}}
	type customer struct {
		region string
		limit  int64
	}
	cust := map[int64]customer{}
	ids := r.Perm(nCustomers + nQuiet)
	var cb bytes.Buffer
	cb.WriteString("customer_id,region,credit_limit\n")
	for i := 0; i < nCustomers+nQuiet; i++ {
		id := int64(1000 + ids[i])
		c := customer{region: fmt.Sprintf("region-%02d", r.IntN(nRegion)), limit: int64(100 + r.IntN(9900))}
		if i >= nCustomers {
			c.region = quietRegion
		}
		cust[id] = c
	}
	keys := make([]int64, 0, len(cust))
	for id := range cust {
		keys = append(keys, id)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var ordering []int64
	for _, id := range keys {
		fmt.Fprintf(&cb, "%d,%s,%d\n", id, cust[id].region, cust[id].limit)
		if cust[id].region != quietRegion {
			ordering = append(ordering, id)
		}
	}
	d.customers = cb.Bytes()
	d.hot = ordering[r.IntN(len(ordering))]
	per := nOrders / nFiles
	id := int64(0)
	for f := 0; f < nFiles; f++ {
		var ob bytes.Buffer
		ob.Grow(per * 24)
		ob.WriteString("order_id,customer_id,amount\n")
		// Exactly half of each file's rows are the hot key's, at random
		// places: nothing in an order's id tells whether it is hot.
		hot := make([]bool, per)
		for _, i := range r.Perm(per)[:per/2] {
			hot[i] = true
		}
		for i := 0; i < per; i++ {
			id++
			amount := int64(r.IntN(10_000))
			var key int64
			switch {
			case hot[i]:
				key = d.hot
			case i%97 == 1:
				fmt.Fprintf(&ob, "%d,,%d\n", id, amount) // no customer
				d.nullKeys++
				continue
			case i%89 == 3:
				key = int64(900_000 + r.IntN(nGhosts)) // not a customer
				d.ghostRows++
			default:
				key = ordering[r.IntN(len(ordering))]
				for key == d.hot { // the hot key's count stays exactly half
					key = ordering[r.IntN(len(ordering))]
				}
			}
			c, known := cust[key]
			if i%211 == 5 && known {
				amount = c.limit // exactly at the limit: not over it
			}
			fmt.Fprintf(&ob, "%d,%d,%d\n", id, key, amount)
			if key == d.hot {
				d.hotRows++
			}
			if !known {
				continue
			}
			t := d.truth[c.region]
			t.Region = c.region
			t.Orders++
			t.Amount += amount
			if amount > c.limit {
				t.OverLimit++
			}
			d.truth[c.region] = t
		}
		d.orders = append(d.orders, ob.Bytes())
	}
	return d
}
