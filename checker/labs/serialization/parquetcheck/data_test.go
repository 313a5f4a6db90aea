package parquetcheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/compress"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"github.com/stretchr/testify/require"
)

var parquetSchema = arrow.NewSchema([]arrow.Field{
	{Name: "device", Type: arrow.BinaryTypes.String},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
	{Name: "temp", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
}, nil)

func parquetFile(t *testing.T, rows int, props ...parquet.WriterProperty) []byte {
	b := array.NewRecordBuilder(memory.DefaultAllocator, parquetSchema)
	defer b.Release()
	for i := range rows {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprint(i % 7))
		b.Field(1).(*array.Int64Builder).Append(1_793_577_600_000 + int64(i)*997)
		if i%5 == 0 {
			b.Field(2).(*array.Float64Builder).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(float64(i) / 4)
		}
		lb := b.Field(3).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"north", fmt.Sprint(i % 3)}, nil)
	}
	rec := b.NewRecord()
	defer rec.Release()
	var out bytes.Buffer
	w, err := pqarrow.NewFileWriter(parquetSchema, &out, parquet.NewWriterProperties(append([]parquet.WriterProperty{parquet.WithMaxRowGroupLength(400)}, props...)...), pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	return out.Bytes()
}

func checkParquet(t *testing.T, data []byte) error {
	t.Helper()
	require.NoError(t, CheckParquetFooter(bytes.NewReader(data), int64(len(data))))
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer pf.Close()
	return CheckParquetData(pf, int64(len(data)), DefaultParquetLimits)
}

func TestValidParquetFilesPass(t *testing.T) {
	for name, props := range map[string][]parquet.WriterProperty{
		"default":   nil,
		"zstd, v2":  {parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDataPageVersion(parquet.DataPageV2)},
		"snappy":    {parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDataPageSize(512)},
		"delta":     {parquet.WithDictionaryDefault(false), parquet.WithEncodingFor("ts", parquet.Encodings.DeltaBinaryPacked), parquet.WithEncodingFor("device", parquet.Encodings.DeltaByteArray), parquet.WithDataPageSize(256)},
		"delta, v2": {parquet.WithDictionaryDefault(false), parquet.WithEncodingFor("device", parquet.Encodings.DeltaLengthByteArray), parquet.WithDataPageVersion(parquet.DataPageV2)},
	} {
		data := parquetFile(t, 1000, props...)
		tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		require.NoError(t, err, name)
		require.EqualValues(t, 1000, tbl.NumRows())
		tbl.Release()
		require.NoError(t, checkParquet(t, data), name)
	}
}

// thriftI64 is the compact protocol's encoding of an i64 field that
// follows the field before it.
func thriftI64(v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	return binary.AppendUvarint([]byte{0x16}, u)
}

func TestColumnChunkOutsideTheFileIsRefused(t *testing.T) {
	data := parquetFile(t, 100, parquet.WithCompression(compress.Codecs.Snappy))
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	require.NoError(t, err)
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(0)
	require.NoError(t, err)
	require.NotEqual(t, cc.TotalUncompressedSize(), cc.TotalCompressedSize())
	// ColumnMetaData's total_compressed_size (field 7) follows
	// total_uncompressed_size (field 6) in the footer: make it a terabyte,
	// which the reader would allocate before it reads the chunk.
	footerLen := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	footerStart := len(data) - 8 - footerLen
	old := thriftI64(cc.TotalCompressedSize())
	i := bytes.Index(data[footerStart:], old)
	require.Positive(t, i)
	i += footerStart
	patched := append(append(append([]byte(nil), data[:i]...), thriftI64(1<<40)...), data[i+len(old):]...)
	binary.LittleEndian.PutUint32(patched[len(patched)-8:], uint32(footerLen+len(thriftI64(1<<40))-len(old)))
	require.ErrorContains(t, checkParquet(t, patched), fmt.Sprintf("row group 0, column 0 claims 1099511627776 bytes at offset 4, outside the file's %d bytes", len(patched)))
}

func TestDictionaryPageClaimingMoreValuesThanBytesIsRefused(t *testing.T) {
	data := parquetFile(t, 100)
	// The first column chunk starts with its dictionary page; its header's
	// dictionary_page_header (field 7 after field 3: 0x4c, a struct) starts
	// with num_values (field 1, an i32): 7 devices, zig-zag 14.
	i := bytes.Index(data[4:], []byte{0x4c, 0x15, 0x0e})
	require.Positive(t, i)
	data[4+i+2] = 0x7e // 63 values in 7 strings of 1 byte (and a 4-byte length)
	require.ErrorContains(t, checkParquet(t, data), "its dictionary page claims 63 values in")
}

func TestDeltaHeaderClaimingMoreValuesThanItsPageIsRefused(t *testing.T) {
	require.NoError(t, checkDelta(encDeltaBinary, []byte{0x80, 0x01, 0x04, 0x01, 0x00}, 1))
	// total: 2^40 values in a page of 1000.
	header := append([]byte{0x80, 0x01, 0x04}, binary.AppendUvarint(nil, 1<<40)...)
	require.EqualError(t, checkDelta(encDeltaLength, append(header, 0x00), 1000), "its delta header claims 1099511627776 values in a page of 1000")
	require.ErrorContains(t, checkDelta(encDeltaBinary, []byte{0x80, 0x01, 0x00, 0x01, 0x00}, 1), "in 0 miniblocks")
}
