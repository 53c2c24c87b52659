package addons

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// renderInlineManifests turns talos.extraInlineManifests into objects so
// that they are applied (and pruned) like every other addon object.
func renderInlineManifests(c *config.Cluster, _ Inputs) (Result, error) {
	var objs []Object
	for i, m := range c.Talos.ExtraInlineManifests {
		docs, err := parseManifests(m.Contents)
		if err != nil {
			return Result{}, fmt.Errorf("talos.extraInlineManifests[%d] (%s): %w", i, m.Name, err)
		}
		objs = append(objs, docs...)
	}
	return Result{Objects: objs}, nil
}

// parseManifests reads a multi-document YAML stream, skipping empty
// documents, and requires each object to say what it is.
func parseManifests(s string) ([]Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(s)))
	var out []Object
	for n := 1; ; n++ {
		var o Object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		if o == nil {
			continue
		}
		if o["apiVersion"] == nil || o["kind"] == nil {
			return nil, fmt.Errorf("document %d has no apiVersion or kind", n)
		}
		out = append(out, o)
	}
}
