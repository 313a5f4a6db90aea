// Package avroevolution grades the lab "Avro schema evolution": it writes
// container files with V1 and V2 itself, runs the learner's readers and
// writer, reads the learner's files with its own resolving reader, and asks
// the learner's Compatible about good and breaking changes.
package avroevolution

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"github.com/delab-dev/delab/checker/grader"
	reference "github.com/delab-dev/delab/checker/labs/serialization/03-avro-evolution/solution"
	"github.com/delab-dev/delab/checker/labs/serialization/parquetcheck"
)

//go:embed harness.go.txt
var harness string

//go:embed starter.txtar
var starter []byte

// Lab is the trusted grader for labs/serialization/03-avro-evolution.
var Lab = grader.Lab{
	Harness: harness,
	Starter: starter,
	Checks: map[string]grader.CheckFunc{
		"schema-v2":     schemaV2,
		"new-reads-old": newReadsOld,
		"writes-v2":     writesV2,
		"old-reads-new": oldReadsNew,
		"compatibility": compatibility,
	},
}

// Boundary table: each rule of the lesson, the input that exercises it in
// every run whatever the seed, and the check that judges it.
//
//	rule                                            input                                           check
//	rename via alias: V2 reads temp as temperature  V1 rows with temp 21.5, 0 and -12.5 (edgesV1)   new-reads-old
//	a null stays null through the alias             V1 row with temp null                           new-reads-old
//	added field takes its default on old data       every V1 row: battery must be null              new-reads-old
//	a field only in the writer is skipped           V1 rows with firmware "4.1.7" and "unknown"     new-reads-old
//	removed field takes its default for old readers every V2 row: firmware must be "unknown"        old-reads-new
//	old readers do not know aliases                 V2 rows with temperature 21.5, 0: temp null     old-reads-new
//	a reader reads files of its own version         V1 file to ReadV1, V2 file to ReadV2 (edges)   old-reads-new, new-reads-old
//	0 is a value, not null                          temp/temperature 0, battery 0                   new-reads-old, writes-v2, old-reads-new
//	values at the edges of their types              ts = min and max long, battery 0 and 100,       all reading checks
//	                                                device "" and non-ASCII
//	WriteV2 writes with SchemaV2                    the file's header schema, compared by field     writes-v2
//	WriteV2 writes every reading unchanged          edgesV2 then random rows, read back by the      writes-v2
//	                                                grader's own decoder
//	SchemaV2: rename+alias, add with default, drop  the learner's SchemaV2, fields by name          schema-v2
//	Compatible: good changes pass                   V2<-V1, V1<-V2, int widened to long, V2<-V2     compatibility
//	Compatible: breaking changes fail               long->string, field added without default,     compatibility
//	                                                long narrowed to int, removed field that had
//	                                                no default
//
// The edge rows come first in every file, so the first wrong reading is
// the smallest input that shows the rule.

func ptr[T any](v T) *T { return &v }

type edgeV1 struct {
	rule string
	row  reference.ReadingV1
}

type edgeV2 struct {
	rule string
	row  reference.ReadingV2
}

var edgesV1 = []edgeV1{
	{"temp set: a V2 reader finds it under temperature, through the alias", reference.ReadingV1{Device: "ap-01", TS: 1_793_577_600_000, Temp: ptr(21.5), Firmware: "4.1.7"}},
	{"temp null: null stays null", reference.ReadingV1{Device: "ap-02", TS: 1_793_577_601_000, Firmware: "4.1.7"}},
	{"temp 0: zero is a value, not null", reference.ReadingV1{Device: "ap-03", TS: 1_793_577_602_000, Temp: ptr(0.0), Firmware: "unknown"}},
	{"temp negative", reference.ReadingV1{Device: "ap-04", TS: 1_793_577_603_000, Temp: ptr(-12.5), Firmware: "4.0.0"}},
	{"ts the smallest long, device empty", reference.ReadingV1{Device: "", TS: math.MinInt64, Temp: ptr(1.25), Firmware: "4.2.8"}},
	{"ts the largest long, device not ASCII", reference.ReadingV1{Device: "capteur-été", TS: math.MaxInt64, Firmware: "4.2.8"}},
}

