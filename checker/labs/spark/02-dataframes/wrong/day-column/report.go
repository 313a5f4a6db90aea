// Package report is a wrong solution of spark/02-dataframes: the Go
// client's writer has no PartitionBy, so it caches the report and saves
// each day's rows into a day=YYYY-MM-DD folder of its own, with the day
// column still in them: the partition column is written twice, in the
// folder name and as data (and the report folder has no _SUCCESS).
package report

import (
	"context"
	"fmt"

	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/apache/spark-connect-go/spark/sql/functions"
	"github.com/apache/spark-connect-go/spark/sql/types"
)

// Daily builds the per-site daily report as a DataFrame: the events of the
// Parquet files under input that the report keeps, grouped by site and UTC
// day. Nothing runs yet: Spark only plans it.
func Daily(ctx context.Context, spark sql.SparkSession, input string) (sql.DataFrame, error) {
	events, err := spark.Read().Format("parquet").Load(input)
	if err != nil {
		return nil, err
	}
	kept, err := events.Filter(ctx, functions.Expr("reading IS NULL OR reading BETWEEN -40 AND 125"))
	if err != nil {
		return nil, err
	}
	kept, err = kept.WithColumn(ctx, "day", functions.Expr("to_date(ts)"))
	if err != nil {
		return nil, err
	}
	return kept.GroupBy(functions.Col("site"), functions.Col("day")).Agg(ctx,
		functions.Count(functions.Lit(types.Int64(1))).Alias("events"),
		functions.Count(functions.Col("reading")).Alias("readings"),
		functions.Min(functions.Col("reading")).Alias("min_reading"),
		functions.Max(functions.Col("reading")).Alias("max_reading"),
		functions.Avg(functions.Col("reading")).Alias("mean_reading"),
	)
}

// DailyReport writes the report for the events under input as Parquet
// under output, one day=YYYY-MM-DD folder per day.
func DailyReport(ctx context.Context, spark sql.SparkSession, input, output string) error {
	report, err := Daily(ctx, spark, input)
	if err != nil {
		return err
	}
	if err := report.CreateOrReplaceTempView(ctx, "daily_report"); err != nil {
		return err
	}
	if err := report.Cache(ctx); err != nil {
		return err
	}
	days, err := spark.Sql(ctx, "SELECT DISTINCT CAST(day AS STRING) FROM daily_report")
	if err != nil {
		return err
	}
	rows, err := days.Collect(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		day := fmt.Sprint(r.At(0))
		oneDay, err := spark.Sql(ctx, fmt.Sprintf("SELECT * FROM daily_report WHERE day = DATE'%s'", day))
		if err != nil {
			return err
		}
		if err := oneDay.Write().Format("parquet").Mode("overwrite").Save(ctx, output+"/day="+day); err != nil {
			return err
		}
	}
	return nil
}
