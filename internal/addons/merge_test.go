package addons

import (
	"reflect"
	"testing"
)

func TestMergeValues(t *testing.T) {
	base := map[string]any{
		"a": map[string]any{"x": 1, "y": map[string]any{"deep": true}},
		"l": []any{1, 2},
		"s": "base",
		"k": "kept",
	}
	override := map[string]any{
		"a": map[string]any{"y": map[string]any{"new": "v"}, "z": 3},
		"l": []any{9},
		"s": nil,
		"n": map[string]any{"added": true},
	}
	want := map[string]any{
		"a": map[string]any{"x": 1, "y": map[string]any{"deep": true, "new": "v"}, "z": 3},
		"l": []any{9}, // lists are replaced, not appended
		"s": nil,      // an explicit null is kept for Helm to drop the chart default
		"k": "kept",   // untouched keys stay
		"n": map[string]any{"added": true},
	}
	got := MergeValues(base, override)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MergeValues =\n%v\nwant\n%v", got, want)
	}
	// Neither input is changed, and the result aliases neither.
	if _, ok := base["a"].(map[string]any)["z"]; ok {
		t.Error("base was modified")
	}
	got["n"].(map[string]any)["added"] = false
	got["l"].([]any)[0] = 0
	if override["n"].(map[string]any)["added"] != true || override["l"].([]any)[0] != 9 {
		t.Error("the result shares maps or lists with override")
	}
}

func TestMergeValuesScalarOverMap(t *testing.T) {
	got := MergeValues(map[string]any{"a": map[string]any{"x": 1}}, map[string]any{"a": "flat"})
	if got["a"] != "flat" {
		t.Errorf("a = %v, want the override's scalar to replace the map", got["a"])
	}
	got = MergeValues(map[string]any{"a": "flat"}, map[string]any{"a": map[string]any{"x": 1}})
	if !reflect.DeepEqual(got["a"], map[string]any{"x": 1}) {
		t.Errorf("a = %v, want the override's map to replace the scalar", got["a"])
	}
}
