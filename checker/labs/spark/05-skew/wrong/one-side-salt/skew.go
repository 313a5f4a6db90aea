// Package skew, wrong: salting one side only.
package skew

import (
	"context"
	"fmt"

	"github.com/apache/spark-connect-go/spark/sql"
)

// RegionTotal is one row of the report: a region and its customers' orders.
type RegionTotal struct {
	Region    string `json:"region"`
	Orders    int64  `json:"orders"`
	Amount    int64  `json:"amount"`
	OverLimit int64  `json:"over_limit"`
}

// Wrong: the orders are salted, but each customer gets a single salt
// of its own instead of one copy per salt, so an order meets its
// customer only when the two salts happen to agree.
var settings []string

const query = `
SELECT c.region, count(*) AS orders, sum(o.amount) AS amount,
       count_if(o.amount > c.credit_limit) AS over_limit
FROM (SELECT *, pmod(order_id, 64) AS salt FROM orders) o
JOIN (SELECT c.*, pmod(customer_id, 64) AS salt FROM customers c) c
  ON o.customer_id = c.customer_id AND o.salt = c.salt
GROUP BY c.region`

// RegionReport returns, per region with orders, the orders of its
// customers: their count, their amounts' sum, and how many exceed the
// customer's credit limit.
func RegionReport(ctx context.Context, spark sql.SparkSession, ordersDir, customersPath string) ([]RegionTotal, error) {
	views := []struct{ name, schema, path string }{
		{"orders", "order_id BIGINT, customer_id BIGINT, amount BIGINT", ordersDir},
		{"customers", "customer_id BIGINT, region STRING, credit_limit BIGINT", customersPath},
	}
	for _, v := range views {
		ddl := fmt.Sprintf("CREATE OR REPLACE TEMPORARY VIEW %s (%s) USING csv OPTIONS (path '%s', header 'true')", v.name, v.schema, v.path)
		if _, err := spark.Sql(ctx, ddl); err != nil {
			return nil, fmt.Errorf("view %s: %w", v.name, err)
		}
	}
	for _, s := range settings {
		if _, err := spark.Sql(ctx, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	df, err := spark.Sql(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := df.Collect(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RegionTotal, 0, len(rows))
	for _, r := range rows {
		var t RegionTotal
		var ok [4]bool
		t.Region, ok[0] = r.At(0).(string)
		t.Orders, ok[1] = r.At(1).(int64)
		t.Amount, ok[2] = r.At(2).(int64)
		t.OverLimit, ok[3] = r.At(3).(int64)
		if ok != [4]bool{true, true, true, true} {
			return nil, fmt.Errorf("unexpected row %v", r.Values())
		}
		out = append(out, t)
	}
	return out, nil
}
