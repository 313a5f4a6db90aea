package parquetcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/file"
)

// Parquet's Go reader sizes slices by what a file declares: a column
// chunk's compressed size (make([]byte, n) before it reads the chunk), a
// dictionary page's number of values, the value count in the header of a
// delta-encoded page. A few bytes can declare terabytes, which the Go
// runtime cannot allocate ("out of memory" ends the process, recover or
// not). CheckParquetData reads those declarations first and refuses such a
// file with an error the grader shows the learner.

// ParquetLimits bound what CheckParquetData accepts.
type ParquetLimits struct {
	// Values bounds the rows, and the values of every column, that the
	// file declares.
	Values int64
}

// DefaultParquetLimits are far above any file a lab asks for.
var DefaultParquetLimits = ParquetLimits{Values: 10_000_000}

// CheckParquetData checks what the Parquet file behind pf, size bytes
// long, declares about its data: where each column chunk lies, how many
// values it and each of its pages hold, and the header of each
// delta-encoded page. pf must have been opened with a grader.Budget as its
// allocator, because this reads (and uncompresses) every page; a page
// larger than the budget panics, for grader.ReadArtifact to report. An
// error says, for the learner, what is wrong with the file.
func CheckParquetData(pf *file.Reader, size int64, lim ParquetLimits) error {
	md := pf.MetaData()
	var rows, values int64
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		if n := rg.NumRows(); n < 0 || n > lim.Values-rows {
			return fmt.Errorf("its row groups claim more than %d rows", lim.Values)
		} else {
			rows += n
		}
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("row group %d, column %d: %w", g, c, err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
				start = cc.DictionaryPageOffset()
			}
			if n := cc.TotalCompressedSize(); start < 0 || n < 0 || start > size || n > size-start {
				return fmt.Errorf("row group %d, column %d claims %d bytes at offset %d, outside the file's %d bytes", g, c, n, start, size)
			}
			if n := cc.NumValues(); n < 0 || n > lim.Values-values {
				return fmt.Errorf("its column chunks claim more than %d values", lim.Values)
			} else {
				values += n
			}
		}
	}
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := pf.RowGroup(g)
		for c := 0; c < rg.NumColumns(); c++ {
			col := md.Schema.Column(c)
			if err := checkPages(rg, c, col.MaxDefinitionLevel(), col.MaxRepetitionLevel(), lim); err != nil {
				return fmt.Errorf("row group %d, column %s: %w", g, col.Path(), err)
			}
		}
	}
	return nil
}

// Parquet's encodings (parquet.thrift) whose headers the reader trusts.
const (
	encBitPacked      = 4
	encDeltaBinary    = 5
	encDeltaLength    = 6
	encDeltaByteArray = 7
)

func checkPages(rg *file.RowGroupReader, c int, maxDef, maxRep int16, lim ParquetLimits) error {
	pr, err := rg.GetColumnPageReader(c)
	if err != nil {
		return err
	}
	var values int64
	for i := 0; pr.Next(); i++ {
		p := pr.Page()
		n := int64(p.NumValues())
		if _, dict := p.(*file.DictionaryPage); dict {
			// Every dictionary value takes at least a byte.
			if n < 0 || n > int64(len(p.Data())) {
				return fmt.Errorf("its dictionary page claims %d values in %d bytes", n, len(p.Data()))
			}
			continue
		}
		if n < 0 || n > lim.Values-values {
			return fmt.Errorf("its pages claim more than %d values", lim.Values)
		}
		values += n
		data := p.Data()
		switch dp := p.(type) {
		case *file.DataPageV1:
			for _, lvl := range []struct {
				max int16
				enc parquet.Encoding
			}{{maxRep, dp.RepetitionLevelEncoding()}, {maxDef, dp.DefinitionLevelEncoding()}} {
				if lvl.max == 0 {
					continue
				}
				var skip int64
				if lvl.enc == encBitPacked {
					skip = (n*int64(bits.Len16(uint16(lvl.max))) + 7) / 8
				} else if len(data) >= 4 {
					skip = 4 + int64(binary.LittleEndian.Uint32(data))
				}
				if skip > int64(len(data)) {
					return fmt.Errorf("page %d: its levels claim more bytes than it has", i)
				}
				data = data[skip:]
			}
		case *file.DataPageV2:
			skip := int64(dp.RepetitionLevelByteLen()) + int64(dp.DefinitionLevelByteLen())
			if skip < 0 || skip > int64(len(data)) {
				return fmt.Errorf("page %d: its levels claim more bytes than it has", i)
			}
			data = data[skip:]
		default:
			continue
		}
		if err := checkDelta(int(p.Encoding()), data, n); err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
	}
	return pr.Err()
}

// checkDelta checks the headers of a delta-encoded page's values: the
// reader allocates what they declare.
func checkDelta(enc int, data []byte, n int64) error {
	switch enc {
	case encDeltaBinary, encDeltaLength:
		_, err := deltaSection(data, n)
		return err
	case encDeltaByteArray:
		// Prefix lengths, then the suffixes as DELTA_LENGTH_BYTE_ARRAY.
		used, err := deltaSection(data, n)
		if err != nil {
			return err
		}
		_, err = deltaSection(data[used:], n)
		return err
	}
	return nil
}

// maxDeltaBlock bounds a delta block's size in values: writers use 128.
const maxDeltaBlock = 1 << 16

// deltaSection walks one DELTA_BINARY_PACKED section of at most n values
// and returns its length in bytes.
func deltaSection(data []byte, n int64) (int, error) {
	p := 0
	uvarint := func() (uint64, error) {
		v, k := binary.Uvarint(data[p:])
		if k <= 0 {
			return 0, errors.New("its delta header is cut short")
		}
		p += k
		return v, nil
	}
	block, err1 := uvarint()
	minis, err2 := uvarint()
	total, err3 := uvarint()
	_, err4 := uvarint() // the first value, zig-zag
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return 0, errors.New("its delta header is cut short")
	}
	if block == 0 || block > maxDeltaBlock || minis == 0 || minis > block || block%minis != 0 {
		return 0, fmt.Errorf("its delta header claims blocks of %d values in %d miniblocks", block, minis)
	}
	if total > uint64(n) {
		return 0, fmt.Errorf("its delta header claims %d values in a page of %d", total, n)
	}
	perMini := block / minis
	for left := max(total, 1) - 1; left > 0; {
		if _, err := uvarint(); err != nil { // the block's min delta
			return 0, err
		}
		if uint64(len(data)-p) < minis {
			return 0, errors.New("its delta block is cut short")
		}
		widths := data[p : p+int(minis)]
		p += int(minis)
		for _, w := range widths {
			if left == 0 {
				break
			}
			if w > 64 {
				return 0, fmt.Errorf("its delta miniblock claims %d bits a value", w)
			}
			size := perMini * uint64(w) / 8
			if size > uint64(len(data)-p) {
				return 0, errors.New("its delta miniblock is cut short")
			}
			p += int(size)
			left -= min(left, perMini)
		}
	}
	return p, nil
}
