package evolution_test

// Your own quick loop, no checker needed:
//
//	go test ./labs/serialization/03-avro-evolution/
//
// These tests write an old (V1) container file from the readings in
// testdata/readings-v1.json, read it with your V2 reader, write V2 files
// with your writer and read them with both readers, and ask Compatible
// about a good and a bad change. Add your own cases: this file is yours.
// `delab check serialization/03` still decides the grade, with files and
// schema changes of its own.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	evolution "github.com/delab-dev/delab/labs/serialization/03-avro-evolution"
)

// reread points a failure at the lesson section that explains the rule.
func reread(section string) string {
	return "\n    reread \"" + section + "\": delab read serialization/02"
}

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }

// show renders readings as JSON, nulls included, for failure messages.
func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// v1File writes testdata/readings-v1.json as a container file with
// SchemaV1, the way last year's producers did.
func v1File(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "readings-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []evolution.ReadingV1
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "readings-v1.avro")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	enc, err := ocf.NewEncoder(evolution.SchemaV1, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSchemaV2(t *testing.T) {
	s, err := avro.Parse(evolution.SchemaV2)
	if err != nil {
		t.Fatalf("SchemaV2 is not an Avro schema: %v%s", err, reread("Your lab: evolve a schema"))
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		t.Fatalf("SchemaV2 is a %s, want a record%s", s.Type(), reread("Your lab: evolve a schema"))
	}
	var names []string
	for _, f := range rec.Fields() {
		names = append(names, f.Name())
		switch f.Name() {
		case "temperature":
			if !slices.Contains(f.Aliases(), "temp") {
				t.Errorf("temperature has aliases %v: keep the old name temp as an alias%s", f.Aliases(), reread("The rules of compatible change"))
			}
			fallthrough
		case "battery":
			if !f.HasDefault() || f.Default() != nil {
				t.Errorf("%s must default to null%s", f.Name(), reread("The rules of compatible change"))
			}
		}
	}
	if want := []string{"device", "ts", "temperature", "battery"}; !reflect.DeepEqual(names, want) {
		t.Errorf("SchemaV2 has fields %v, want %v%s", names, want, reread("Your lab: evolve a schema"))
	}
}

func TestNewReaderReadsOldFile(t *testing.T) {
	got, err := evolution.ReadV2(v1File(t))
	if err != nil {
		t.Fatalf("ReadV2 of a V1 file: %v%s", err, reread("Writer schema and reader schema"))
	}
	want := []evolution.ReadingV2{
		{Device: "ap-01", TS: 1793577600000, Temperature: f64(21.5)},
		{Device: "ap-02", TS: 1793577601000},
		{Device: "ap-01", TS: 1793577602000, Temperature: f64(-3.25)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadV2 of a V1 file:\n    got  %s\n    want %s\n    temp is read into temperature through its alias; battery takes its default%s",
			show(got), show(want), reread("Writer schema and reader schema"))
	}
}

func TestNewFileReadByBothReaders(t *testing.T) {
	rs := []evolution.ReadingV2{
		{Device: "ap-07", TS: 1793664000000, Temperature: f64(19.75), Battery: intp(88)},
		{Device: "ap-08", TS: 1793664001000, Battery: intp(0)},
		{Device: "ap-07", TS: 1793664002000, Temperature: f64(20)},
	}
	path := filepath.Join(t.TempDir(), "readings-v2.avro")
	if err := evolution.WriteV2(path, rs); err != nil {
		t.Fatalf("WriteV2: %v%s", err, reread("Avro in Go"))
	}
	v2, err := evolution.ReadV2(path)
	if err != nil {
		t.Fatalf("ReadV2 of your V2 file: %v%s", err, reread("Avro in Go"))
	}
	if !reflect.DeepEqual(v2, rs) {
		t.Errorf("ReadV2 of your V2 file:\n    got  %s\n    want %s%s", show(v2), show(rs), reread("Avro in Go"))
	}
	v1, err := evolution.ReadV1(path)
	if err != nil {
		t.Fatalf("ReadV1 of your V2 file: %v%s", err, reread("Writer schema and reader schema"))
	}
	want := []evolution.ReadingV1{
		{Device: "ap-07", TS: 1793664000000, Firmware: "unknown"},
		{Device: "ap-08", TS: 1793664001000, Firmware: "unknown"},
		{Device: "ap-07", TS: 1793664002000, Firmware: "unknown"},
	}
	if !reflect.DeepEqual(v1, want) {
		t.Errorf("ReadV1 of your V2 file:\n    got  %s\n    want %s\n    an old reader does not know the alias: temp and firmware take their defaults%s",
			show(v1), show(want), reread("The rules of compatible change"))
	}
}

func TestCompatible(t *testing.T) {
	if err := evolution.Compatible(evolution.SchemaV2, evolution.SchemaV1); err != nil {
		t.Errorf("Compatible(V2 reader, V1 writer) = %v, want nil (backward)%s", err, reread("The rules of compatible change"))
	}
	if err := evolution.Compatible(evolution.SchemaV1, evolution.SchemaV2); err != nil {
		t.Errorf("Compatible(V1 reader, V2 writer) = %v, want nil (forward)%s", err, reread("The rules of compatible change"))
	}
	noDefault := strings.Replace(evolution.SchemaV1, `{"name": "device", "type": "string"},`,
		`{"name": "device", "type": "string"}, {"name": "site", "type": "string"},`, 1)
	if err := evolution.Compatible(noDefault, evolution.SchemaV1); err == nil {
		t.Errorf("Compatible says a reader with a new field site and no default can read V1 data: it cannot%s", reread("The rules of compatible change"))
	}
}