var edgesV2 = []edgeV2{
	{"temperature and battery set: an old reader knows neither (temp null, firmware \"unknown\")", reference.ReadingV2{Device: "ap-01", TS: 1_793_664_000_000, Temperature: ptr(21.5), Battery: ptr(57)}},
	{"temperature and battery null", reference.ReadingV2{Device: "ap-02", TS: 1_793_664_001_000}},
	{"temperature 0 and battery 0: zero is a value, not null", reference.ReadingV2{Device: "ap-03", TS: 1_793_664_002_000, Temperature: ptr(0.0), Battery: ptr(0)}},
	{"battery 100, temperature negative", reference.ReadingV2{Device: "ap-04", TS: 1_793_664_003_000, Temperature: ptr(-12.5), Battery: ptr(100)}},
	{"ts the smallest long, device empty", reference.ReadingV2{Device: "", TS: math.MinInt64, Battery: ptr(1)}},
	{"ts the largest long, device not ASCII", reference.ReadingV2{Device: "capteur-été", TS: math.MaxInt64, Temperature: ptr(1.25)}},
}

// readingsV1 are n V1 readings: the edge rows, then random ones.
func readingsV1(seed uint64, n int) []reference.ReadingV1 {
	r := rand.New(rand.NewPCG(seed, 23))
	out := make([]reference.ReadingV1, n)
	for i := range out {
		if i < len(edgesV1) {
			out[i] = edgesV1[i].row
			continue
		}
		out[i] = reference.ReadingV1{Device: fmt.Sprintf("ap-%02d", r.IntN(20)), TS: 1_793_577_600_000 + int64(i)*1000, Firmware: fmt.Sprintf("4.%d.%d", r.IntN(3), r.IntN(9))}
		if r.IntN(5) > 0 {
			v := float64(r.IntN(4000)) / 100
			out[i].Temp = &v
		}
	}
	return out
}

// readingsV2 are n V2 readings: the edge rows, then random ones.
func readingsV2(seed uint64, n int) []reference.ReadingV2 {
	r := rand.New(rand.NewPCG(seed, 29))
	out := make([]reference.ReadingV2, n)
	for i := range out {
		if i < len(edgesV2) {
			out[i] = edgesV2[i].row
			continue
		}
		out[i] = reference.ReadingV2{Device: fmt.Sprintf("ap-%02d", r.IntN(20)), TS: 1_793_664_000_000 + int64(i)*1000}
		if r.IntN(5) > 0 {
			v := float64(r.IntN(4000)) / 100
			out[i].Temperature = &v
		}
		if r.IntN(4) > 0 {
			b := r.IntN(101)
			out[i].Battery = &b
		}
	}
	return out
}

// ruleV1 and ruleV2 name the rule an edge row exercises, for failures.
func ruleV1(i int) string {
	if i < len(edgesV1) {
		return " (" + edgesV1[i].rule + ")"
	}
	return ""
}

func ruleV2(i int) string {
	if i < len(edgesV2) {
		return " (" + edgesV2[i].rule + ")"
	}
	return ""
}

// asV2 is what a V2 reader makes of a V1 reading: temp through its alias,
// battery its default, firmware skipped.
func asV2(o reference.ReadingV1) reference.ReadingV2 {
	return reference.ReadingV2{Device: o.Device, TS: o.TS, Temperature: o.Temp}
}

// asV1 is what a V1 reader makes of a V2 reading: it knows no alias, so
// temp is missing and takes its default null, as firmware takes "unknown".
func asV1(r reference.ReadingV2) reference.ReadingV1 {
	return reference.ReadingV1{Device: r.Device, TS: r.TS, Firmware: "unknown"}
}

func writeOCF[T any](path, schema string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc, err := ocf.NewEncoder(schema, f)
	if err != nil {
		f.Close()
		return err
	}
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := enc.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func schemaV2(ctx context.Context, h *grader.Harness) error {
	h.Logf("asking for SchemaV2")
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"schema"}})
	if err != nil {
		return err
	}
	var text string
	// A value that does not decode leaves text empty, which does not parse.
	_ = grader.UnmarshalArtifact("SchemaV2", res.Value, &text)
	return judgeSchemaV2(h.Logf, text)
}

