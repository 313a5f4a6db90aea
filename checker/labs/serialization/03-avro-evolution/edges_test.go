package avroevolution

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/hamba/avro/v2/ocf"
	"github.com/stretchr/testify/require"

	reference "github.com/delab-dev/delab/checker/labs/serialization/03-avro-evolution/solution"
)

// decodeFile reads a container file the way a learner's reader meets it:
// with the writer schema from its header.
func decodeFile[T any](t *testing.T, path string) []T {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	dec, err := ocf.NewDecoder(f)
	require.NoError(t, err)
	var out []T
	for dec.HasNext() {
		var v T
		require.NoError(t, dec.Decode(&v))
		out = append(out, v)
	}
	require.NoError(t, dec.Error())
	return out
}

// TestEveryEdgeIsInEveryFile: for 200 seeds, every file the checks hand
// the learner's readers holds every boundary case of the table (read back
// from the file, not from the table), and the grader's truth for it is the
// lesson's: the alias carries temp to temperature, battery and firmware
// take their defaults, an old reader sees temp null; the reference agrees.
func TestEveryEdgeIsInEveryFile(t *testing.T) {
	dir := t.TempDir()
	for seed := uint64(1); seed <= 200; seed++ {
		for _, c := range []struct {
			seed uint64
			n    int
		}{{seed, 300}, {seed ^ 0x5eed, 60}} { // new-reads-old's file, then ReadV1's own-version file
			v1 := filepath.Join(dir, "v1.avro")
			require.NoError(t, writeOCF(v1, reference.SchemaV1, readingsV1(c.seed, c.n)))
			old := decodeFile[reference.ReadingV1](t, v1)
			require.Len(t, old, c.n)
			var tempSet, tempNull, tempZero, tempNeg, minTS, maxTS, emptyDev, unicodeDev, fwDefault, fwOther bool
			for _, o := range old {
				tempSet = tempSet || (o.Temp != nil && *o.Temp > 0)
				tempNull = tempNull || o.Temp == nil
				tempZero = tempZero || (o.Temp != nil && *o.Temp == 0)
				tempNeg = tempNeg || (o.Temp != nil && *o.Temp < 0)
				minTS = minTS || o.TS == math.MinInt64
				maxTS = maxTS || o.TS == math.MaxInt64
				emptyDev = emptyDev || o.Device == ""
				unicodeDev = unicodeDev || o.Device == "capteur-été"
				fwDefault = fwDefault || o.Firmware == "unknown"
				fwOther = fwOther || o.Firmware != "unknown"
			}
			require.True(t, tempSet && tempNull && tempZero && tempNeg && minTS && maxTS && emptyDev && unicodeDev && fwDefault && fwOther, "seed %d: a V1 edge is missing", c.seed)
			asNew, err := reference.ReadV2(v1)
			require.NoError(t, err)
			for i, o := range old {
				want := asV2(o)
				require.Equal(t, o.Temp, want.Temperature, "the alias carries temp to temperature")
				require.Nil(t, want.Battery, "battery takes its default")
				require.Equal(t, asJSON(want), asJSON(asNew[i]), "seed %d: reading %d%s", c.seed, i, ruleV1(i))
			}
			own, err := reference.ReadV1(v1)
			require.NoError(t, err)
			require.Equal(t, asJSON(old), asJSON(own), "seed %d: ReadV1 of V1 data", c.seed)
		}
		for _, c := range []struct {
			seed uint64
			n    int
		}{{seed, 250}, {seed ^ 0x5eed, 60}} { // old-reads-new's and writes-v2's file, then ReadV2's own-version file
			v2 := filepath.Join(dir, "v2.avro")
			rows := readingsV2(c.seed, c.n)
			require.NoError(t, writeOCF(v2, reference.SchemaV2, rows))
			news := decodeFile[reference.ReadingV2](t, v2)
			require.Len(t, news, c.n)
			var bothSet, bothNull, zeros, b100, tempNeg, minTS, maxTS, emptyDev, unicodeDev bool
			for _, r := range news {
				bothSet = bothSet || (r.Temperature != nil && *r.Temperature > 0 && r.Battery != nil && *r.Battery > 0)
				bothNull = bothNull || (r.Temperature == nil && r.Battery == nil)
				zeros = zeros || (r.Temperature != nil && *r.Temperature == 0 && r.Battery != nil && *r.Battery == 0)
				b100 = b100 || (r.Battery != nil && *r.Battery == 100)
				tempNeg = tempNeg || (r.Temperature != nil && *r.Temperature < 0)
				minTS = minTS || r.TS == math.MinInt64
				maxTS = maxTS || r.TS == math.MaxInt64
				emptyDev = emptyDev || r.Device == ""
				unicodeDev = unicodeDev || r.Device == "capteur-été"
			}
			require.True(t, bothSet && bothNull && zeros && b100 && tempNeg && minTS && maxTS && emptyDev && unicodeDev, "seed %d: a V2 edge is missing", c.seed)
			asOld, err := reference.ReadV1(v2)
			require.NoError(t, err)
			for i, r := range news {
				want := asV1(r)
				require.Nil(t, want.Temp, "an old reader knows no alias")
				require.Equal(t, "unknown", want.Firmware, "firmware takes its default")
				require.Equal(t, asJSON(want), asJSON(asOld[i]), "seed %d: reading %d%s", c.seed, i, ruleV2(i))
			}
			own, err := reference.ReadV2(v2)
			require.NoError(t, err)
			require.Equal(t, asJSON(news), asJSON(own), "seed %d: ReadV2 of V2 data", c.seed)
			// writes-v2 reads the learner's file with its own reader.
			got, err := readV2File(nolog, v2)
			require.NoError(t, err)
			require.Equal(t, asJSON(rows), asJSON(got))
		}
	}
}

// TestCompatibleCasesAreTheLessons: every change Compatible is asked
// about gets, from the library the lesson names, the verdict the lesson
// gives it; both verdicts and every rule are there.
func TestCompatibleCasesAreTheLessons(t *testing.T) {
	var ok, bad int
	for _, c := range compatCases() {
		err := reference.Compatible(c.reader, c.writer)
		require.Equal(t, c.ok, err == nil, "%s: %v", c.name, err)
		if c.ok {
			ok++
		} else {
			bad++
		}
	}
	require.GreaterOrEqual(t, ok, 4)
	require.GreaterOrEqual(t, bad, 4)
}

// TestV2FileWithAnotherSchemaFails: writes-v2 judges the writer schema in
// the file's header, not only the values.
func TestV2FileWithAnotherSchemaFails(t *testing.T) {
	rows := readingsV2(3, 20)
	path := filepath.Join(t.TempDir(), "v2.avro")
	long := `{"type": "record", "name": "Reading", "namespace": "dev.delab", "fields": [
  {"name": "device", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "temperature", "type": ["null", "double"], "default": null, "aliases": ["temp"]},
  {"name": "battery", "type": ["null", "long"], "default": null}
]}`
	require.NoError(t, writeOCF(path, long, rows))
	err := judgeV2File(nolog, rows, path)
	require.ErrorContains(t, err, "v2.avro's writer schema's fields are not the evolved ones")
}
