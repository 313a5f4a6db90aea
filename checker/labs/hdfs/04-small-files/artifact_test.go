package smallfiles

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/hamba/avro/v2/ocf"
	"github.com/stretchr/testify/require"

	"github.com/delab-dev/delab/checker/grader"
)

// container writes records with a schema, as a learner's part would be.
func container(t *testing.T, schema string, recs []map[string]any, opts ...ocf.EncoderFunc) []byte {
	t.Helper()
	var b bytes.Buffer
	enc, err := ocf.NewEncoder(schema, &b, opts...)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, enc.Encode(r))
	}
	require.NoError(t, enc.Close())
	return b.Bytes()
}

const lessonSchema = `{"type":"record","name":"Reading","fields":[
 {"name":"file","type":"string"},{"name":"ts","type":"long"},{"name":"value","type":"double"}]}`

func isFailure(err error) bool {
	var f *grader.Failure
	return errors.As(err, &f)
}

func TestDecodePartReadsTheLessonsSchemaAndMore(t *testing.T) {
	recs := []map[string]any{{"file": "a.csv", "ts": int64(1), "value": 2.5}, {"file": "b.csv", "ts": int64(3), "value": -1.25}}
	for _, codec := range []ocf.CodecName{ocf.Null, ocf.Deflate, ocf.Snappy, ocf.ZStandard} {
		got, err := decodePart("part p", container(t, lessonSchema, recs, ocf.WithCodec(codec)))
		require.NoError(t, err, codec)
		require.Equal(t, []record{{"a.csv", 1, 2.5}, {"b.csv", 3, -1.25}}, got, codec)
	}
	// Other fields, in another order, and a logical type on ts, are fine.
	other := `{"type":"record","name":"R","fields":[{"name":"device","type":"int"},
	 {"name":"value","type":"double"},{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"file","type":"string"}]}`
	got, err := decodePart("part p", container(t, other, []map[string]any{{"device": 7, "file": "a.csv", "ts": int64(1), "value": 2.5}}))
	require.NoError(t, err)
	require.Equal(t, []record{{"a.csv", 1, 2.5}}, got)
}

func TestDecodePartRefusesWrongSchemasAndFiles(t *testing.T) {
	floatValue := `{"type":"record","name":"R","fields":[{"name":"file","type":"string"},{"name":"ts","type":"long"},{"name":"value","type":"float"}]}`
	_, err := decodePart("part p", container(t, floatValue, []map[string]any{{"file": "a", "ts": int64(1), "value": float32(1)}}))
	require.True(t, isFailure(err), "%v", err)
	require.Contains(t, err.Error(), `field "value" is a float`)

	noFile := `{"type":"record","name":"R","fields":[{"name":"ts","type":"long"},{"name":"value","type":"double"}]}`
	_, err = decodePart("part p", container(t, noFile, []map[string]any{{"ts": int64(1), "value": 1.0}}))
	require.True(t, isFailure(err), "%v", err)
	require.Contains(t, err.Error(), `no field "file"`)

	_, err = decodePart("part p", []byte("ts,value\n1,2\n"))
	require.True(t, isFailure(err), "%v", err)

	// A block that claims far more bytes than the file has, and one that
	// claims a huge record count: refused before the decoder allocates.
	good := container(t, lessonSchema, []map[string]any{{"file": "a", "ts": int64(1), "value": 1.0}})
	_, err = decodePart("part p", good[:len(good)-20])
	require.True(t, isFailure(err), "%v", err)
	hostile := append([]byte{}, good[:headerLen(t, good)]...)
	hostile = binary.AppendVarint(hostile, 1<<40)
	hostile = binary.AppendVarint(hostile, 1<<40)
	_, err = decodePart("part p", hostile)
	require.True(t, isFailure(err), "%v", err)
}

// headerLen is the length of the container's header: the decoder reads it
// first; everything after it is blocks.
func headerLen(t *testing.T, data []byte) int {
	t.Helper()
	var b bytes.Buffer
	enc, err := ocf.NewEncoder(lessonSchema, &b, ocf.WithSyncBlock([16]byte{1}))
	require.NoError(t, err)
	require.NoError(t, enc.Close())
	// Same schema and codec: the header differs only in its sync marker.
	return b.Len()
}

func TestGenerateIsSeededAndWellFormed(t *testing.T) {
	a, b := generate(42, 300), generate(42, 300)
	require.Equal(t, a, b)
	require.NotEqual(t, a[0].name, generate(43, 1)[0].name)
	seen := map[string]bool{}
	for i, o := range a {
		require.False(t, seen[o.name], o.name)
		seen[o.name] = true
		if i > 0 {
			require.Less(t, a[i-1].name, o.name, "names sort as HDFS lists them")
		}
		require.GreaterOrEqual(t, len(o.readings), 3)
		require.Equal(t, len(o.readings), bytes.Count(o.data, []byte("\n")))
	}
}

func TestPlural(t *testing.T) {
	require.Equal(t, "1 directory", plural(1, "directory"))
	require.Equal(t, "3 directories", plural(3, "directory"))
	require.Equal(t, "0 files", plural(int64(0), "file"))
}
