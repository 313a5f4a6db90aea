// Package report builds a per-site daily report of sensor events with
// Spark DataFrames, from Go over Spark Connect.
//
// Read the lesson first: delab read spark/01
// Check your work:       delab check spark/02
package report

import (
	"context"
	"errors"

	"github.com/apache/spark-connect-go/spark/sql"
)

// DailyReport reads the sensor events in the Parquet files under input
// (columns event_id, site, ts, reading), keeps the events the lesson's
// rules keep, and writes one row per site and UTC day (site, events,
// readings, min_reading, max_reading, mean_reading) as Parquet under
// output, in one day=YYYY-MM-DD folder per day. The events never come
// into this process: Spark reads, aggregates and writes them.
func DailyReport(ctx context.Context, spark sql.SparkSession, input, output string) error {
	// TODO: read the events as a DataFrame, Filter, WithColumn day,
	// GroupBy site and day, Agg, and write the result partitioned by day.
	return errors.New("DailyReport is not implemented yet (lesson section \"Your lab: a daily report\")")
}
