package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// APIVersion versions every -o json document. It changes only when a field is
// removed or changes meaning; new fields may appear within a version, so
// scripts should ignore fields they do not know. docs/json-output.md
// describes each document.
const APIVersion = "hcloud-k8s.io/v1alpha1"

// Kinds of -o json documents, one per command output.
const (
	kindPlan       = "Plan"
	kindApply      = "ApplyResult"
	kindDestroy    = "DestroyResult"
	kindValidation = "ValidationReport"
	kindVersion    = "Version"
	kindInit       = "InitResult"
	kindStatus     = "ClusterStatus"
)

// writeJSON prints v, which must encode as a JSON object, as one indented
// document whose first two fields are apiVersion and kind: the stable,
// scriptable form of every command's output under -o json. The header is
// spliced in front of v's own fields so each document type stays a plain
// struct with its own json tags.
func writeJSON(w io.Writer, kind string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s as JSON: %w", kind, err)
	}
	if len(body) < 2 || body[0] != '{' {
		return fmt.Errorf("encode %s as JSON: not an object (a bug in hcloud-k8s)", kind)
	}
	head, err := json.Marshal(struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}{APIVersion, kind})
	if err != nil {
		return fmt.Errorf("encode %s as JSON: %w", kind, err)
	}
	doc := head[:len(head)-1] // drop the closing brace
	if rest := body[1:]; !bytes.Equal(rest, []byte("}")) {
		doc = append(doc, ',')
		doc = append(doc, rest...)
	} else {
		doc = append(doc, '}')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return fmt.Errorf("encode %s as JSON: %w", kind, err)
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}
