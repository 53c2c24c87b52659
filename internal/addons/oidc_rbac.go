package addons

import "github.com/hcloud-k8s/hcloud-k8s/internal/config"

func oidcRBACEnabled(c *config.Cluster) bool {
	return c.Addons.OIDC.Enabled && len(c.Addons.OIDC.GroupMappings) > 0
}

// renderOIDCRBAC binds the OIDC groups of addons.oidc.groupMappings: one
// ClusterRoleBinding oidc-<role> per cluster role and one RoleBinding
// oidc-<role> per namespaced role, each with every group mapped to that role
// as subjects (with the groups prefix the API server adds). Roles appear in
// the order they are first mentioned.
func renderOIDCRBAC(c *config.Cluster, _ Inputs) (Result, error) {
	o := c.Addons.OIDC
	var clusterRoles []string
	clusterGroups := map[string][]string{}
	var roles []config.NamespacedRef
	roleGroups := map[config.NamespacedRef][]string{}
	for _, m := range o.GroupMappings {
		for _, r := range m.ClusterRoles {
			if _, seen := clusterGroups[r]; !seen {
				clusterRoles = append(clusterRoles, r)
			}
			clusterGroups[r] = append(clusterGroups[r], m.Group)
		}
		for _, r := range m.Roles {
			if _, seen := roleGroups[r]; !seen {
				roles = append(roles, r)
			}
			roleGroups[r] = append(roleGroups[r], m.Group)
		}
	}
	subjects := func(groups []string) []any {
		out := make([]any, 0, len(groups))
		for _, g := range groups {
			out = append(out, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": o.GroupsPrefix + g})
		}
		return out
	}
	roleRef := func(kind, name string) map[string]any {
		return map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}
	}
	var objs []Object
	for _, r := range clusterRoles {
		objs = append(objs, Object{
			"apiVersion": rbacAPIVersion, "kind": "ClusterRoleBinding",
			"metadata": metadata("oidc-"+r, ""),
			"roleRef":  roleRef("ClusterRole", r),
			"subjects": subjects(clusterGroups[r]),
		})
	}
	for _, r := range roles {
		objs = append(objs, Object{
			"apiVersion": rbacAPIVersion, "kind": "RoleBinding",
			"metadata": metadata("oidc-"+r.Name, r.Namespace),
			"roleRef":  roleRef("Role", r.Name),
			"subjects": subjects(roleGroups[r]),
		})
	}
	return Result{Objects: objs}, nil
}
