// MISTAKE: Compatible passes the schemas to the library in the wrong order (writer as reader), so it answers the forward question instead of the backward one.
// RULE: Avro in Go: "avro.NewSchemaCompatibility().Compatible(reader, writer) to check a change"; The rules of compatible change: a reader with an added field without a default cannot read old data.
// Package evolution evolves an Avro schema without breaking old data or
// old readers.
//
// Read the lesson first: delab read serialization/02
// Check your work:       delab check serialization/03
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
  {"name": "temperature", "aliases": ["temp"], "type": ["null", "double"], "default": null},
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

// readAs reads the container file at path, whatever schema it was written
// with, into values of the reader schema, one call of add per record.
func readAs(path, readerSchema string, add func(raw []byte, resolved avro.Schema) error) error {
	reader, err := avro.Parse(readerSchema)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec, err := ocf.NewDecoder(f)
	if err != nil {
		return err
	}
	writer := dec.Schema()
	resolved, err := avro.NewSchemaCompatibility().Resolve(reader, writer)
	if err != nil {
		return fmt.Errorf("cannot read %s with this schema: %w", path, err)
	}
	for dec.HasNext() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return err
		}
		raw, err := avro.Marshal(writer, m)
		if err != nil {
			return err
		}
		if err := add(raw, resolved); err != nil {
			return err
		}
	}
	return dec.Error()
}

// ReadV2 reads a container file written with SchemaV1 or SchemaV2, as SchemaV2.
func ReadV2(path string) ([]ReadingV2, error) {
	var out []ReadingV2
	err := readAs(path, SchemaV2, func(raw []byte, resolved avro.Schema) error {
		var r ReadingV2
		if err := avro.Unmarshal(resolved, raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadV1 reads a container file written with SchemaV1 or SchemaV2, as SchemaV1.
func ReadV1(path string) ([]ReadingV1, error) {
	var out []ReadingV1
	err := readAs(path, SchemaV1, func(raw []byte, resolved avro.Schema) error {
		var r ReadingV1
		if err := avro.Unmarshal(resolved, raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

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
	return avro.NewSchemaCompatibility().Compatible(w, r)
}
