// Package report is a wrong solution of spark/02-dataframes, and a careful
// one: Spark filters the events and keeps only the three columns the
// report needs, but ToArrow still brings every kept event into this
// process, as Arrow columns, to be aggregated in Go. Two million events do
// not fit in the process's memory, however compact the columns.
package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/apache/spark-connect-go/spark/sql/functions"
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
	kept, err := events.Filter(ctx, functions.Expr("reading IS NULL OR reading BETWEEN -40 AND 125"))
	if err != nil {
		return err
	}
	kept, err = kept.SelectExpr(ctx, "site", "CAST(to_date(ts) AS STRING) AS day", "reading")
	if err != nil {
		return err
	}
	tbl, err := kept.ToArrow(ctx)
	if err != nil {
		return err
	}
	byKey := map[key]*agg{}
	var order []key
	cols := [3][]interface {
		Len() int
		IsNull(int) bool
		ValueStr(int) string
	}{}
	for c := range cols {
		for _, chunk := range (*tbl).Column(c).Data().Chunks() {
			cols[c] = append(cols[c], chunk)
		}
	}
	for ci := range cols[0] {
		site, day, reading := cols[0][ci], cols[1][ci], cols[2][ci]
		for i := 0; i < site.Len(); i++ {
			k := key{site.ValueStr(i), day.ValueStr(i)}
			a := byKey[k]
			if a == nil {
				a = &agg{min: math.Inf(1), max: math.Inf(-1)}
				byKey[k] = a
				order = append(order, k)
			}
			a.events++
			if reading.IsNull(i) {
				continue
			}
			v, err := strconv.ParseFloat(reading.ValueStr(i), 64)
			if err != nil {
				return err
			}
			a.readings++
			a.sum += v
			a.min, a.max = math.Min(a.min, v), math.Max(a.max, v)
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
