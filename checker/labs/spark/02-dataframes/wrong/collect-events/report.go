// Package report is a wrong solution of spark/02-dataframes: it brings
// the events into Go with Collect and aggregates them there, as it would
// a slice. Every event crosses the network into this process, which runs
// out of memory long before the events are all there.
package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/apache/spark-connect-go/spark/sql/types"
)

type key struct{ site, day string }

type agg struct {
	events, readings int64
	min, max, sum    float64
}

// DailyReport writes the report for the events under input as Parquet
// under output, one day=YYYY-MM-DD folder per day.
func DailyReport(ctx context.Context, spark sql.SparkSession, input, output string) error {
	events, err := spark.Read().Format("parquet").Load(input)
	if err != nil {
		return err
	}
	events, err = events.SelectExpr(ctx, "site", "CAST(to_date(ts) AS STRING) AS day", "reading")
	if err != nil {
		return err
	}
	rows, err := events.Collect(ctx)
	if err != nil {
		return err
	}
	byKey := map[key]*agg{}
	var order []key
	for _, r := range rows {
		site, _ := r.Value("site").(string)
		day, _ := r.Value("day").(string)
		reading, isReading := r.Value("reading").(float64)
		if isReading && (reading < -40 || reading > 125) {
			continue
		}
		k := key{site, day}
		a := byKey[k]
		if a == nil {
			a = &agg{min: math.Inf(1), max: math.Inf(-1)}
			byKey[k] = a
			order = append(order, k)
		}
		a.events++
		if isReading {
			a.readings++
			a.sum += reading
			a.min, a.max = math.Min(a.min, reading), math.Max(a.max, reading)
		}
	}
	var data [][]any
	for _, k := range order {
		a := byKey[k]
		var lo, hi, mean any
		if a.readings > 0 {
			lo, hi, mean = a.min, a.max, a.sum/float64(a.readings)
		}
		data = append(data, []any{k.site, k.day, int(a.events), int(a.readings), lo, hi, mean})
	}
	schema := types.StructOf(
		types.NewStructField("site", types.STRING),
		types.NewStructField("day_text", types.STRING),
		types.NewStructField("events", types.LONG),
		types.NewStructField("readings", types.LONG),
		types.NewStructField("min_reading", types.DOUBLE),
		types.NewStructField("max_reading", types.DOUBLE),
		types.NewStructField("mean_reading", types.DOUBLE),
	)
	report, err := spark.CreateDataFrame(ctx, data, schema)
	if err != nil {
		return err
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	if err := report.CreateOrReplaceTempView(ctx, "daily_report"); err != nil {
		return err
	}
	table := "daily_report_" + hex.EncodeToString(suffix)
	if err := run(ctx, spark, fmt.Sprintf(
		"CREATE TABLE %s USING parquet PARTITIONED BY (day) LOCATION '%s' AS SELECT site, events, readings, min_reading, max_reading, mean_reading, CAST(day_text AS DATE) AS day FROM daily_report",
		table, output)); err != nil {
		return err
	}
	return run(ctx, spark, "DROP TABLE "+table)
}

func run(ctx context.Context, spark sql.SparkSession, statement string) error {
	df, err := spark.Sql(ctx, statement)
	if err != nil {
		return err
	}
	_, err = df.Collect(ctx)
	return err
}
