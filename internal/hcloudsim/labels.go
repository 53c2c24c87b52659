package hcloudsim

import (
	"maps"
	"strings"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/labelselector"
)

// validateLabels applies the API's label rules; the hetzner.cloud/ prefix is
// reserved for Hetzner itself.
func validateLabels(labels map[string]string) error {
	for k, v := range labels {
		if !labelselector.ValidKey(k) || strings.HasPrefix(k, "hetzner.cloud/") {
			return errInvalidField("labels", "label key %q is not correctly formatted", k)
		}
		if !labelselector.ValidValue(v) {
			return errInvalidField("labels", "label value %q (key: %s) is not correctly formatted", v, k)
		}
	}
	return nil
}

// labelsFrom validates an optional labels field and returns a private copy
// (never nil, so labels render as {}).
func labelsFrom(in *map[string]string) (map[string]string, error) {
	if in == nil || *in == nil {
		return map[string]string{}, nil
	}
	if err := validateLabels(*in); err != nil {
		return nil, err
	}
	return maps.Clone(*in), nil
}

func cloneLabels(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// nameTaken reports whether another resource of the kind already uses name.
func nameTaken[T listable](m map[int64]T, name string, except int64) bool {
	for id, v := range m {
		if id != except && v.base().Name == name {
			return true
		}
	}
	return false
}
