package charts

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// parseObjects parses a multi-document YAML stream, skipping empty
// documents (templates that rendered to nothing or only comments).
func parseObjects(data []byte, where string) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read document %d: %w", where, i, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", where, i, err)
		}
		if t := strings.TrimSpace(string(js)); t == "null" || t == "{}" || t == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", where, i, err)
		}
		out = append(out, u)
	}
}

func isCRD(o *unstructured.Unstructured) bool {
	return o.GetKind() == "CustomResourceDefinition" && strings.HasPrefix(o.GetAPIVersion(), "apiextensions.k8s.io/")
}

func sortByName(objs []*unstructured.Unstructured) {
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return cmp.Compare(a.GetName(), b.GetName())
	})
}

// sortInstallOrder orders objects as Helm installs them (its kind order,
// unknown kinds last by kind), then by namespace and name, so the order
// does not depend on template file names.
func sortInstallOrder(objs []*unstructured.Unstructured) {
	slices.SortStableFunc(objs, compareInstallOrder)
}

func compareInstallOrder(a, b *unstructured.Unstructured) int {
	return cmp.Or(
		cmp.Compare(kindRank(a.GetKind()), kindRank(b.GetKind())),
		strings.Compare(a.GetKind(), b.GetKind()),
		strings.Compare(a.GetAPIVersion(), b.GetAPIVersion()),
		strings.Compare(a.GetNamespace(), b.GetNamespace()),
		strings.Compare(a.GetName(), b.GetName()),
	)
}

func kindRank(kind string) int {
	if i := slices.Index(releaseutil.InstallOrder, kind); i >= 0 {
		return i
	}
	return len(releaseutil.InstallOrder)
}
