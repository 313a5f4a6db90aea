package formatshootout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/04-format-shootout/solution"
)

var nolog = func(string, ...any) {}

// encoded is what the reference Encode writes of rs in every format.
func encoded(t testing.TB, rs []reference.Reading) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range reference.Formats {
		var b bytes.Buffer
		require.NoError(t, reference.Encode(f, &b, rs))
		out[f] = b.Bytes()
	}
	return out
}

func writeTemp(t testing.TB, format string, data []byte) string {
	path := filepath.Join(t.TempDir(), "readings"+reference.Extensions[format])
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func TestReferenceFilesPass(t *testing.T) {
	truth := Data(1)
	for f, data := range encoded(t, truth) {
		require.NoError(t, preflight(f, data), f)
		require.NoError(t, judgeFile(nolog, f, writeTemp(t, f, data), truth), f)
	}
}

// arrowBodyOfATerabyte is a valid Arrow file whose footer says its first
// record batch has a terabyte of data: the reference's Decode, with
// Arrow's default allocator, would allocate that before reading it.
func arrowBodyOfATerabyte(t testing.TB, valid []byte) []byte {
	data := append([]byte(nil), valid...)
	end := len(data) - 10
	footer := data[end-int(binary.LittleEndian.Uint32(data[end:])) : end]
	// Footer.recordBatches is the footer table's field 3; find its vector
	// the way the reader does.
	root := int(binary.LittleEndian.Uint32(footer))
	vt := root - int(int32(binary.LittleEndian.Uint32(footer[root:])))
	field := root + int(binary.LittleEndian.Uint16(footer[vt+4+2*3:]))
	vec := field + int(binary.LittleEndian.Uint32(footer[field:]))
	require.EqualValues(t, 1, binary.LittleEndian.Uint32(footer[vec:]), "one record batch")
	binary.LittleEndian.PutUint64(footer[vec+4+16:], 1<<40)
	return data
}

// avroBlockOfATerabyte is a valid Avro file whose first block says it
// holds a terabyte: hamba/avro would allocate that before reading it.
func avroBlockOfATerabyte(t testing.TB, valid []byte) []byte {
	sync := valid[len(valid)-16:]
	start := bytes.Index(valid, sync) + 16
	_, k1 := binary.Varint(valid[start:])
	_, k2 := binary.Varint(valid[start+k1:])
	require.Positive(t, k1)
	require.Positive(t, k2)
	out := append([]byte(nil), valid[:start+k1]...)
	out = binary.AppendVarint(out, 1<<40)
	return append(out, valid[start+k1+k2:]...)
}

func TestHostileFilesAreTheLearnersFailure(t *testing.T) {
	truth := Data(1)[:20]
	enc := encoded(t, truth)
	parquetFooter := append([]byte(nil), enc["parquet-zstd"]...)
	binary.LittleEndian.PutUint32(parquetFooter[len(parquetFooter)-8:], 1<<31)
	for _, c := range []struct {
		format string
		data   []byte
		want   string
	}{
		{"arrow", arrowBodyOfATerabyte(t, enc["arrow"]), "your arrow file readings.arrow could not be read: record batch 0: it claims"},
		{"parquet-zstd", parquetFooter, "your parquet-zstd file readings.zstd.parquet could not be read: its footer claims 2147483648 bytes"},
		{"avro", avroBlockOfATerabyte(t, enc["avro"]), "your avro file readings.avro could not be read: block 0 claims 1099511627776 bytes: the file ends first"},
	} {
		err := judgeFile(nolog, c.format, writeTemp(t, c.format, c.data), truth)
		var f *grader.Failure
		require.ErrorAs(t, err, &f, c.format)
		require.Contains(t, f.Message, c.want)
	}
}

// FuzzFileReader feeds the grader's reader of Measure's files arbitrary
// files of every format. Fuzz it for a bounded time with
// go test ./checker/labs/serialization/04-format-shootout -run '^$' -fuzz FuzzFileReader -fuzztime 30s -fuzzminimizetime 2s
// As a plain test it runs the seeds: the reference's files and hostile ones.
func FuzzFileReader(f *testing.F) {
	truth := Data(2)[:25]
	enc := encoded(f, truth)
	for i, format := range reference.Formats {
		data := enc[format]
		f.Add(uint8(i), data)
		f.Add(uint8(i), data[:len(data)/2])
	}
	f.Add(uint8(3), arrowBodyOfATerabyte(f, enc["arrow"]))
	f.Add(uint8(2), avroBlockOfATerabyte(f, enc["avro"]))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		format := reference.Formats[int(which)%len(reference.Formats)]
		// A panic escaping judgeFile fails the fuzz target by itself.
		err := judgeFile(nolog, format, writeTemp(t, format, data), truth)
		var fail *grader.Failure
		if err != nil && !errors.As(err, &fail) {
			t.Fatalf("%s: an unreadable file must be the learner's failure, got the checker error %v", format, err)
		}
	})
}
