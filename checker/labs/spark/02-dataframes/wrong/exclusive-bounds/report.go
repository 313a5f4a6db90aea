// Package report is a wrong solution of spark/02-dataframes: its filter
// keeps readings strictly between -40 and 125, so the readings exactly
// at the bounds, which the lesson keeps, are dropped.
package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	kept, err := events.Filter(ctx, functions.Expr("reading IS NULL OR (reading > -40 AND reading < 125)"))
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
// under output, one day=YYYY-MM-DD folder per day. The events never leave
// Spark: this process only sends plans.
func DailyReport(ctx context.Context, spark sql.SparkSession, input, output string) error {
	report, err := Daily(ctx, spark, input)
	if err != nil {
		return err
	}
	// The Go client's writer has no PartitionBy: Spark SQL's CREATE TABLE
	// ... PARTITIONED BY ... LOCATION ... AS SELECT writes the same layout.
	// Table names are shared by every session of this Spark, views are not.
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return err
	}
	view, table := "daily_report", "daily_report_"+hex.EncodeToString(suffix)
	if err := report.CreateOrReplaceTempView(ctx, view); err != nil {
		return err
	}
	if err := run(ctx, spark, fmt.Sprintf(
		"CREATE TABLE %s USING parquet PARTITIONED BY (day) LOCATION '%s' AS SELECT * FROM %s",
		table, output, view)); err != nil {
		return err
	}
	// The table is EXTERNAL (it has a LOCATION): dropping it forgets the
	// name and keeps the files.
	return run(ctx, spark, "DROP TABLE "+table)
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
