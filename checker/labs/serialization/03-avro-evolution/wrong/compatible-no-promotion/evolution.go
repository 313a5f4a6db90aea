// MISTAKE: Compatible compares the two schemas by hand, field by field by name: a reader field missing from the writer needs a default, and a field in both must have the very same type. It refuses int read as long, which Avro promotes.
// RULE: Writer schema and reader schema: "a field in both: read it (some type promotions are allowed, int to long)".
// Package evolution is a wrong solution of serialization/03-avro-evolution.
package evolution

import (
	"fmt"
	"os"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// SchemaV1 is the schema every existing file was written with.
const SchemaV1 = `{"type": "record", "name": "Reading", "namespace": "dev.delab", "fields": [
  {"name": "device", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "temp", "type": ["null", "double"], "default": null},
  {"name": "firmware", "type": "string", "default": "unknown"}
]}`

// SchemaV2 is the evolved schema (see the lesson's lab section).
const SchemaV2 = `{"type": "record", "name": "Reading", "namespace": "dev.delab", "fields": [
  {"name": "device", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "temperature", "type": ["null", "double"], "default": null, "aliases": ["temp"]},
  {"name": "battery", "type": ["null", "int"], "default": null}
]}`

// ReadingV1 is a reading as SchemaV1 describes it.
type ReadingV1 struct {
	Device   string   `avro:"device" json:"device"`
	TS       int64    `avro:"ts" json:"ts"`
	Temp     *float64 `avro:"temp" json:"temp"`
	Firmware string   `avro:"firmware" json:"firmware"`
}

// ReadingV2 is a reading as SchemaV2 describes it.
type ReadingV2 struct {
	Device      string   `avro:"device" json:"device"`
	TS          int64    `avro:"ts" json:"ts"`
	Temperature *float64 `avro:"temperature" json:"temperature"`
	Battery     *int     `avro:"battery" json:"battery"`
}

// WriteV2 writes readings to an Avro container file at path with SchemaV2.
func WriteV2(path string, readings []ReadingV2) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc, err := ocf.NewEncoder(SchemaV2, f)
	if err != nil {
		f.Close()
		return err
	}
	for _, r := range readings {
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

// readAs decodes every record of the container file at path into the
// reader schema's shape. The ocf decoder only knows the writer schema, so
// each record is decoded generically, encoded again with the writer schema
// and decoded with the resolved schema.
func readAs[T any](path, readerSchema string) ([]T, error) {
	reader, err := avro.Parse(readerSchema)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := ocf.NewDecoder(f)
	if err != nil {
		return nil, err
	}
	writer := dec.Schema()
	resolved, err := avro.NewSchemaCompatibility().Resolve(reader, writer)
	if err != nil {
		return nil, fmt.Errorf("the file's schema cannot be read as this one: %w", err)
	}
	out := []T{}
	for dec.HasNext() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		raw, err := avro.Marshal(writer, m)
		if err != nil {
			return nil, err
		}
		var v T
		if err := avro.Unmarshal(resolved, raw, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, dec.Error()
}

// ReadV2 reads a container file written with SchemaV1 or SchemaV2, as SchemaV2.
func ReadV2(path string) ([]ReadingV2, error) { return readAs[ReadingV2](path, SchemaV2) }

// ReadV1 reads a container file written with SchemaV1 or SchemaV2, as SchemaV1.
func ReadV1(path string) ([]ReadingV1, error) { return readAs[ReadingV1](path, SchemaV1) }

// Compatible returns nil when data written with the writer schema can be
// read with the reader schema, and an error saying why not otherwise.
func Compatible(reader, writer string) error {
	r, err := avro.Parse(reader)
	if err != nil {
		return fmt.Errorf("reader schema: %w", err)
	}
	w, err := avro.Parse(writer)
	if err != nil {
		return fmt.Errorf("writer schema: %w", err)
	}
	rr, ok1 := r.(*avro.RecordSchema)
	wr, ok2 := w.(*avro.RecordSchema)
	if !ok1 || !ok2 {
		return fmt.Errorf("both schemas must be records")
	}
	written := map[string]avro.Schema{}
	for _, f := range wr.Fields() {
		written[f.Name()] = f.Type()
	}
	for _, f := range rr.Fields() {
		t, ok := written[f.Name()]
		for _, a := range f.Aliases() {
			if !ok {
				t, ok = written[a]
			}
		}
		switch {
		case !ok && !f.HasDefault():
			return fmt.Errorf("reader field %s is missing in the writer schema and has no default", f.Name())
		case ok && t.String() != f.Type().String():
			return fmt.Errorf("field %s is %s in the writer schema and %s in the reader schema", f.Name(), t, f.Type())
		}
	}
	return nil
}
