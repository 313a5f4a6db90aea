// Package splits: a wrong solution of hdfs/03-split-boundaries. Each worker throws its partial first line away, but also refuses to read past its split's end, so the line that crosses a boundary is counted by nobody.
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

// CountSplit counts the whole lines inside the split.
func CountSplit(file io.ReaderAt, size int64, s Split) (map[string]int64, error) {
	counts := map[string]int64{}
	r := bufio.NewReader(io.NewSectionReader(file, s.Start, s.Length))
	if s.Start != 0 {
		if _, err := r.ReadBytes('\n'); err != nil {
			return counts, nil
		}
	}
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			// A line cut by the split's end is not whole: leave it.
			if s.Start+s.Length == size {
				if key, ok := keyOf(line); ok {
					counts[key]++
				}
			}
			return counts, nil
		}
		if err != nil {
			return nil, err
		}
		if key, ok := keyOf(line); ok {
			counts[key]++
		}
	}
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
