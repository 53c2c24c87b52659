package addons

import (
	"encoding/base64"
	"sort"
)

// Plain objects are built as maps in the shape they are written in YAML, so
// that they can be applied as unstructured objects without a scheme.

const kubeSystem = "kube-system"

func metadata(name, namespace string) map[string]any {
	m := map[string]any{"name": name}
	if namespace != "" {
		m["namespace"] = namespace
	}
	return m
}

// secret is an Opaque Secret. Values go to data (base64) rather than
// stringData: stringData is write-only, so a key removed from it would never
// be removed from the stored Secret by server-side apply.
func secret(name, namespace string, data map[string]string) Object {
	d := make(map[string]any, len(data))
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d[k] = base64.StdEncoding.EncodeToString([]byte(data[k]))
	}
	return Object{
		"apiVersion": "v1",
		"kind":       "Secret",
		"type":       "Opaque",
		"metadata":   metadata(name, namespace),
		"data":       d,
	}
}

func namespace(name string, labels map[string]string) Object {
	md := metadata(name, "")
	if len(labels) > 0 {
		l := make(map[string]any, len(labels))
		for k, v := range labels {
			l[k] = v
		}
		md["labels"] = l
	}
	return Object{"apiVersion": "v1", "kind": "Namespace", "metadata": md}
}

// anyList converts a string slice for values maps, which hold []any like
// parsed YAML does.
func anyList(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
