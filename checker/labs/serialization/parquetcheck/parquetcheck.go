// Package parquetcheck is what the serialization graders share about the
// files a learner writes: a Parquet file's footer, and the checks that
// come before a library decodes a learner's Parquet, Arrow or Avro file,
// so that a hostile file cannot make the decoder allocate what the
// checker's process does not have (see grader.ReadArtifact).
package parquetcheck

import (
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
)

// Chunk names one column chunk of a file.
type Chunk struct {
	RowGroup, Column int
	// Path is the column's path in the schema, "device" for a flat one.
	Path  string
	Codec compress.Compression
}

// FirstOtherCodec returns the first column chunk, in row-group then
// column order, that is not compressed with want; nil when none is.
func FirstOtherCodec(pf *file.Reader, want compress.Compression) (*Chunk, error) {
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := pf.MetaData().RowGroup(g)
		for c := 0; c < rg.NumColumns(); c++ {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				return nil, err
			}
			if cc.Compression() != want {
				return &Chunk{RowGroup: g, Column: c, Path: cc.PathInSchema().String(), Codec: cc.Compression()}, nil
			}
		}
	}
	return nil, nil
}
