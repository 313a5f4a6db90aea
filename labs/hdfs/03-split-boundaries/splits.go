// Package splits counts the events of a line-oriented log on HDFS the way a
// MapReduce job does: one worker per block, each reading only its own split.
//
// Read the lesson first: delab read hdfs/02
// Check your work:       delab check hdfs/03
package splits

import (
	"errors"
	"io"
)

// Split is one input split: the bytes [Start, Start+Length) of the file.
type Split struct {
	Start  int64
	Length int64
}

// Splits returns the input splits of a file of size bytes stored in blocks
// of blockSize bytes: one split per block, in file order, covering exactly
// that block's bytes.
func Splits(size, blockSize int64) []Split {
	// TODO: one split per block; the last block may be shorter, and an
	// empty file has no block (lesson section "Splits are blocks").
	return nil
}

// CountSplit counts, per key, the records that belong to split s of the
// log. file is the whole log (size bytes); read only what the split needs:
// skip the partial first line unless s starts at 0, and read past the
// split's end to finish its last line. A record is one line; its key is
// the line's second field (fields are separated by single spaces).
func CountSplit(file io.ReaderAt, size int64, s Split) (map[string]int64, error) {
	// TODO: apply the LineRecordReader rule (lesson section "The
	// LineRecordReader rule") to the bytes from s.Start on.
	return nil, errors.New("CountSplit is not implemented yet (lesson section \"The LineRecordReader rule\")")
}

// Merge adds up the per-split counts into the job's totals.
func Merge(parts []map[string]int64) map[string]int64 {
	// TODO: the reduce side: add the counts of every split per key
	// (lesson section "Map, shuffle, reduce").
	return nil
}
