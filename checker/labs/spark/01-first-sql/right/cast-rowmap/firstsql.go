// Package firstsql asks Spark SQL questions about files on HDFS.
//
// Read the lesson first: delab read spark/00
// Check your work:       delab check spark/01
package firstsql

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/beltran/gohive"
)

// SiteStats is one row of the answer.
type SiteStats struct {
	Site     string `json:"site"`
	Readings int64  `json:"readings"`
	Peak     int64  `json:"peak"`
}

var viewSeq atomic.Int64

// asInt64 converts the integer types gohive hands back into int64.
func asInt64(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	default:
		return 0, fmt.Errorf("unexpected %T %v", v, v)
	}
}

// BusiestSites reads the CSV at path on HDFS (columns site,device,reading
// with a header line) and returns the three sites with the most readings,
// busiest first (ties: site name A to Z), with their peak reading.
func BusiestSites(ctx context.Context, conn *gohive.Connection, path string) ([]SiteStats, error) {
	view := fmt.Sprintf("raw_%d_%d", time.Now().UnixNano(), viewSeq.Add(1))
	quoted := "'" + strings.ReplaceAll(strings.ReplaceAll(path, `\`, `\\`), "'", `\'`) + "'"

	run := func(sql string) (*gohive.Cursor, error) {
		c := conn.Cursor()
		c.Exec(ctx, sql)
		if err := c.Error(); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}

	// Every column comes in as a string (no inferSchema); the numbers are
	// cast explicitly where they are used.
	c, err := run(fmt.Sprintf("CREATE TEMPORARY VIEW %s USING csv OPTIONS (path %s, header 'true')", view, quoted))
	if err != nil {
		return nil, fmt.Errorf("view over %s: %w", path, err)
	}
	c.Close()
	defer func() {
		if c, err := run("DROP VIEW IF EXISTS " + view); err == nil {
			c.Close()
		}
	}()

	q := fmt.Sprintf(`WITH per_site AS (
  SELECT site,
         CAST(count(*) AS BIGINT)                   AS readings,
         max(CAST(trim(reading) AS BIGINT))         AS peak
  FROM %s
  GROUP BY site
)
SELECT site, readings, peak FROM per_site
ORDER BY readings DESC, site
LIMIT 3`, view)
	c, err = run(q)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer c.Close()

	var result []SiteStats
	for c.HasMore(ctx) {
		if err := c.Error(); err != nil {
			return nil, fmt.Errorf("poll: %w", err)
		}
		row := c.RowMap(ctx)
		if err := c.Error(); err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		site, ok := row["site"].(string)
		if !ok {
			return nil, fmt.Errorf("site column: %T", row["site"])
		}
		n, err := asInt64(row["readings"])
		if err != nil {
			return nil, fmt.Errorf("readings of %s: %w", site, err)
		}
		p, err := asInt64(row["peak"])
		if err != nil {
			return nil, fmt.Errorf("peak of %s: %w", site, err)
		}
		result = append(result, SiteStats{Site: site, Readings: n, Peak: p})
	}
	if err := c.Error(); err != nil {
		return nil, err
	}
	if result == nil {
		result = []SiteStats{}
	}
	return result, nil
}
