package addons

// MergeValues deep-merges override over base, the way Helm merges several
// values files: maps merge key by key, anything else (lists, scalars, and
// nil) in override replaces what base has. An explicit nil is kept rather
// than deleting the key, because Helm only drops it when coalescing with the
// chart's defaults, which is how a null removes a chart default. Neither
// argument is modified; the result shares no maps with them.
func MergeValues(base, override map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(override))
	for k, v := range base {
		out[k] = copyValue(v)
	}
	for k, v := range override {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = MergeValues(bm, om)
			continue
		}
		out[k] = copyValue(v)
	}
	return out
}

// copyValue copies maps and lists so a merged result never aliases its inputs
// (the user's values are part of the parsed cluster file).
func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return MergeValues(t, nil)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}
