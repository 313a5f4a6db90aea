// Package joins is your solution to spark/03-joins-and-shuffles.
// Read the lesson first: delab read spark/02
package joins

import (
	"context"
	"errors"

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

// SiteReport reads three CSV files on HDFS, each with a header line:
//
//	eventsPath   device_id,site_id,reading   (many rows)
//	devicesPath  device_id,kind              (a few dozen rows)
//	sitesPath    site_id,name,region         (330,000 rows, 11 MB)
//
// and returns one row per site that has at least one reading from a
// device of kind "sensor": the site's id, name and region, the number of
// those readings and their sum. Events whose device or site is missing
// from its table do not count. Rows may come in any order.
//
// The checker also reads the plan Spark ran for your query: the device
// table must be broadcast, the site table must not be, and the plan may
// shuffle once (lesson sections "Join strategies", "Counting Exchanges").
func SiteReport(ctx context.Context, spark sql.SparkSession, eventsPath, devicesPath, sitesPath string) ([]SiteTotal, error) {
	return nil, errors.New("not implemented yet (lesson section \"The task\")")
}
