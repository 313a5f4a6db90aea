// Package publish publishes a day of readings to HDFS so that readers
// never see half of it.
//
// Read the lesson first: delab read hdfs/04
// Check your work:       delab check hdfs/05
package publish

import (
	"errors"

	"github.com/colinmarc/hdfs/v2"
)

// PartLines is how many readings one part file holds (the last part of a
// device holds the rest).
const PartLines = 200

// Publish reads the day's readings from the local file src, one reading a
// line ("device,time,watts"), and publishes them under out:
//
//	<out>/date=<day>/device=<device>/part-00000, part-00001, …
//	<out>/date=<day>/_SUCCESS
//
// Each device's lines go, in input order, PartLines to a part file. The
// day is staged under <out>/_temporary/<attempt>/ and renamed into place
// in one step, _SUCCESS inside it; a day already published is replaced.
// A day without readings is published as _SUCCESS alone.
// Nothing is left under <out>/_temporary when Publish returns nil.
func Publish(client *hdfs.Client, src, out, day string) error {
	// TODO: group the lines of src by device (lesson section "The layout
	// of a day").
	// TODO: write the parts, then _SUCCESS, under a fresh
	// <out>/_temporary/<attempt>/date=<day> (section "Stage, then rename").
	// TODO: move a day published before out of the way, rename the staged
	// day into place (section "Replacing a published day"), and remove
	// <out>/_temporary with what crashed attempts left in it (section
	// "Crashes and re-runs").
	return errors.New("Publish is not implemented yet (lesson section \"Stage, then rename\")")
}
