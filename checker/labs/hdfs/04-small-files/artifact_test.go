package smallfiles

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	a, b := generate(42, 300, smallPart), generate(42, 300, smallPart)
	require.Equal(t, a, b)
	require.NotEqual(t, a[0].name, generate(43, 1, smallPart)[0].name)
}

// TestBoundaryCasesOverSeeds reads every drop back as the learner's
// Compact sees it (listed by name, each file's lines parsed) and checks
// that every case of the boundary table is there, and that the grader's
// part rule gives what the lesson says for it.
func TestBoundaryCasesOverSeeds(t *testing.T) {
	for seed := uint64(1); seed <= 150; seed++ {
		for _, drop := range []struct {
			n         int
			partBytes int64
		}{{smallDrop, smallPart}, {bigDrop, bigPart}} {
			origs := generate(seed, drop.n, drop.partBytes)
			where := fmt.Sprintf("seed %d, %d files at partBytes %d", seed, drop.n, drop.partBytes)
			listed := slices.Clone(origs)
			slices.SortFunc(listed, func(x, y original) int { return strings.Compare(x.name, y.name) })
			var oneLine, comma, quote bool
			for i, o := range listed {
				if o.name != origs[i].name {
					t.Fatalf("%s: a listing by name is not the order generated at %d", where, i)
				}
				if i > 0 && o.name == listed[i-1].name {
					t.Fatalf("%s: %s twice", where, o.name)
				}
				// The file as Compact reads it: "<ts>,<value>\n" lines.
				var got []reading
				for _, line := range strings.SplitAfter(string(o.data), "\n") {
					if line == "" {
						continue
					}
					require.True(t, strings.HasSuffix(line, "\n"), "%s %s: a line without its newline", where, o.name)
					ts, value, ok := strings.Cut(strings.TrimSuffix(line, "\n"), ",")
					require.True(t, ok, line)
					n, err := strconv.ParseInt(ts, 10, 64)
					require.NoError(t, err)
					v, err := strconv.ParseFloat(value, 64)
					require.NoError(t, err)
					got = append(got, reading{TS: n, Value: v})
				}
				require.Equal(t, o.readings, got, "%s %s", where, o.name)
				require.NotEmpty(t, got, "%s %s: at least one line a file", where, o.name)
				oneLine = oneLine || len(got) == 1
				comma = comma || strings.Contains(o.name, ", ")
				quote = quote || strings.Contains(o.name, `"`)
				require.NotContains(t, o.name, "/")
				require.NotContains(t, o.name, ":")
			}
			if !oneLine || !comma || !quote {
				t.Errorf("%s: an original of one line %t, a name with a comma %t, one with a quote %t", where, oneLine, comma, quote)
			}
			parts := wantParts(listed, drop.partBytes)
			sum := func(p []original) (n int64) {
				for _, o := range p {
					n += int64(len(o.data))
				}
				return n
			}
			require.GreaterOrEqual(t, len(parts), 3, where)
			if s := sum(parts[0]); s != drop.partBytes {
				t.Errorf("%s: part 0 holds %d bytes of originals, not exactly partBytes", where, s)
			}
			if len(parts[1]) != 1 || sum(parts[1]) <= drop.partBytes {
				t.Errorf("%s: part 1 is %d originals of %d bytes, not one original larger than partBytes", where, len(parts[1]), sum(parts[1]))
			}
			crossed := false
			for i, p := range parts {
				s := sum(p)
				// The lesson: every part but the last reaches partBytes; none
				// holds more than partBytes plus its last original.
				if i < len(parts)-1 {
					require.GreaterOrEqual(t, s, drop.partBytes, where)
				}
				require.Less(t, s-int64(len(p[len(p)-1].data)), drop.partBytes, where)
				crossed = crossed || (i >= 2 && len(p) >= 2 && s > drop.partBytes)
			}
			if !crossed {
				t.Errorf("%s: no part after part 1 crosses partBytes with several originals", where)
			}
		}
	}
}

func TestPlural(t *testing.T) {
	require.Equal(t, "1 directory", plural(1, "directory"))
	require.Equal(t, "3 directories", plural(3, "directory"))
	require.Equal(t, "0 files", plural(int64(0), "file"))
}
