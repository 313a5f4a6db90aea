// Package splits: a wrong solution of hdfs/03-split-boundaries. The LineRecordReader rule is right, but the lines are read with a bufio.Scanner, whose lines are limited to 64 KiB: a longer line stops the worker with "token too long".
package splits

import (
	"bufio"
	"bytes"
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
	var out []Split
	for start := int64(0); start < size; start += blockSize {
		out = append(out, Split{Start: start, Length: min(blockSize, size-start)})
	}
	return out
}

// CountSplit counts the records of split s with the LineRecordReader
// rule, reading lines with a bufio.Scanner.
func CountSplit(file io.ReaderAt, size int64, s Split) (map[string]int64, error) {
	counts := map[string]int64{}
	end := s.Start + s.Length
	sc := bufio.NewScanner(io.NewSectionReader(file, s.Start, size-s.Start))
	pos := s.Start
	if s.Start != 0 {
		if !sc.Scan() {
			return counts, sc.Err()
		}
		pos += int64(len(sc.Bytes())) + 1
	}
	for pos <= end && pos < size && sc.Scan() {
		pos += int64(len(sc.Bytes())) + 1
		if key, ok := keyOf(sc.Bytes()); ok {
			counts[key]++
		}
	}
	return counts, sc.Err()
}

// keyOf returns a record's key: its second space-separated field.
func keyOf(line []byte) (string, bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	fields := bytes.SplitN(line, []byte(" "), 3)
	if len(fields) < 2 || len(fields[1]) == 0 {
		return "", false
	}
	return string(fields[1]), true
}

// Merge adds up the per-split counts into the job's totals.
func Merge(parts []map[string]int64) map[string]int64 {
	total := map[string]int64{}
	for _, part := range parts {
		for k, n := range part {
			total[k] += n
		}
	}
	return total
}
