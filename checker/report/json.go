package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the run as indented JSON following schema.json.
func WriteJSON(w io.Writer, r *Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
