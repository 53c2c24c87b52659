package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the generated JSON Schema.
const SchemaID = "https://github.com/hcloud-k8s/hcloud-k8s/schema/cluster.json"

// Schema returns the JSON Schema of the cluster file, generated from the Go types so
// that it can never drift from what Load accepts. Defaults come from Default() and
// the per-element constructors, the same values Load fills in.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             true,
		// Strict decoding rejects unknown keys, so the schema does too.
		AllowAdditionalProperties: false,
	}
	s := r.Reflect(Cluster{})
	s.ID = SchemaID
	s.Title = "hcloud-k8s cluster file"
	s.Description = "Declarative Talos Kubernetes cluster on Hetzner Cloud (" + APIVersion + ")."
	addDefaults(s, reflect.ValueOf(Default()))
	// Patterns hold commas, which struct tags cannot carry; set them from the
	// validator's own expressions.
	setPattern(s, reClusterName.String(), "cluster", "name")
	for _, pools := range []string{"controlPlaneNodepools", "workerNodepools", "autoscalerNodepools"} {
		setPattern(s, rePoolName.String(), pools, "[]", "name")
	}
	return json.MarshalIndent(s, "", "  ")
}

// addDefaults walks the schema alongside a value holding defaults.
func addDefaults(s *jsonschema.Schema, v reflect.Value) {
	if s == nil || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for name, fv := range yamlFieldValues(v) {
			prop, ok := s.Properties.Get(name)
			if !ok {
				continue
			}
			addDefaults(prop, fv)
			setDefault(prop, fv)
		}
	case reflect.Slice:
		elem := reflect.New(v.Type().Elem()).Elem()
		if d, ok := elementDefaults(elem.Interface()); ok {
			elem = reflect.ValueOf(d)
		}
		if elem.Kind() == reflect.Struct {
			addDefaults(s.Items, elem)
		}
	}
}

func setDefault(prop *jsonschema.Schema, v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool, reflect.Int:
		prop.Default = v.Interface()
	case reflect.Int64:
		// int64 fields are Hetzner IDs, where 0 means "none", not a default to show.
		if v.Int() != 0 {
			prop.Default = v.Interface()
		}
	case reflect.String:
		if v.String() != "" {
			prop.Default = v.String()
		}
	case reflect.Slice, reflect.Map:
		if v.Len() > 0 {
			prop.Default = v.Interface()
		}
	}
}

// yamlFieldValues maps yaml keys to field values, flattening inline structs.
func yamlFieldValues(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, fv := range yamlFieldValues(v.Field(i)) {
				out[k] = fv
			}
			continue
		}
		out[name] = v.Field(i)
	}
	return out
}

// SchemaPaths lists every key path of the cluster file with its type, default and
// description, in file order: the source of the generated reference documentation.
func SchemaPaths() ([]SchemaEntry, error) {
	data, err := Schema()
	if err != nil {
		return nil, err
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("re-read schema: %w", err)
	}
	var out []SchemaEntry
	collectPaths(&s, "", &out)
	return out, nil
}

// SchemaEntry documents one key of the cluster file.
type SchemaEntry struct {
	Path, Type, Default, Description string
	Enum                             []string
	Required                         bool
}

func collectPaths(s *jsonschema.Schema, path string, out *[]SchemaEntry) {
	if s == nil || s.Properties == nil {
		return
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
		p := joinPath(path, pair.Key)
		prop := pair.Value
		e := SchemaEntry{Path: p, Type: prop.Type, Description: prop.Description, Required: required[pair.Key]}
		if prop.Type == "array" && prop.Items != nil {
			e.Type = "list of " + prop.Items.Type
		}
		if prop.Default != nil {
			b, _ := json.Marshal(prop.Default)
			e.Default = string(b)
		}
		for _, v := range prop.Enum {
			e.Enum = append(e.Enum, fmt.Sprint(v))
		}
		*out = append(*out, e)
		collectPaths(prop, p, out)
		if prop.Items != nil {
			collectPaths(prop.Items, p+"[]", out)
		}
	}
}

// setPattern sets the pattern of the property at path ("[]" steps into list items).
func setPattern(s *jsonschema.Schema, pattern string, path ...string) {
	for _, step := range path {
		if s == nil {
			return
		}
		if step == "[]" {
			s = s.Items
			continue
		}
		if s.Properties == nil {
			return
		}
		s, _ = s.Properties.Get(step)
	}
	if s != nil {
		s.Pattern = pattern
	}
}
