// Package evolution evolves an Avro schema without breaking old data or
// old readers.
//
// Read the lesson first: delab read serialization/02
// Check your work:       delab check serialization/03
package evolution

import (
	"bufio"
	"fmt"
	"io"
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
const SchemaV2 = `{
  "type": "record",
  "name": "Reading",
  "namespace": "dev.delab",
  "doc": "V2: temp renamed to temperature, battery added, firmware removed.",
  "fields": [
    {"name": "device", "type": "string"},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "temperature", "type": ["null", "double"], "default": null, "aliases": ["temp"], "doc": "was temp in V1"},
    {"name": "battery", "type": ["null", "int"], "default": null}
  ]
}`

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
func WriteV2(path string, readings []ReadingV2) (err error) {
	schema, err := avro.Parse(SchemaV2)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriter(f)
	enc, err := ocf.NewEncoderWithSchema(schema, bw, ocf.WithCodec(ocf.Deflate))
	if err != nil {
		return err
	}
	for i := range readings {
		if err := enc.Encode(&readings[i]); err != nil {
			return err
		}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// project maps one record decoded with the writer schema onto the reader
// schema's fields, by name: a field in both is copied, a reader field
// whose alias is a writer field takes that field, any other reader field
// takes its default. Writer-only fields are dropped.
func project(reader *avro.RecordSchema, rec map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(reader.Fields()))
	for _, f := range reader.Fields() {
		if v, ok := rec[f.Name()]; ok {
			out[f.Name()] = v
			continue
		}
		found := false
		for _, alias := range f.Aliases() {
			if v, ok := rec[alias]; ok {
				out[f.Name()] = v
				found = true
				break
			}
		}
		if found {
			continue
		}
		if !f.HasDefault() {
			return nil, fmt.Errorf("reader field %q is not in the data and has no default", f.Name())
		}
		out[f.Name()] = f.Default()
	}
	return out, nil
}

// decodeFile reads every record of the container file at path as a
// generic map (the decoder uses the file's own writer schema), projects it
// onto readerSchema and decodes it into a fresh *T.
func decodeFile[T any](path, readerSchema string) ([]T, error) {
	s, err := avro.Parse(readerSchema)
	if err != nil {
		return nil, err
	}
	reader := s.(*avro.RecordSchema)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := ocf.NewDecoder(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	if err := Compatible(readerSchema, dec.Schema().String()); err != nil {
		return nil, err
	}
	var out []T
	for dec.HasNext() {
		rec := map[string]any{}
		if err := dec.Decode(&rec); err != nil {
			return nil, err
		}
		m, err := project(reader, rec)
		if err != nil {
			return nil, err
		}
		raw, err := avro.Marshal(reader, m)
		if err != nil {
			return nil, err
		}
		var v T
		if err := avro.Unmarshal(reader, raw, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := dec.Error(); err != nil && err != io.EOF {
		return nil, err
	}
	return out, nil
}

// ReadV2 reads a container file written with SchemaV1 or SchemaV2, as SchemaV2.
func ReadV2(path string) ([]ReadingV2, error) {
	return decodeFile[ReadingV2](path, SchemaV2)
}

// ReadV1 reads a container file written with SchemaV1 or SchemaV2, as SchemaV1.
func ReadV1(path string) ([]ReadingV1, error) {
	return decodeFile[ReadingV1](path, SchemaV1)
}

// Compatible returns nil when data written with the writer schema can be
// read with the reader schema, and an error saying why not otherwise.
func Compatible(reader, writer string) error {
	r, err := avro.Parse(reader)
	if err != nil {
		return fmt.Errorf("reader schema does not parse: %w", err)
	}
	w, err := avro.Parse(writer)
	if err != nil {
		return fmt.Errorf("writer schema does not parse: %w", err)
	}
	if _, err := avro.NewSchemaCompatibility().Resolve(r, w); err != nil {
		return fmt.Errorf("reader cannot read writer data: %w", err)
	}
	return nil
}
