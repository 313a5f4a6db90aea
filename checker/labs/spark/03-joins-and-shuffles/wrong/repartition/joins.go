// Package joins is a wrong solution of spark/03-joins-and-shuffles: it repartitions the events into 8 partitions "for parallelism" before the aggregate, which adds a shuffle.
package joins

import (
	"context"
	"fmt"

	"github.com/apache/spark-connect-go/spark/sql"
)

// SiteTotal is one row of the report: a site and its sensors' readings.
type SiteTotal struct {
	SiteID   int64  `json:"site_id"`
	Name     string `json:"name"`
	Region   string `json:"region"`
	Readings int64  `json:"readings"`
	Total    int64  `json:"total"`
}

// The events are aggregated per site first (one shuffle), the device table
// is broadcast into that aggregate, and the aggregate — one row per site —
// is broadcast into the scan of the large site table, which is never
// shuffled.
const query = `
SELECT /*+ BROADCAST(t) */ s.site_id, s.name, s.region, t.readings, t.total
FROM (
  SELECT /*+ BROADCAST(d) */ e.site_id, count(*) AS readings, sum(e.reading) AS total
  FROM (SELECT /*+ REPARTITION(8) */ * FROM events) e JOIN devices d ON e.device_id = d.device_id
  WHERE d.kind = 'sensor'
  GROUP BY e.site_id
) t
JOIN sites s ON s.site_id = t.site_id`

// SiteReport reads three CSV files with header lines — events
// (device_id,site_id,reading), devices (device_id,kind) and sites
// (site_id,name,region) — and returns, for every site that has at least
// one reading from a device of kind "sensor", the number and the sum of
// those readings, in any order.
func SiteReport(ctx context.Context, spark sql.SparkSession, eventsPath, devicesPath, sitesPath string) ([]SiteTotal, error) {
	views := []struct{ name, schema, path string }{
		{"events", "device_id STRING, site_id BIGINT, reading BIGINT", eventsPath},
		{"devices", "device_id STRING, kind STRING", devicesPath},
		{"sites", "site_id BIGINT, name STRING, region STRING", sitesPath},
	}
	for _, v := range views {
		ddl := fmt.Sprintf("CREATE OR REPLACE TEMPORARY VIEW %s (%s) USING csv OPTIONS (path '%s', header 'true')", v.name, v.schema, v.path)
		if _, err := spark.Sql(ctx, ddl); err != nil {
			return nil, fmt.Errorf("view %s: %w", v.name, err)
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
	out := make([]SiteTotal, 0, len(rows))
	for _, r := range rows {
		var t SiteTotal
		var ok [5]bool
		t.SiteID, ok[0] = r.At(0).(int64)
		t.Name, ok[1] = r.At(1).(string)
		t.Region, ok[2] = r.At(2).(string)
		t.Readings, ok[3] = r.At(3).(int64)
		t.Total, ok[4] = r.At(4).(int64)
		if ok != [5]bool{true, true, true, true, true} {
			return nil, fmt.Errorf("unexpected row %v", r.Values())
		}
		out = append(out, t)
	}
	return out, nil
}
