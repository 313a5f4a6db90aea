// Package compact packs a directory of small HDFS files into a few large
// Avro container files, with an index that finds each original by name.
//
// Read the lesson first: delab read hdfs/03
// Check your work:       delab check hdfs/04
package compact

import (
	"errors"

	"github.com/colinmarc/hdfs/v2"
)

// Schema is the Avro schema of every record in a part: one reading (one
// line) of one original file.
const Schema = `{
  "type": "record",
  "name": "Reading",
  "namespace": "delab.hdfs",
  "fields": [
    {"name": "file", "type": "string"},
    {"name": "ts", "type": "long"},
    {"name": "value", "type": "double"}
  ]
}`

// Reading is one record of a part.
type Reading struct {
	File  string  `avro:"file"`  // the original's base name, e.g. sensor-00042_20260301T14.csv
	TS    int64   `avro:"ts"`    // the line's first field, Unix milliseconds
	Value float64 `avro:"value"` // the line's second field
}

// Compact packs every file of inDir into Avro container files ("parts")
// in outDir, writes outDir/index.csv, and then removes inDir.
//
//   - A part is closed once the original bytes put into it reach
//     partBytes; the next original starts a new part. An original is
//     never split between parts.
//   - index.csv has the header name,part,first,count and one row per
//     original: its base name, the part's base name, the position of its
//     first record in that part (from 0) and how many records it has.
//     It is CSV: a name may hold a comma or a double quote.
//   - inDir is removed only once every part and the index are closed.
func Compact(client *hdfs.Client, inDir, outDir string, partBytes int64) error {
	// TODO: list inDir; for each original, stream its lines into the
	// current part as Reading records (lesson section "Compaction"),
	// note its index row ("An index to find one file again"), and close
	// the part once it holds partBytes of originals ("How big a part").
	// Then write index.csv and remove inDir ("What a small file costs").
	return errors.New("Compact is not implemented yet (lesson section \"Compaction\")")
}
