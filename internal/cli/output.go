package cli

import (
	"encoding/json"
	"io"
)

// writeJSON prints v as indented JSON: the stable, scriptable form of every command's
// output under -o json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
