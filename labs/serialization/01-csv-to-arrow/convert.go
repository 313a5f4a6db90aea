// Package csvtoarrow converts CSV device readings into an Arrow IPC file.
//
// Read the lesson first: delab read serialization/00
// Check your work:       delab check serialization/01
package csvtoarrow

import (
	"errors"

	_ "github.com/apache/arrow/go/v15/arrow" // the library to use, with arrow/array and arrow/ipc
)

// BatchSize is the number of rows in every record batch but the last.
const BatchSize = 1000

// Convert reads the CSV at csvPath (header device,ts,temperature,battery)
// and writes an Arrow IPC file at arrowPath with the schema the lesson
// gives. It returns how many rows it wrote and how many malformed rows it
// skipped.
func Convert(csvPath, arrowPath string) (written, malformed int, err error) {
	// TODO: build the schema, read and validate the CSV, append rows to a
	// record builder, write a record every BatchSize rows, close the writer.
	return 0, 0, errors.New("Convert is not implemented yet (lesson section \"Your lab: CSV to Arrow\")")
}
