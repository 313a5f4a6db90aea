package parquetcheck

import (
	"encoding/binary"
	"fmt"
	"io"
)

// MaxFooter is the largest Parquet footer the graders read. A lab's file
// has a footer of a few KiB; Parquet's Go reader decodes a footer into a
// schema tree recursively, one level per nested group, so a footer of
// hundreds of MiB could nest deep enough to overflow the stack, which no
// recover catches.
const MaxFooter = 1 << 20

// CheckParquetFooter checks the length a Parquet file of size bytes
// declares for its footer before Parquet's reader reads the footer. An
// error says, for the learner, what is wrong; a file too short to have a
// footer passes, for Parquet's reader to refuse.
func CheckParquetFooter(r io.ReaderAt, size int64) error {
	if size < 12 {
		return nil
	}
	var tail [8]byte
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return fmt.Errorf("its last 8 bytes: %w", err)
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > MaxFooter {
		return fmt.Errorf("its footer claims %d bytes, and the checker reads footers of at most %d", n, MaxFooter)
	}
	return nil
}
