// Package avroevolution grades the lab "Avro schema evolution": it writes
// container files with V1 and V2 itself, runs the learner's readers and
// writer, reads the learner's files with its own resolving reader, and asks
// the learner's Compatible about good and breaking changes.
package avroevolution

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
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

func readingsV1(seed uint64, n int) []reference.ReadingV1 {
	r := rand.New(rand.NewPCG(seed, 23))
	out := make([]reference.ReadingV1, n)
	for i := range out {
		out[i] = reference.ReadingV1{Device: fmt.Sprintf("ap-%02d", r.IntN(20)), TS: 1_793_577_600_000 + int64(i)*1000, Firmware: fmt.Sprintf("4.%d.%d", r.IntN(3), r.IntN(9))}
		if r.IntN(5) > 0 {
			v := float64(r.IntN(4000)) / 100
			out[i].Temp = &v
		}
	}
	return out
}

func readingsV2(seed uint64, n int) []reference.ReadingV2 {
	r := rand.New(rand.NewPCG(seed, 29))
	out := make([]reference.ReadingV2, n)
	for i := range out {
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
	return grader.ReadArtifact("SchemaV2", func() error {
		// A cache of its own: hamba's process-wide cache holds the types of
		// every schema parsed so far, and a SchemaV2 that only names the
		// type dev.delab.Reading would find one there.
		s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
		if err != nil {
			return grader.Failf("SchemaV2 does not parse as an Avro schema: %v", err)
		}
		rec, ok := s.(*avro.RecordSchema)
		if !ok {
			return grader.Failf("SchemaV2 is not a record schema")
		}
		var got []string
		for _, f := range rec.Fields() {
			desc := f.Name() + ":" + f.Type().String()
			if f.HasDefault() {
				d, _ := json.Marshal(f.Default())
				desc += " default=" + string(d)
			}
			if len(f.Aliases()) > 0 {
				desc += " aliases=" + strings.Join(f.Aliases(), ",")
			}
			got = append(got, desc)
		}
		want := []string{
			`device:"string"`,
			`ts:{"type":"long","logicalType":"timestamp-millis"}`,
			`temperature:["null","double"] default=null aliases=temp`,
			`battery:["null","int"] default=null`,
		}
		logf("SchemaV2 fields: %s", strings.Join(got, "; "))
		// Avro matches fields by name, never by position: any order is
		// the same schema to a reader, so both lists are compared sorted.
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return grader.Mismatch("SchemaV2's fields are not the evolved ones", strings.Join(want, "\n"), strings.Join(got, "\n"))
		}
		return nil
	})
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
		want := reference.ReadingV2{Device: o.Device, TS: o.TS, Temperature: o.Temp}
		if asJSON(got[i]) != asJSON(want) {
			return grader.Mismatch(fmt.Sprintf("reading %d read as V2 is wrong", i), asJSON(want), asJSON(got[i]))
		}
	}
	h.Logf("all %d old readings read as V2: temp became temperature, battery null", len(old))
	return readOwnVersion(ctx, h, "read-v2", "ReadV2", reference.SchemaV2, readingsV2(h.Seed()^0x5eed, 60))
}

// readOwnVersion writes rows with schema and runs the learner's reader
// (a harness command) on them: a reader must read files of its own
// version too, not only the other one.
func readOwnVersion[T any](ctx context.Context, h *grader.Harness, cmd, fn, schema string, rows []T) error {
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
			return grader.Mismatch(fmt.Sprintf("%s of a file written with its own schema: reading %d is wrong (the writer schema is the file's, not the other version's)", fn, i), asJSON(rows[i]), asJSON(got[i]))
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

// readV2File reads the learner's v2.avro with the grader's own resolving
// reader (the reference's ReadV2). The file is the learner's: its
// structure is checked before the decoder trusts it
// (parquetcheck.CheckAvroContainer), and whatever goes wrong while it is
// read is the learner's failure.
func readV2File(path string) ([]reference.ReadingV2, error) {
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
	var got []reference.ReadingV2
	err = grader.ReadArtifact(avroWhat, func() error {
		var err error
		if got, err = reference.ReadV2(path); err != nil {
			return cannot(err)
		}
		return nil
	})
	return got, err
}

// judgeV2File compares the learner's v2.avro with the readings it was
// given.
func judgeV2File(logf func(string, ...any), rows []reference.ReadingV2, path string) error {
	got, err := readV2File(path)
	if err != nil {
		return err
	}
	logf("read v2.avro with the grader's own resolving reader: %d readings", len(got))
	if asJSON(got) != asJSON(rows) {
		for i := range rows {
			if i >= len(got) || asJSON(got[i]) != asJSON(rows[i]) {
				g := "(missing)"
				if i < len(got) {
					g = asJSON(got[i])
				}
				return grader.Mismatch(fmt.Sprintf("reading %d in v2.avro is wrong", i), asJSON(rows[i]), g)
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
		want := reference.ReadingV1{Device: r.Device, TS: r.TS, Firmware: "unknown"}
		if asJSON(got[i]) != asJSON(want) {
			return grader.Mismatch(fmt.Sprintf("reading %d read as V1 is wrong", i), asJSON(want), asJSON(got[i]))
		}
	}
	h.Logf("all %d new readings read as V1: firmware took its default, temp is null to an old reader", len(rows))
	return readOwnVersion(ctx, h, "read-v1", "ReadV1", reference.SchemaV1, readingsV1(h.Seed()^0x5eed, 60))
}

func compatibility(ctx context.Context, h *grader.Harness) error {
	typeChange := strings.Replace(reference.SchemaV1, `{"type": "long", "logicalType": "timestamp-millis"}`, `"string"`, 1)
	noDefault := strings.Replace(reference.SchemaV2, `{"name": "battery", "type": ["null", "int"], "default": null}`, `{"name": "site", "type": "string"}`, 1)
	cases := []struct {
		name           string
		reader, writer string
		ok             bool
	}{
		{"new reader (V2), old data (V1)", reference.SchemaV2, reference.SchemaV1, true},
		{"old reader (V1), new data (V2)", reference.SchemaV1, reference.SchemaV2, true},
		{"ts changed from long to string", typeChange, reference.SchemaV1, false},
		{"field site added without a default", noDefault, reference.SchemaV1, false},
	}
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
