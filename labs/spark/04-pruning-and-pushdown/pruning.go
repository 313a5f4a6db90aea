// Package pruning is your solution to spark/04-pruning-and-pushdown.
// Read the lesson first: delab read spark/03
package pruning

import (
	"context"
	"errors"

	"github.com/apache/spark-connect-go/spark/sql"
)

// DayTotal is one row of the week's report: one device's events on one
// UTC day.
type DayTotal struct {
	Day    string `json:"day"` // YYYY-MM-DD
	Events int64  `json:"events"`
	Total  int64  `json:"total"`
}

// Layout reads the raw events under rawPath (Parquet: device_id STRING,
// ts TIMESTAMP, reading BIGINT; four weeks, in no order) and writes them
// as a Parquet table under tableDir, laid out for WeekTotals: one
// day=YYYY-MM-DD folder per UTC day of ts, holding every event of that
// day (device_id, ts, reading) in few files, sorted so that one device's
// rows can be skipped or found by their row groups' statistics (lesson
// sections "Partition pruning" and "Sorting for pushdown").
func Layout(ctx context.Context, spark sql.SparkSession, rawPath, tableDir string) error {
	return errors.New("not implemented yet (lesson section \"The task\")")
}

// WeekTotals returns, for each UTC day of the week that starts on from
// (YYYY-MM-DD; seven days, from's midnight included, the eighth day's
// midnight not) on which device has events, the number of those events
// and the sum of their readings, read from the table Layout wrote under
// tableDir. Rows may come in any order.
//
// The checker reads what Spark read for this query: it must prune to the
// week's folders and push the device filter into the Parquet scan
// (lesson section "What the checker measures").
func WeekTotals(ctx context.Context, spark sql.SparkSession, tableDir, device, from string) ([]DayTotal, error) {
	return nil, errors.New("not implemented yet (lesson section \"The task\")")
}
