package lifecycle

import (
	"slices"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/procedure"
)

func stepNames[S any](steps []procedure.Step[S]) []string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Name
	}
	return names
}

// The procedures read as their lists: a new stage (remove nodes, addons) is a
// new entry here.
func TestProceduresAreTheseSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"apply", stepNames(applySteps(Deps{})), []string{
			"lock", "observe", "image", "drain removed workers", "remove control planes", "infrastructure", "delete removed nodes",
			"prepare formation", "generate configurations", "configure nodes", "update running nodes",
			"bootstrap", "wait for etcd", "get kubeconfig", "wait for API",
			"save credentials", "install addons", "wait for nodes", "install remaining addons", "state marker", "report",
		}},
		{"apply --infrastructure-only", stepNames(applySteps(Deps{InfrastructureOnly: true})), []string{
			"lock", "observe", "image", "drain removed workers", "remove control planes", "infrastructure", "delete removed nodes", "report",
		}},
		{"destroy", stepNames(destroySteps()), []string{"lock", "observe", "confirm", "release", "delete", "verify"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s runs %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
