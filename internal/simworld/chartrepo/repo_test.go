package chartrepo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hcloud-k8s/hcloud-k8s/internal/config"
)

// pins are the chart pins of the cluster file's defaults, which the
// repository must serve under exactly these names and versions.
func pins() []config.Chart {
	a := config.Default().Addons
	return []config.Chart{
		a.Cilium.Chart, a.HcloudCCM.Chart, a.HcloudCSI.Chart, a.TalosCCM.Chart, a.MetricsServer.Chart,
		a.CertManager.Chart, a.CertManagerWebhookHetzner.Chart, a.Longhorn.Chart, a.IngressNginx.Chart,
		a.ClusterAutoscaler.Chart,
	}
}

func TestChartsAreThePinnedOnes(t *testing.T) {
	archives, err := Archives()
	if err != nil {
		t.Fatal(err)
	}
	var have, want []string
	for _, a := range archives {
		have = append(have, a.Name+"@"+a.Version)
	}
	for _, p := range pins() {
		want = append(want, p.Name+"@"+p.Version)
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("charts %v, want the pinned %v", have, want)
	}
}

// The same embedded files give the same bytes: the charts package records
// an archive's digest at first download and refuses a different one.
func TestArchivesAreDeterministic(t *testing.T) {
	a, err := Archives()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Archives()
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s: two packagings differ", a[i].FileName())
		}
	}
}

// Every pinned chart comes through each kind of mirror the fetcher takes,
// byte for byte what was packaged.
func TestEveryChartThroughEveryMirror(t *testing.T) {
	repo := startRepo(t, Options{})
	dir := t.TempDir()
	if err := WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for _, a := range repo.Archives() {
		want[a.Name] = a.Data
	}
	for _, mirror := range []string{repo.HTTPURL(), repo.OCIURL(), dir} {
		f := fetcher(t, mirror)
		for _, p := range pins() {
			ref := charts.Ref{Addon: p.Name, Repository: p.Repository, Name: p.Name, Version: p.Version}
			ch, err := f.Fetch(context.Background(), ref)
			if err != nil {
				t.Errorf("mirror %s: %v", mirror, err)
				continue
			}
			if !bytes.Equal(ch.Archive, want[p.Name]) {
				t.Errorf("mirror %s: %s differs from the archive packaged", mirror, p.Name)
			}
		}
	}
}

func TestMissingVersionIsNotFound(t *testing.T) {
	repo := startRepo(t, Options{Charts: []string{"cilium"}})
	for _, mirror := range []string{repo.HTTPURL(), repo.OCIURL()} {
		f := fetcher(t, mirror)
		for _, ref := range []charts.Ref{
			{Repository: "https://helm.cilium.io", Name: "cilium", Version: "9.9.9"},
			// Left out by Options.Charts.
			{Repository: "https://charts.hetzner.cloud", Name: "hcloud-csi", Version: "2.22.1"},
		} {
			if _, err := f.Fetch(context.Background(), ref); !errorsIs(err, charts.ErrNotFound) {
				t.Errorf("mirror %s, %s: error %v, want ErrNotFound", mirror, ref, err)
			}
		}
	}
}

func TestExtraChartIsServed(t *testing.T) {
	archives, err := Archives("talos-cloud-controller-manager")
	if err != nil {
		t.Fatal(err)
	}
	// An extra with the name and version of one of ours replaces it
	// rather than being listed twice.
	repo := startRepo(t, Options{Charts: []string{"cilium"}, Extra: [][]byte{archives[0].Data}})
	if n := len(repo.Archives()); n != 2 {
		t.Fatalf("%d archives, want cilium and the extra one", n)
	}
	resp, err := http.Get(repo.HTTPURL() + "/index.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	index, _ := io.ReadAll(resp.Body)
	if !bytes.Contains(index, []byte("talos-cloud-controller-manager-0.5.5.tgz")) {
		t.Errorf("index does not list the extra chart:\n%s", index)
	}
	if _, err := Start(context.Background(), Options{Extra: [][]byte{[]byte("not a chart")}}); err == nil {
		t.Error("an extra that is no chart archive was accepted")
	}
}

func TestCloseAndContextStopTheServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	repo, err := Start(ctx, Options{Charts: []string{"metrics-server"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(repo.HTTPURL() + "/index.yaml"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	cancel()
	repo.Close() // waits; a second Close after the context's is harmless
	if resp, err := http.Get(repo.HTTPURL() + "/index.yaml"); err == nil {
		resp.Body.Close()
		t.Error("the repository still answers after its context ended")
	}
}
