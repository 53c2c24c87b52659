package install

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/hcloud-k8s/hcloud-k8s/internal/addons"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/testbin"
)

// The hcloud CCM's own chart (v1.35.0, the version the module pins, from
// the source archive hack/testbin builds the CCM from) renders with the
// values hcloud-k8s computes, into what the module deploys: a DaemonSet on
// the control planes with the module's environment and the pod network.
func TestRealCCMChartRendersWithOurValues(t *testing.T) {
	path, err := testbin.FindCCMArchive(filepath.Join("..", ".."))
	if err != nil || path == "" {
		t.Fatalf("the CCM source archive %s is needed (see docs/architecture.md, %s): %v", testbin.CCMArchive, testbin.EnvCCMSource, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != testbin.CCMArchiveSHA256 {
		t.Fatalf("%s: sha256 %x, want %s", path, sum, testbin.CCMArchiveSHA256)
	}
	tgz := packChartDir(t, data, "chart/")

	c := configtest.Load(t, configtest.Demo(), nil)
	a, _ := addons.Lookup("hcloud-ccm")
	r, err := a.Render(c, addons.Inputs{HCloudToken: "t", NetworkID: 1})
	if err != nil {
		t.Fatal(err)
	}
	ref, rel, err := charts.ForAddon(r)
	if err != nil {
		t.Fatal(err)
	}
	out, err := charts.Render(context.Background(), &charts.Chart{Ref: ref, Archive: tgz}, rel, r.Values,
		charts.RenderOptions{KubeVersion: c.Kubernetes.Version})
	if err != nil {
		t.Fatalf("the real chart refuses our values: %v", err)
	}
	var ds *unstructured.Unstructured
	for _, o := range out.Objects {
		if o.GetKind() == "Deployment" {
			t.Errorf("a Deployment %s; the module runs the CCM as a DaemonSet", o.GetName())
		}
		if o.GetKind() == "DaemonSet" {
			ds = o
		}
	}
	if ds == nil || ds.GetNamespace() != "kube-system" && ds.GetNamespace() != "" {
		t.Fatalf("no DaemonSet in kube-system: %v", out.Objects)
	}
	ctrs, _, _ := unstructured.NestedSlice(ds.Object, "spec", "template", "spec", "containers")
	ctr := ctrs[0].(map[string]any)
	env := map[string]string{}
	for _, e := range ctr["env"].([]any) {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		env[m["name"].(string)] = v
	}
	net, _ := c.Layout()
	for k, want := range map[string]string{
		"HCLOUD_LOAD_BALANCERS_LOCATION":                "fsn1",
		"HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP":          "true",
		"HCLOUD_LOAD_BALANCERS_PRIVATE_SUBNET_IP_RANGE": net.LoadBalancer.String(),
		"KUBERNETES_SERVICE_HOST":                       "127.0.0.1",
	} {
		if env[k] != want {
			t.Errorf("env %s = %q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["HCLOUD_TOKEN"]; !ok {
		t.Error("no HCLOUD_TOKEN (from the hcloud Secret)")
	}
	args := append(asStrings(ctr["command"]), asStrings(ctr["args"])...)
	if !slices.Contains(args, "--cluster-cidr="+net.Pod.String()) {
		t.Errorf("command %v: want the pod network %s", args, net.Pod)
	}
	sel, _, _ := unstructured.NestedStringMap(ds.Object, "spec", "template", "spec", "nodeSelector")
	if _, ok := sel["node-role.kubernetes.io/control-plane"]; !ok {
		t.Errorf("nodeSelector %v: want the control planes", sel)
	}
}

func asStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// packChartDir loads the files below dir/ of a source tarball (whose
// entries start with one top directory) as a chart and packages it.
func packChartDir(t *testing.T, tarball []byte, dir string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var files []*archive.BufferedFile
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok := strings.Cut(h.Name, "/")
		if !ok || h.Typeflag != tar.TypeReg || !strings.HasPrefix(rest, dir) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, &archive.BufferedFile{Name: strings.TrimPrefix(rest, dir), Data: b})
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		t.Fatalf("the CCM's chart/: %v", err)
	}
	tmp := t.TempDir()
	file, err := chartutil.Save(ch, tmp)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
