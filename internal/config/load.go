package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds what Load reads; a cluster file is a few kilobytes.
const MaxFileSize = 4 << 20

// Load reads, decodes and validates the cluster file at path.
func Load(path string) (*Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cluster file %s not found (create one with `hcloud-k8s init`, or pass -f): %w", path, err)
		}
		return nil, fmt.Errorf("open cluster file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read cluster file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("cluster file %s is larger than %d bytes", path, MaxFileSize)
	}
	return Parse(data, path)
}

// Parse decodes and validates a cluster file. file names it in messages. The
// returned error is an Errors value listing every problem when the file is invalid:
// keys that cannot be decoded are set aside (their defaults stay) so that the rest of
// the file is still validated in the same run.
func Parse(data []byte, file string) (*Cluster, error) {
	root, err := parseYAML(data, file)
	if err != nil {
		return nil, err
	}
	w := walker{lines: map[string]int{}}
	w.check(root, reflect.TypeFor[Cluster](), "")
	c := Default()
	if err := root.Decode(&c); err != nil {
		// The walker sets aside whatever would not decode, so this is a bug in the
		// walker; report it as a file error rather than failing obscurely.
		return nil, Errors{{File: file, Msg: "cannot decode: " + err.Error()}}
	}
	var v validator
	v.all(&c)
	for _, e := range v.errs.errs {
		if !overlapsAny(e.Path, w.errs.errs) {
			w.errs.errs = append(w.errs.errs, e)
		}
	}
	if err := w.errs.finish(file, w.lines); err != nil {
		return nil, err
	}
	return &c, nil
}

// overlapsAny reports whether path is, contains or lies inside the path of an
// error already reported; validating a value that failed to decode (and was left at
// its default) would only produce a misleading second message.
func overlapsAny(path string, errs Errors) bool {
	for _, e := range errs {
		if within(path, e.Path) || within(e.Path, path) {
			return true
		}
	}
	return false
}

func within(path, ancestor string) bool {
	if ancestor == "" || path == ancestor {
		return path == ancestor
	}
	return strings.HasPrefix(path, ancestor) && (path[len(ancestor)] == '.' || path[len(ancestor)] == '[')
}

// parseYAML reads the single YAML document of a cluster file and returns its root
// mapping; anything else is a fatal error.
func parseYAML(data []byte, file string) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "the file is empty; start from `hcloud-k8s init`"}}
		}
		return nil, Errors{{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, Errors{{File: file, Line: extra.Line, Msg: "the file holds more than one YAML document; put the cluster in one"}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: root.Line, Msg: "the file must be a YAML mapping with apiVersion, kind, cluster, controlPlaneNodepools, ..."}}
	}
	return root, nil
}

// walker checks a YAML tree against the Go types before anything is decoded, because
// yaml.v3 stops at the first unknown key and names no field path. Whatever it finds
// wrong it removes from the tree, so that the rest can still be decoded.
type walker struct {
	errs  errorList
	lines map[string]int
	depth int
}

const maxDepth = 64

// check reports problems under path and returns false when the node itself is
// unusable, so the caller must drop it. Problems deeper down are removed at their own
// level, except inside lists: dropping one item would shift the indices of the rest,
// so a list with an unusable item is dropped whole.
func (w *walker) check(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind == yaml.AliasNode {
		w.errs.addLine(n.Line, path, "YAML aliases (*name) are not supported in cluster files; write the value out")
		return false
	}
	if path != "" {
		if _, seen := w.lines[path]; !seen {
			w.lines[path] = n.Line
		}
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		w.errs.addLine(n.Line, path, "nested too deeply")
		return false
	}
	if isNull(n) {
		return true // null means "unset": the default (or nil) stays
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.checkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.errs.addLine(n.Line, path, "expected a list, got %s", describe(n))
			return false
		}
		ok := true
		for i, item := range n.Content {
			ok = w.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) && ok
		}
		return ok
	case reflect.Map:
		return w.checkMap(n, t, path)
	case reflect.Interface:
		return true // free-form
	}
	return w.checkScalar(n, t, path)
}

func (w *walker) checkMap(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.MappingNode {
		w.errs.addLine(n.Line, path, "expected a mapping of keys to values, got %s", describe(n))
		return false
	}
	seen := map[string]bool{}
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.errs.addLine(k.Line, path, "map keys must be plain strings")
			continue
		}
		p := joinPath(path, k.Value)
		if seen[k.Value] {
			w.errs.addLine(k.Line, p, "key appears twice")
			continue
		}
		seen[k.Value] = true
		w.lines[p] = k.Line
		// Free-form values (Helm values, patches) are not ours to check.
		if t.Elem().Kind() == reflect.Interface || w.check(v, t.Elem(), p) {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
	return true
}

func (w *walker) checkStruct(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.MappingNode {
		w.errs.addLine(n.Line, path, "expected a mapping with keys %s, got %s", strings.Join(fieldNames(t), ", "), describe(n))
		return false
	}
	fields := structFields(t)
	names := fieldNames(t)
	seen := map[string]bool{}
	// Null values are dropped: null means "unset", so the default stays. Without this,
	// `network:` with every child commented out would zero the whole section.
	kept := n.Content[:0:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.errs.addLine(k.Line, path, "keys must be plain strings")
			continue
		}
		p := joinPath(path, k.Value)
		f, ok := fields[k.Value]
		if !ok {
			w.errs.addLine(k.Line, p, "%s", unknownKeyMessage(k.Value, path, names))
			continue
		}
		if seen[k.Value] {
			w.errs.addLine(k.Line, p, "key appears twice")
			continue
		}
		seen[k.Value] = true
		w.lines[p] = k.Line
		if w.check(v, f.Type, p) && !isNull(v) {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
	return true
}

// unknownKeyMessage explains an unknown key: where a Terraform variable went, or the
// nearest valid key, or the list of valid keys.
func unknownKeyMessage(key, path string, names []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if to, ok := TerraformVariables[key]; ok && path == "" {
		return msg + fmt.Sprintf("; %s is a variable of the Terraform module, in the cluster file it is %s", key, to)
	}
	if why, ok := TerraformVariablesNotCarried[key]; ok && path == "" {
		return msg + fmt.Sprintf("; %s is a variable of the Terraform module without a cluster file key: %s", key, why)
	}
	if s := suggest(key, names); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	return msg + "; valid keys here: " + strings.Join(names, ", ")
}

func (w *walker) checkScalar(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.ScalarNode {
		w.errs.addLine(n.Line, path, "expected a single %s value, got %s", kindName(t), describe(n))
		return false
	}
	switch t.Kind() {
	case reflect.Bool:
		if n.ShortTag() != "!!bool" {
			w.errs.addLine(n.Line, path, "expected true or false, got %q", n.Value)
			return false
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.ShortTag() != "!!int" {
			w.errs.addLine(n.Line, path, "expected a whole number, got %q", n.Value)
			return false
		}
		if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, t.Bits()); err != nil {
			w.errs.addLine(n.Line, path, "number %s is out of range", n.Value)
			return false
		}
	case reflect.String:
		if n.ShortTag() == "!!binary" {
			w.errs.addLine(n.Line, path, "expected text, got binary data")
			return false
		}
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true/false"
	case reflect.String:
		return "text"
	}
	return "number"
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// structFields maps the yaml keys of t (inline embedded structs flattened) to fields.
func structFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range structFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	fields := structFields(t)
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
