// Package splits: a wrong solution of hdfs/03-split-boundaries. Splits cuts
// the file at HDFS's default block size, 128 MiB, instead of the block
// size this file was written with.
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
	const defaultBlockSize = 128 << 20 // dfs.blocksize
	for start := int64(0); start < size; start += defaultBlockSize {
		out = append(out, Split{Start: start, Length: min(defaultBlockSize, size-start)})
	}
	return out
}

// CountSplit counts, per key, the records that belong to split s of the
// log, with Hadoop's LineRecordReader rule: a split other than the first
// throws its first (partial) line away, and reads every line that starts
// at or before its end, so the line that straddles the end is finished
// here and thrown away by the next split.
func CountSplit(file io.ReaderAt, size int64, s Split) (map[string]int64, error) {
	counts := map[string]int64{}
	end := s.Start + s.Length
	if s.Start >= size {
		return counts, nil
	}
	r := bufio.NewReader(io.NewSectionReader(file, s.Start, size-s.Start))
	pos := s.Start
	if s.Start != 0 {
		skipped, err := r.ReadBytes('\n')
		pos += int64(len(skipped))
		if err == io.EOF {
			return counts, nil
		}
		if err != nil {
			return nil, err
		}
	}
	for pos <= end && pos < size {
		line, err := r.ReadBytes('\n')
		pos += int64(len(line))
		if len(line) > 0 {
			if key, ok := keyOf(line); ok {
				counts[key]++
			}
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