// judgeSchemaV2 parses the learner's SchemaV2 and compares its fields.
func judgeSchemaV2(logf func(string, ...any), text string) error {
	return grader.ReadArtifact("SchemaV2", func() error { return judgeFields(logf, "SchemaV2", text, true) })
}

// judgeFields parses schema text (what names it in failures) and compares
// its fields, by name, with SchemaV2's: their types, and when defaults is
// set their defaults and aliases too (hamba writes a container file's
// header schema in canonical form, which drops both).
func judgeFields(logf func(string, ...any), what, text string, defaults bool) error {
	// A cache of its own: hamba's process-wide cache holds the types of
	// every schema parsed so far, and a SchemaV2 that only names the
	// type dev.delab.Reading would find one there.
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return grader.Failf("%s does not parse as an Avro schema: %v", what, err)
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return grader.Failf("%s is not a record schema", what)
	}
	var got []string
	for _, f := range rec.Fields() {
		desc := f.Name() + ":" + f.Type().String()
		if f.HasDefault() && defaults {
			d, _ := json.Marshal(f.Default())
			desc += " default=" + string(d)
		}
		if len(f.Aliases()) > 0 && defaults {
			desc += " aliases=" + strings.Join(f.Aliases(), ",")
		}
		got = append(got, desc)
	}
	want := []string{
		`device:"string"`,
		`ts:{"type":"long","logicalType":"timestamp-millis"}`,
		`temperature:["null","double"]`,
		`battery:["null","int"]`,
	}
	if defaults {
		want[2] += ` default=null aliases=temp`
		want[3] += ` default=null`
	}
	logf("%s fields: %s", what, strings.Join(got, "; "))
	// Avro matches fields by name, never by position: any order is
	// the same schema to a reader, so both lists are compared sorted.
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		return grader.Mismatch(what+"'s fields are not the evolved ones", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	return nil
}

func newReadsOld(ctx context.Context, h *grader.Harness) error {
	old := readingsV1(h.Seed(), 300)
	path := h.Path("v1.avro")
	if err := writeOCF(path, reference.SchemaV1, old); err != nil {
		return err
	}
	h.Logf("wrote v1.avro with SchemaV1: %d readings, some temp null", len(old))
	h.Logf("running ReadV2(\"v1.avro\")")
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"read-v2", path}})
	if err != nil {
		return err
	}
	var got []reference.ReadingV2
	if err := grader.UnmarshalArtifact("result of ReadV2", res.Value, &got); err != nil {
		return fmt.Errorf("decode the harness's capture: %w", err)
	}
	if len(got) != len(old) {
		return grader.Mismatch("ReadV2 returned the wrong number of readings", len(old), len(got))
	}
	for i, o := range old {
		if want := asV2(o); asJSON(got[i]) != asJSON(want) {
			return grader.Mismatch(fmt.Sprintf("reading %d%s read as V2 is wrong: V1 %s", i, ruleV1(i), asJSON(o)), asJSON(want), asJSON(got[i]))
		}
	}
	h.Logf("all %d old readings read as V2: temp became temperature, battery null", len(old))
	return readOwnVersion(ctx, h, "read-v2", "ReadV2", reference.SchemaV2, readingsV2(h.Seed()^0x5eed, 60), ruleV2)
}

