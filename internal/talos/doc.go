// Package talos produces everything Talos-side that the Terraform module
// hcloud-k8s/terraform-hcloud-kubernetes (5.6.0) produces with the
// siderolabs/talos provider, using github.com/siderolabs/talos/pkg/machinery
// (pinned at v1.13.9) the same way the provider does:
//
//   - the machine secrets bundle (secrets.go): created once with the version
//     contract of talos.version, stored 0600 in the cluster's state directory,
//     loaded back, and never silently regenerated for a cluster that already
//     exists (a new bundle means new CAs, which every node would reject);
//   - one machine configuration per node (generate.go, patches*.go):
//     generate.NewInput + the module's config patches, applied with
//     configpatcher in the module's order (common → cloud-only → role →
//     the user's talos.configPatches), encoded without docs and examples, and
//     checked with machinery's own validation in cloud mode;
//   - the boot-time user_data of private-access clusters (userdata.go);
//   - the talosconfig client configuration (talosconfig.go).
//
// The patches are built as plain maps, encoded to YAML and loaded with
// configpatcher.LoadPatch, exactly as the provider loads the module's
// yamlencode()d patches, so machinery's strategic merge (list appends,
// "$patch: delete", multi-document matching by kind and name) behaves
// identically.
//
// Secret material (the bundle, the hcloud token inside HCloudVIPConfig, the
// client key of the talosconfig) is returned to the caller but never logged,
// printed or put into an error message by this package.
package talos
