package avroevolution

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hamba/avro/v2/ocf"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/03-avro-evolution/solution"
)

var nolog = func(string, ...any) {}

// referenceFile is what the reference WriteV2 makes of rows.
func referenceFile(t testing.TB, rows []reference.ReadingV2, opts ...ocf.EncoderFunc) []byte {
	var b bytes.Buffer
	enc, err := ocf.NewEncoder(reference.SchemaV2, &b, opts...)
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, enc.Encode(r))
	}
	require.NoError(t, enc.Close())
	return b.Bytes()
}

func writeTemp(t testing.TB, data []byte) string {
	path := filepath.Join(t.TempDir(), "v2.avro")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func TestReferenceFilesPass(t *testing.T) {
	rows := readingsV2(5, 250)
	path := filepath.Join(t.TempDir(), "v2.avro")
	require.NoError(t, reference.WriteV2(path, rows))
	require.NoError(t, judgeV2File(nolog, rows, path))
	for _, codec := range []ocf.CodecName{ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		require.NoError(t, judgeV2File(nolog, rows, writeTemp(t, referenceFile(t, rows, ocf.WithCodec(codec)))), codec)
	}
	require.NoError(t, judgeSchemaV2(nolog, reference.SchemaV2))
}

// hostileFile is a container whose schema is SchemaV2 plus a field that
// is an array of nulls, and whose one record claims 2^62 of them in four
// bytes: hamba's decoder would grow a slice until the process dies.
func hostileFile(t testing.TB) []byte {
	schema := strings.Replace(reference.SchemaV2, `{"name": "battery"`, `{"name": "pad", "type": {"type": "array", "items": "null"}}, {"name": "battery"`, 1)
	var b bytes.Buffer
	enc, err := ocf.NewEncoder(schema, &b, ocf.WithSyncBlock([16]byte{1}))
	require.NoError(t, err)
	require.NoError(t, enc.Encode(map[string]any{"device": "ap-01", "ts": int64(1), "temperature": nil, "pad": []any{nil}, "battery": nil}))
	require.NoError(t, enc.Close())
	// The record's array: one block of 1 null (zig-zag 02), then the end
	// (00), then battery's union branch (00). Claim 2^62 nulls instead,
	// and make the container's block 9 bytes longer to hold the number.
	file := b.Bytes()
	sync := bytes.Index(file, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) + 16
	require.Equal(t, byte(0x02), file[sync], "one record in the block")
	size := file[sync+1]
	require.Less(t, size, byte(100), "a one-byte block size")
	i := bytes.LastIndex(file, []byte{0x02, 0x00, 0x00})
	require.Greater(t, i, sync)
	huge := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}
	out := append(append(append([]byte(nil), file[:i]...), huge...), file[i+1:]...)
	out[sync+1] = size + 2*9
	return out
}

func TestArrayOfNullsIsRefusedBeforeDecoding(t *testing.T) {
	err := judgeV2File(nolog, readingsV2(5, 1), writeTemp(t, hostileFile(t)))
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	require.Equal(t, "your Avro file v2.avro could not be read: its schema: an array's items (null) take no bytes, so a few bytes could claim any number of them", f.Message)
}

func TestSchemaV2ThatOnlyNamesTheTypeDoesNotPass(t *testing.T) {
	// hamba's process-wide cache knows dev.delab.Reading once the
	// reference schemas have been parsed.
	_, err := ocf.NewEncoder(reference.SchemaV2, &bytes.Buffer{})
	require.NoError(t, err)
	err = judgeSchemaV2(nolog, `"dev.delab.Reading"`)
	var f *grader.Failure
	require.ErrorAs(t, err, &f)
	require.Contains(t, f.Message, "SchemaV2 does not parse as an Avro schema")
}

// FuzzAvroReader feeds the grader's reader of v2.avro arbitrary files.
// Fuzz it for a bounded time with
// go test ./checker/labs/serialization/03-avro-evolution -run '^$' -fuzz FuzzAvroReader -fuzztime 30s -fuzzminimizetime 2s
// As a plain test it runs the seeds: the reference's files and hostile ones.
func FuzzAvroReader(f *testing.F) {
	rows := readingsV2(5, 20)
	valid := referenceFile(f, rows)
	for _, seed := range [][]byte{
		valid,
		referenceFile(f, rows, ocf.WithCodec(ocf.Deflate)),
		referenceFile(f, rows, ocf.WithCodec(ocf.Snappy)),
		referenceFile(f, rows, ocf.WithCodec(ocf.ZStandard)),
		hostileFile(f),
		valid[:len(valid)/2],
		[]byte("Obj\x01"),
		nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A panic escaping the reader fails the fuzz target by itself.
		err := judgeV2File(nolog, rows, writeTemp(t, data))
		var fail *grader.Failure
		if err != nil && !errors.As(err, &fail) {
			t.Fatalf("an unreadable file must be the learner's failure, got the checker error %v", err)
		}
	})
}

// FuzzSchemaV2 feeds the grader's parser of the learner's SchemaV2
// arbitrary text. Fuzz it for a bounded time with
// go test ./checker/labs/serialization/03-avro-evolution -run '^$' -fuzz FuzzSchemaV2 -fuzztime 30s -fuzzminimizetime 2s
func FuzzSchemaV2(f *testing.F) {
	for _, seed := range []string{reference.SchemaV2, reference.SchemaV1, `"dev.delab.Reading"`, `{"type": "fixed", "name": "f", "size": 1099511627776}`, strings.Repeat(`{"type": "array", "items": `, 5000), ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		err := judgeSchemaV2(nolog, text)
		var fail *grader.Failure
		if err != nil && !errors.As(err, &fail) {
			t.Fatalf("a wrong SchemaV2 must be the learner's failure, got the checker error %v", err)
		}
	})
}
