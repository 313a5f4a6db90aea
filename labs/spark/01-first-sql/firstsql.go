// Package firstsql asks Spark SQL questions about files on HDFS.
//
// Read the lesson first: delab read spark/00
// Check your work:       delab check spark/01
package firstsql

import (
	"context"
	"errors"

	"github.com/beltran/gohive"
)

// SiteStats is one row of the answer.
type SiteStats struct {
	Site     string `json:"site"`
	Readings int64  `json:"readings"`
	Peak     int64  `json:"peak"`
}

// BusiestSites reads the CSV at path on HDFS (columns site,device,reading
// with a header line) and returns the three sites with the most readings,
// busiest first (ties: site name A to Z), with their peak reading.
func BusiestSites(ctx context.Context, conn *gohive.Connection, path string) ([]SiteStats, error) {
	// TODO: create a temporary view over the file, run the query, fetch the rows.
	return nil, errors.New("BusiestSites is not implemented yet (lesson section \"Your lab: first SQL query\")")
}
