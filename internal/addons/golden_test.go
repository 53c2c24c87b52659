package addons

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The golden files under testdata/<addon>/ are written by hand from what the
// module sets (docs/terraform-parity.md, "Addons"), never generated from this
// package's output: they are the module's values, and a test fails when the
// code drifts from them. Each holds the chart, the values and the objects.
// To keep them readable, Secret data is compared decoded, and a decoded
// value that is a JSON object (the autoscaler's cluster config) as data;
// TestSecretDataIsBase64 checks the encoding itself.

// checkGolden compares r with testdata/<file> as data and reports every
// differing path.
func checkGolden(t *testing.T, r Result, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := yaml.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	want = withBase(t, want)
	got := normalise(t, r)
	var diffs []string
	diff("", want, got, &diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: %d differences (want vs got):\n  %s", file, len(diffs), strings.Join(diffs, "\n  "))
	}
}

// withBase lets a golden file state only how a case differs from another:
// "base: <file>" names the file whose data the rest is deep-merged over
// (lists are replaced whole, as in Helm values), and a null in the rest
// removes the key from the base.
func withBase(t *testing.T, doc any) any {
	t.Helper()
	m, ok := doc.(map[string]any)
	if !ok || m["base"] == nil {
		return doc
	}
	raw, err := os.ReadFile(filepath.Join("testdata", m["base"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	var base any
	if err := yaml.Unmarshal(raw, &base); err != nil {
		t.Fatal(err)
	}
	patch := MergeValues(m, nil)
	delete(patch, "base")
	return patchMap(withBase(t, base).(map[string]any), patch)
}

func patchMap(base, patch map[string]any) map[string]any {
	out := MergeValues(base, nil)
	for k, v := range patch {
		bm, bok := out[k].(map[string]any)
		pm, pok := v.(map[string]any)
		switch {
		case v == nil:
			delete(out, k)
		case bok && pok:
			out[k] = patchMap(bm, pm)
		default:
			out[k] = v
		}
	}
	return out
}

// normalise turns a Result into the plain data a YAML file parses into.
func normalise(t *testing.T, r Result) any {
	t.Helper()
	doc := map[string]any{}
	if r.Chart != nil {
		ch := map[string]any{
			"repository": r.Chart.Repository, "name": r.Chart.Name, "version": r.Chart.Version,
			"release": r.Chart.Release, "namespace": r.Chart.Namespace,
		}
		if r.Chart.NoHooks {
			ch["noHooks"] = true
		}
		doc["chart"] = ch
		doc["values"] = r.Values
	}
	if len(r.Objects) > 0 {
		objs := make([]any, len(r.Objects))
		for i, o := range r.Objects {
			objs[i] = decodeSecret(t, o)
		}
		doc["objects"] = objs
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func decodeSecret(t *testing.T, o Object) Object {
	t.Helper()
	data, ok := o["data"].(map[string]any)
	if o["kind"] != "Secret" || !ok {
		return o
	}
	dec := map[string]any{}
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v.(string))
		if err != nil {
			t.Fatalf("Secret data %s is not base64: %v", k, err)
		}
		var j map[string]any
		if json.Unmarshal(b, &j) == nil {
			dec[k] = j
			continue
		}
		dec[k] = string(b)
	}
	cp := MergeValues(o, nil)
	cp["data"] = dec
	return cp
}

// diff appends "path: want X, got Y" for every leaf where want and got differ.
func diff(path string, want, got any, out *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want a map, got %s", orRoot(path), show(got)))
			return
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, wok := w[k]
			gv, gok := g[k]
			p := path + "." + k
			switch {
			case !gok:
				*out = append(*out, fmt.Sprintf("%s: missing (want %s)", p, show(wv)))
			case !wok:
				*out = append(*out, fmt.Sprintf("%s: unexpected %s", p, show(gv)))
			default:
				diff(p, wv, gv, out)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: want a list, got %s", orRoot(path), show(got)))
			return
		}
		if len(w) != len(g) {
			*out = append(*out, fmt.Sprintf("%s: want %d elements, got %d: %s", orRoot(path), len(w), len(g), show(got)))
			return
		}
		for i := range w {
			diff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], out)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			*out = append(*out, fmt.Sprintf("%s: want %s, got %s", orRoot(path), show(want), show(got)))
		}
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%s (%T)", b, v)
}
