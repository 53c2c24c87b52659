package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

const rbacAPIVersion = "rbac.authorization.k8s.io/v1"

// renderRBAC creates addons.rbac's Roles, then its ClusterRoles.
func renderRBAC(c *config.Cluster, _ Inputs) (Result, error) {
	var objs []Object
	for _, r := range c.Addons.RBAC.Roles {
		objs = append(objs, Object{
			"apiVersion": rbacAPIVersion, "kind": "Role",
			"metadata": metadata(r.Name, r.Namespace),
			"rules":    policyRules(r.Rules),
		})
	}
	for _, r := range c.Addons.RBAC.ClusterRoles {
		objs = append(objs, Object{
			"apiVersion": rbacAPIVersion, "kind": "ClusterRole",
			"metadata": metadata(r.Name, ""),
			"rules":    policyRules(r.Rules),
		})
	}
	return Result{Objects: objs}, nil
}

func policyRules(rules []config.PolicyRule) []any {
	out := make([]any, 0, len(rules))
	for _, r := range rules {
		out = append(out, map[string]any{
			"apiGroups": anyList(r.APIGroups),
			"resources": anyList(r.Resources),
			"verbs":     anyList(r.Verbs),
		})
	}
	return out
}

func rbacEnabled(c *config.Cluster) bool {
	return len(c.Addons.RBAC.Roles)+len(c.Addons.RBAC.ClusterRoles) > 0
}
