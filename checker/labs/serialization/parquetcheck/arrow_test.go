package parquetcheck

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/stretchr/testify/require"
)

// arrowFile writes rows of a schema with a dictionary, a nested list, a
// struct and metadata, with the writer options given.
func arrowFile(t *testing.T, rows int, opts ...ipc.Option) []byte {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "device", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
		{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms, Metadata: arrow.NewMetadata([]string{"unit"}, []string{"ms"})},
		{Name: "values", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "where", Type: arrow.StructOf(arrow.Field{Name: "site", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "floor", Type: arrow.PrimitiveTypes.Int8})},
	}, &arrow.Metadata{})
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range rows {
		require.NoError(t, b.Field(0).(*array.BinaryDictionaryBuilder).AppendString([]string{"ap-1", "ap-2", "ap-3"}[i%3]))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(i))
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Float64Builder).AppendValues([]float64{float64(i), 0.5}, nil)
		sb := b.Field(3).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.StringBuilder).Append("north")
		sb.FieldBuilder(1).(*array.Int8Builder).Append(int8(i % 7))
	}
	rec := b.NewRecord()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "f.arrow")
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := ipc.NewFileWriter(f, append([]ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(mem)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// readAll reads every batch with Arrow's reader: what a valid file is.
func readAll(t *testing.T, data []byte) {
	r, err := ipc.NewFileReader(bytes.NewReader(data))
	require.NoError(t, err)
	defer r.Close()
	for i := 0; i < r.NumRecords(); i++ {
		_, err := r.Record(i)
		require.NoError(t, err)
	}
}

func TestValidArrowFilesPass(t *testing.T) {
	for name, opts := range map[string][]ipc.Option{
		"plain": nil,
		"zstd":  {ipc.WithZstd()},
		"lz4":   {ipc.WithLZ4()},
	} {
		data := arrowFile(t, 500, opts...)
		readAll(t, data)
		require.NoError(t, CheckArrowFile(data, DefaultArrowLimits), name)
	}
}

// firstFieldChildren is where, in data, the offset to the first schema
// field's children vector lies, and the footer's bounds.
func firstFieldChildren(t *testing.T, data []byte) (footerStart, fieldsVector, childrenRef int) {
	end := len(data) - len(arrowMagic) - 4
	size := int(binary.LittleEndian.Uint32(data[end:]))
	footerStart = end - size
	footer := fbuf(data[footerStart:end])
	root, err := footer.root()
	require.NoError(t, err)
	schema, ok, err := root.table(1)
	require.True(t, ok)
	require.NoError(t, err)
	start, n, err := schema.vector(1, 4)
	require.NoError(t, err)
	require.Positive(t, n)
	field, err := footer.indirect(start)
	require.NoError(t, err)
	ref, err := field.field(5, 4)
	require.NoError(t, err)
	require.NotZero(t, ref, "the writer writes an empty children vector")
	return footerStart, start - 4, ref
}

func TestArrowFieldWithBillionsOfChildrenIsRefused(t *testing.T) {
	data := arrowFile(t, 10)
	footerStart, _, ref := firstFieldChildren(t, data)
	// Make the (empty) children vector claim 2^31-1 entries: Arrow's reader
	// would make([]arrow.Field, 2147483647), some 200 GB.
	v := ref + int(binary.LittleEndian.Uint32(data[footerStart+ref:]))
	binary.LittleEndian.PutUint32(data[footerStart+v:], 1<<31-1)
	err := CheckArrowFile(data, DefaultArrowLimits)
	require.ErrorContains(t, err, "a list claims 2147483647 entries")
}

func TestArrowFieldThatIsItsOwnChildIsRefused(t *testing.T) {
	data := arrowFile(t, 10)
	footerStart, fields, ref := firstFieldChildren(t, data)
	// Point the first field's children at the schema's list of fields,
	// which holds that field. The list lies before the field, and
	// flatbuffers' offsets only point forward, but Go's flatbuffers add
	// them as uint32 and wrap around: Arrow's reader would recurse until
	// the stack overflows.
	require.Less(t, fields, ref)
	binary.LittleEndian.PutUint32(data[footerStart+ref:], uint32(int32(fields-ref)))
	err := CheckArrowFile(data, DefaultArrowLimits)
	require.ErrorContains(t, err, "field 0: its children: an offset points outside the data")
}

func TestArrowFieldsNestedTooDeepAreRefused(t *testing.T) {
	typ := arrow.DataType(arrow.PrimitiveTypes.Int8)
	for range 40 {
		typ = arrow.StructOf(arrow.Field{Name: "inner", Type: typ})
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "deep", Type: typ}}, nil)
	path := filepath.Join(t.TempDir(), "deep.arrow")
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	readAll(t, data)
	require.ErrorContains(t, CheckArrowFile(data, DefaultArrowLimits), "its fields nest deeper than 32 levels")
	lim := DefaultArrowLimits
	lim.Depth = 41
	require.NoError(t, CheckArrowFile(data, lim))
}

func TestArrowBlockOutsideTheFileIsRefused(t *testing.T) {
	data := arrowFile(t, 10)
	end := len(data) - len(arrowMagic) - 4
	footer := fbuf(data[end-int(binary.LittleEndian.Uint32(data[end:])) : end])
	root, err := footer.root()
	require.NoError(t, err)
	start, n, err := root.vector(3, 24)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	// The second batch's body: 1 TiB.
	binary.LittleEndian.PutUint64(footer[start+24+16:], 1<<40)
	err = CheckArrowFile(data, DefaultArrowLimits)
	require.ErrorContains(t, err, "record batch 1: it claims")
	require.ErrorContains(t, err, "outside the file's")
}

func TestArrowCompressedBufferClaimingTerabytesIsRefused(t *testing.T) {
	data := arrowFile(t, 10, ipc.WithZstd())
	require.NoError(t, CheckArrowFile(data, DefaultArrowLimits))
	lim := DefaultArrowLimits
	lim.Uncompressed = 100
	require.ErrorContains(t, CheckArrowFile(data, lim), "its compressed buffers uncompress to more than 100 bytes")
}
