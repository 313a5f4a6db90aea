// Package firstsql asks Spark SQL questions about files on HDFS.
//
// Read the lesson first: delab read spark/00
// Check your work:       delab check spark/01
package firstsql

import (
	"context"
	"fmt"
	"strings"

	"github.com/beltran/gohive"
)

// SiteStats is one row of the answer.
type SiteStats struct {
	Site     string `json:"site"`
	Readings int64  `json:"readings"`
	Peak     int64  `json:"peak"`
}

// sqlString quotes s as a Spark SQL string literal.
func sqlString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// BusiestSites reads the CSV at path on HDFS (columns site,device,reading
// with a header line) and returns the three sites with the most readings,
// busiest first (ties: site name A to Z), with their peak reading.
func BusiestSites(ctx context.Context, conn *gohive.Connection, path string) ([]SiteStats, error) {
	cur := conn.Cursor()
	defer cur.Close()

	// Declare the schema instead of inferring it: reading is a BIGINT from
	// the start, so max compares numbers and fetches straight into int64.
	cur.Exec(ctx, `CREATE OR REPLACE TEMPORARY VIEW site_readings
(site STRING, device STRING, reading BIGINT)
USING csv
OPTIONS (path `+sqlString(path)+`, header 'true')`)
	if err := cur.Error(); err != nil {
		return nil, fmt.Errorf("create view over %s: %w", path, err)
	}

	cur.Exec(ctx, `SELECT site, count(1) AS n, max(reading) AS peak
FROM site_readings
GROUP BY site
ORDER BY n DESC, site ASC
LIMIT 3`)
	if err := cur.Error(); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}

	out := make([]SiteStats, 0, 3)
	for cur.HasMore(ctx) {
		if err := cur.Error(); err != nil {
			return nil, err
		}
		var row SiteStats
		cur.FetchOne(ctx, &row.Site, &row.Readings, &row.Peak)
		if err := cur.Error(); err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		out = append(out, row)
	}
	if err := cur.Error(); err != nil {
		return nil, err
	}
	return out, nil
}
