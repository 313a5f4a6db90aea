// Package evolution evolves an Avro schema without breaking old data or
// old readers.
//
// Read the lesson first: delab read serialization/02
// Check your work:       delab check serialization/03
package evolution

import (
	"errors"

	_ "github.com/hamba/avro/v2" // the library to use, with its ocf package
)

// SchemaV1 is the schema every existing file was written with.
const SchemaV1 = `{"type": "record", "name": "Reading", "namespace": "dev.delab", "fields": [
  {"name": "device", "type": "string"},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "temp", "type": ["null", "double"], "default": null},
  {"name": "firmware", "type": "string", "default": "unknown"}
]}`

// SchemaV2 is the evolved schema (see the lesson's lab section).
const SchemaV2 = `` // TODO

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
	return errors.New("WriteV2 is not implemented yet (lesson section \"Avro in Go\")")
}

// ReadV2 reads a container file written with SchemaV1 or SchemaV2, as SchemaV2.
func ReadV2(path string) ([]ReadingV2, error) {
	return nil, errors.New("ReadV2 is not implemented yet (lesson section \"Writer schema and reader schema\")")
}

// ReadV1 reads a container file written with SchemaV1 or SchemaV2, as SchemaV1.
func ReadV1(path string) ([]ReadingV1, error) {
	return nil, errors.New("ReadV1 is not implemented yet (lesson section \"Writer schema and reader schema\")")
}

// Compatible returns nil when data written with the writer schema can be
// read with the reader schema, and an error saying why not otherwise.
func Compatible(reader, writer string) error {
	return errors.New("Compatible is not implemented yet (lesson section \"The rules of compatible change\")")
}