// readOwnVersion writes rows with schema and runs the learner's reader
// (a harness command) on them: a reader must read files of its own
// version too, not only the other one.
func readOwnVersion[T any](ctx context.Context, h *grader.Harness, cmd, fn, schema string, rows []T, rule func(int) string) error {
	path := h.Path("own-" + cmd + ".avro")
	if err := writeOCF(path, schema, rows); err != nil {
		return err
	}
	h.Logf("wrote %s with its own version's schema: %d readings; running %s on it", filepath.Base(path), len(rows), fn)
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{cmd, path}})
	if err != nil {
		return err
	}
	var got []T
	if err := grader.UnmarshalArtifact("result of "+fn, res.Value, &got); err != nil {
		return fmt.Errorf("decode the harness's capture: %w", err)
	}
	if len(got) != len(rows) {
		return grader.Mismatch(fn+" of a file written with its own schema returned the wrong number of readings", len(rows), len(got))
	}
	for i := range rows {
		if asJSON(got[i]) != asJSON(rows[i]) {
			return grader.Mismatch(fmt.Sprintf("%s of a file written with its own schema: reading %d%s is wrong (the writer schema is the file's, not the other version's)", fn, i, rule(i)), asJSON(rows[i]), asJSON(got[i]))
		}
	}
	h.Logf("%s reads a file of its own version unchanged", fn)
	return nil
}

func writesV2(ctx context.Context, h *grader.Harness) error {
	rows := readingsV2(h.Seed(), 250)
	in, path := h.Path("readings.json"), h.Path("v2.avro")
	data, _ := json.Marshal(rows)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return err
	}
	h.Logf("running WriteV2(\"v2.avro\", %d readings)", len(rows))
	if _, err := h.Run(ctx, grader.RunOptions{Args: []string{"write", path, in}}); err != nil {
		return err
	}
	return judgeV2File(h.Logf, rows, path)
}

// avroWhat names the learner's file in failures.
const avroWhat = "Avro file v2.avro"

// avroLimit is the largest v2.avro the grader reads: a correct one is
// about 10 KiB.
const avroLimit = 64 << 20

// readV2File reads the learner's v2.avro with the grader's own reader:
// the writer schema in its header must have SchemaV2's fields (by name,
// with their types),
// and its records are decoded with that schema into ReadingV2, whose
// fields hamba fills by name. The file is the learner's: its structure is
// checked before the decoder trusts it (parquetcheck.CheckAvroContainer),
// and whatever goes wrong while it is read is the learner's failure.
func readV2File(logf func(string, ...any), path string) ([]reference.ReadingV2, error) {
	cannot := func(err error) error { return grader.Failf("the grader cannot read v2.avro as SchemaV2: %v", err) }
	data, err := grader.ReadArtifactFile(avroWhat, path, avroLimit)
	var unreadable *grader.Failure
	if errors.As(err, &unreadable) {
		return nil, err
	}
	if err != nil {
		return nil, cannot(err)
	}
	if err := parquetcheck.CheckAvroContainer(data, parquetcheck.DefaultAvroLimits); err != nil {
		return nil, grader.Unreadable(avroWhat, "%v", err)
	}
	got := []reference.ReadingV2{}
	err = grader.ReadArtifact(avroWhat, func() error {
		dec, err := ocf.NewDecoder(bytes.NewReader(data))
		if err != nil {
			return cannot(err)
		}
		if err := judgeFields(logf, "v2.avro's writer schema", string(dec.Metadata()["avro.schema"]), false); err != nil {
			return err
		}
		for dec.HasNext() {
			var r reference.ReadingV2
			if err := dec.Decode(&r); err != nil {
				return cannot(err)
			}
			got = append(got, r)
		}
		if err := dec.Error(); err != nil {
			return cannot(err)
		}
		return nil
	})
	return got, err
}

// judgeV2File compares the learner's v2.avro with the readings it was
// given.
func judgeV2File(logf func(string, ...any), rows []reference.ReadingV2, path string) error {
	got, err := readV2File(logf, path)
	if err != nil {
		return err
	}
	logf("read v2.avro with the grader's own reader: %d readings", len(got))
	if asJSON(got) != asJSON(rows) {
		for i := range rows {
			if i >= len(got) || asJSON(got[i]) != asJSON(rows[i]) {
				g := "(missing)"
				if i < len(got) {
					g = asJSON(got[i])
				}
				return grader.Mismatch(fmt.Sprintf("reading %d%s in v2.avro is wrong", i, ruleV2(i)), asJSON(rows[i]), g)
			}
		}
		return grader.Mismatch("v2.avro holds extra readings", len(rows), len(got))
	}
	return nil
}

