// Package firstsql is a wrong solution of spark/01-first-sql.
//
// Mistake: breaks ties between equally busy sites by name Z→A (site DESC,
// as when one DESC is copied to every key), so a tie at third place keeps
// the wrong site.
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

const query = `SELECT site, count(*) AS readings, CAST(max(reading) AS BIGINT) AS peak
FROM readings
GROUP BY site
ORDER BY readings DESC, site DESC
LIMIT 3`

// BusiestSites reads the CSV at path on HDFS (columns site,device,reading
// with a header line) and returns the three sites with the most readings,
// busiest first (ties: site name A to Z), with their peak reading.
func BusiestSites(ctx context.Context, conn *gohive.Connection, path string) ([]SiteStats, error) {
	cur := conn.Cursor()
	defer cur.Close()
	view := fmt.Sprintf("CREATE OR REPLACE TEMPORARY VIEW readings USING csv OPTIONS (path '%s', header 'true', inferSchema 'true')", strings.ReplaceAll(path, "'", ""))
	cur.Exec(ctx, view)
	if err := cur.Error(); err != nil {
		return nil, fmt.Errorf("create view: %w", err)
	}
	cur.Exec(ctx, query)
	if err := cur.Error(); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	var out []SiteStats
	for cur.HasMore(ctx) {
		var s SiteStats
		cur.FetchOne(ctx, &s.Site, &s.Readings, &s.Peak)
		if err := cur.Error(); err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		out = append(out, s)
	}
	return out, cur.Error()
}
