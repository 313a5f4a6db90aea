// Package pruning is a wrong solution of spark/04-pruning-and-pushdown:
// each day is one file of small row groups, but its rows are not sorted
// by device: every row group holds every device, its statistics span
// them all, and the pushed device filter skips nothing.
package pruning

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/apache/spark-connect-go/spark/sql"
)

// DayTotal is one row of the week's report: one device's events on one
// UTC day.
type DayTotal struct {
	Day    string `json:"day"` // YYYY-MM-DD
	Events int64  `json:"events"`
	Total  int64  `json:"total"`
}

// Layout rewrites the raw events under rawPath as a Parquet table under
// tableDir: one day=YYYY-MM-DD folder per UTC day, one file per day
// (DISTRIBUTE BY day), its rows sorted by device_id (SORT BY) in row groups
// of about 32 KiB, so that one device's rows of a day fill one or two row
// groups whose statistics let a reader skip the others.
func Layout(ctx context.Context, spark sql.SparkSession, rawPath, tableDir string) error {
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	view, table := "raw_events", "events_"+hex.EncodeToString(suffix)
	if err := run(ctx, spark, fmt.Sprintf("CREATE OR REPLACE TEMPORARY VIEW %s USING parquet OPTIONS (path '%s')", view, rawPath)); err != nil {
		return err
	}
	if err := run(ctx, spark, fmt.Sprintf(`CREATE TABLE %s USING parquet
OPTIONS ('parquet.block.size' '32768')
PARTITIONED BY (day) LOCATION '%s' AS
SELECT device_id, ts, reading, to_date(ts) AS day FROM %s
DISTRIBUTE BY day`, table, tableDir, view)); err != nil {
		return err
	}
	// The table is EXTERNAL (it has a LOCATION): dropping it forgets the
	// name and keeps the files.
	return run(ctx, spark, "DROP TABLE "+table)
}

// WeekTotals returns, for each day of the week that starts on from
// (YYYY-MM-DD) and has events of device, their number and the sum of
// their readings, read from the table Layout wrote. It filters on the
// partition column (pruning) and on device_id itself (pushed into the
// Parquet scan).
func WeekTotals(ctx context.Context, spark sql.SparkSession, tableDir, device, from string) ([]DayTotal, error) {
	start, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return nil, err
	}
	df, err := spark.Read().Format("parquet").Load(tableDir)
	if err != nil {
		return nil, err
	}
	if err := df.CreateOrReplaceTempView(ctx, "events"); err != nil {
		return nil, err
	}
	df, err = spark.Sql(ctx, fmt.Sprintf(`SELECT CAST(day AS STRING), count(*), sum(reading) FROM events
WHERE device_id = '%s' AND day >= DATE '%s' AND day < DATE '%s'
GROUP BY day`, device, from, start.AddDate(0, 0, 7).Format(time.DateOnly)))
	if err != nil {
		return nil, err
	}
	rows, err := df.Collect(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DayTotal, 0, len(rows))
	for _, r := range rows {
		var t DayTotal
		var ok [3]bool
		t.Day, ok[0] = r.At(0).(string)
		t.Events, ok[1] = r.At(1).(int64)
		t.Total, ok[2] = r.At(2).(int64)
		if ok != [3]bool{true, true, true} {
			return nil, fmt.Errorf("unexpected row %v", r.Values())
		}
		out = append(out, t)
	}
	return out, nil
}

// run executes one SQL statement and waits for it to finish.
func run(ctx context.Context, spark sql.SparkSession, statement string) error {
	df, err := spark.Sql(ctx, statement)
	if err != nil {
		return err
	}
	_, err = df.Collect(ctx)
	return err
}
