package parquetcheck

import (
	"bytes"
	"testing"

	"github.com/hamba/avro/v2/ocf"
	"github.com/stretchr/testify/require"
)

const readingSchema = `{"type": "record", "name": "Reading", "fields": [
  {"name": "device", "type": "string"},
  {"name": "pad", "type": "string"}
]}`

type reading struct {
	Device string `avro:"device"`
	Pad    string `avro:"pad"`
}

// avroFile holds n readings whose pad is padLen zeros, which compress to
// nothing, with the encoder options given.
func avroFile(t *testing.T, schema string, n, padLen int, opts ...ocf.EncoderFunc) []byte {
	var b bytes.Buffer
	enc, err := ocf.NewEncoder(schema, &b, opts...)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, enc.Encode(reading{Device: string(rune('a' + i%26)), Pad: string(make([]byte, padLen))}))
	}
	require.NoError(t, enc.Close())
	return b.Bytes()
}

func TestValidAvroFilesPass(t *testing.T) {
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		data := avroFile(t, readingSchema, 500, 100, ocf.WithCodec(codec), ocf.WithBlockLength(64))
		require.NoError(t, CheckAvroContainer(data, DefaultAvroLimits), codec)
		dec, err := ocf.NewDecoder(bytes.NewReader(data))
		require.NoError(t, err)
		n := 0
		for dec.HasNext() {
			var r reading
			require.NoError(t, dec.Decode(&r))
			n++
		}
		require.NoError(t, dec.Error())
		require.Equal(t, 500, n)
	}
}

// TestCompressedBlocksAreBoundedUncompressed: each of these blocks is a
// few KiB of file that hamba/avro would inflate whole.
func TestCompressedBlocksAreBoundedUncompressed(t *testing.T) {
	lim := AvroLimits{Block: 64 << 10, Total: DefaultAvroLimits.Total, Records: DefaultAvroLimits.Records}
	for _, codec := range []ocf.CodecName{ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		data := avroFile(t, readingSchema, 4, 1<<20, ocf.WithCodec(codec))
		require.Less(t, len(data), 200<<10, codec)
		require.ErrorContains(t, CheckAvroContainer(data, lim), "block 0: it uncompresses to", codec)
		require.NoError(t, CheckAvroContainer(data, DefaultAvroLimits), codec)
	}
	lim = AvroLimits{Block: 2 << 20, Total: 3 << 20, Records: DefaultAvroLimits.Records}
	data := avroFile(t, readingSchema, 4, 1<<20, ocf.WithCodec(ocf.Deflate), ocf.WithBlockLength(1))
	require.ErrorContains(t, CheckAvroContainer(data, lim), "its blocks hold more than 3145728 bytes uncompressed")
}

func TestBlockClaimingMoreThanTheFileIsRefused(t *testing.T) {
	data := avroFile(t, readingSchema, 3, 5, ocf.WithSyncBlock([16]byte{9}))
	block := bytes.Index(data, []byte{9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) + 16
	require.Equal(t, byte(0x06), data[block], "3 records")
	// The block's size: a terabyte (zig-zag varint of 2^40), in place of
	// its one-byte size.
	tera := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x40}
	data = append(append(append([]byte(nil), data[:block+1]...), tera...), data[block+2:]...)
	require.EqualError(t, CheckAvroContainer(data, DefaultAvroLimits), "block 0 claims 1099511627776 bytes: the file ends first")
}

func TestBlocksClaimingTooManyRecordsAreRefused(t *testing.T) {
	data := avroFile(t, readingSchema, 30, 5)
	lim := DefaultAvroLimits
	lim.Records = 29
	require.EqualError(t, CheckAvroContainer(data, lim), "its blocks claim more than 29 records")
}

func TestHugeFixedIsRefused(t *testing.T) {
	schema := `{"type": "record", "name": "R", "fields": [{"name": "f", "type": {"type": "fixed", "name": "Big", "size": 1099511627776}}]}`
	var b bytes.Buffer
	b.Write(avroMagic)
	// The header's map: one entry, avro.schema, then the end of the map.
	b.Write([]byte{0x02})
	writeAvroBytes(&b, []byte("avro.schema"))
	writeAvroBytes(&b, []byte(schema))
	b.Write([]byte{0x00})
	b.Write(make([]byte, 16))
	require.EqualError(t, CheckAvroContainer(b.Bytes(), DefaultAvroLimits), "its schema: fixed Big is 1099511627776 bytes; the checker reads fixed values of at most 1048576")
}

func writeAvroBytes(b *bytes.Buffer, p []byte) {
	n := uint64(len(p)) << 1 // zig-zag of a positive length
	for n >= 0x80 {
		b.WriteByte(byte(n) | 0x80)
		n >>= 7
	}
	b.WriteByte(byte(n))
	b.Write(p)
}
