// Package splits: a wrong solution of hdfs/03-split-boundaries. Each worker reads whole lines from its split's start without throwing the first one away, so the tail of the line that crossed the boundary is counted again, under whatever its second field happens to be.
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

// CountSplit counts the lines from the split's start up to its end,
// finishing the last one.
func CountSplit(file io.ReaderAt, size int64, s Split) (map[string]int64, error) {
	counts := map[string]int64{}
	end := s.Start + s.Length
	r := bufio.NewReader(io.NewSectionReader(file, s.Start, size-s.Start))
	pos := s.Start
	for pos < end {
		line, err := r.ReadBytes('\n')
		pos += int64(len(line))
		if key, ok := keyOf(line); ok {
			counts[key]++
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return counts, nil
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