func oldReadsNew(ctx context.Context, h *grader.Harness) error {
	rows := readingsV2(h.Seed(), 250)
	path := h.Path("v2.avro")
	if err := writeOCF(path, reference.SchemaV2, rows); err != nil {
		return err
	}
	h.Logf("wrote v2.avro with SchemaV2: %d readings", len(rows))
	h.Logf("running ReadV1(\"v2.avro\")")
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"read-v1", path}})
	if err != nil {
		return err
	}
	var got []reference.ReadingV1
	if err := grader.UnmarshalArtifact("result of ReadV1", res.Value, &got); err != nil {
		return fmt.Errorf("decode the harness's capture: %w", err)
	}
	if len(got) != len(rows) {
		return grader.Mismatch("ReadV1 returned the wrong number of readings", len(rows), len(got))
	}
	for i, r := range rows {
		if want := asV1(r); asJSON(got[i]) != asJSON(want) {
			return grader.Mismatch(fmt.Sprintf("reading %d%s read as V1 is wrong: V2 %s", i, ruleV2(i), asJSON(r)), asJSON(want), asJSON(got[i]))
		}
	}
	h.Logf("all %d new readings read as V1: firmware took its default, temp is null to an old reader", len(rows))
	return readOwnVersion(ctx, h, "read-v1", "ReadV1", reference.SchemaV1, readingsV1(h.Seed()^0x5eed, 60), ruleV1)
}

// compatCase is one question to Compatible, with the lesson's answer.
type compatCase struct {
	name           string
	reader, writer string
	ok             bool
}

// compatCases are the changes Compatible is asked about: each rule of
// "The rules of compatible change", both ways.
func compatCases() []compatCase {
	typeChange := strings.Replace(reference.SchemaV1, `{"type": "long", "logicalType": "timestamp-millis"}`, `"string"`, 1)
	noDefault := strings.Replace(reference.SchemaV2, `{"name": "battery", "type": ["null", "int"], "default": null}`, `{"name": "site", "type": "string"}`, 1)
	batteryLong := strings.Replace(reference.SchemaV2, `"type": ["null", "int"]`, `"type": ["null", "long"]`, 1)
	firmwareNoDefault := strings.Replace(reference.SchemaV1, `"type": "string", "default": "unknown"`, `"type": "string"`, 1)
	return []compatCase{
		{"new reader (V2), old data (V1)", reference.SchemaV2, reference.SchemaV1, true},
		{"old reader (V1), new data (V2)", reference.SchemaV1, reference.SchemaV2, true},
		{"ts changed from long to string", typeChange, reference.SchemaV1, false},
		{"field site added without a default", noDefault, reference.SchemaV1, false},
		{"battery read as long, written as int (a promotion)", batteryLong, reference.SchemaV2, true},
		{"battery read as int, written as long (no promotion narrows)", reference.SchemaV2, batteryLong, false},
		{"firmware removed, though the old reader's firmware has no default", firmwareNoDefault, reference.SchemaV2, false},
		{"nothing changed (V2 reads V2)", reference.SchemaV2, reference.SchemaV2, true},
	}
}

func compatibility(ctx context.Context, h *grader.Harness) error {
	cases := compatCases()
	var pairs [][2]string
	for _, c := range cases {
		pairs = append(pairs, [2]string{c.reader, c.writer})
	}
	arg, _ := json.Marshal(pairs)
	h.Logf("asking Compatible(reader, writer) about %d changes", len(cases))
	res, err := h.Run(ctx, grader.RunOptions{Args: []string{"compat", string(arg)}})
	if err != nil {
		return err
	}
	var got []string
	if err := grader.UnmarshalArtifact("result of Compatible", res.Value, &got); err != nil || len(got) != len(cases) {
		return fmt.Errorf("decode the harness's capture: %v", err)
	}
	for i, c := range cases {
		verdict := "compatible"
		if got[i] != "" {
			verdict = "incompatible: " + got[i]
		}
		h.Logf("%s → %s", c.name, verdict)
		if c.ok != (got[i] == "") {
			want := "compatible"
			if !c.ok {
				want = "an error"
			}
			return grader.Mismatch("Compatible is wrong about: "+c.name, want, verdict)
		}
	}
	return nil
}
