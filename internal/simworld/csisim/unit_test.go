package csisim

import (
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSizeGiB(t *testing.T) {
	for _, tc := range []struct {
		req, limit string
		want       int
		fail       bool
	}{
		{"", "", 10, false},
		{"1Gi", "", 10, false},
		{"10Gi", "", 10, false},
		{"10G", "", 10, false}, // 10e9 bytes < 10 GiB
		{"11G", "", 11, false}, // 11e9 bytes = 10.24 GiB, rounded up
		{"15Gi", "", 15, false},
		{"20Gi", "15Gi", 0, true},
		{"12Gi", "12Gi", 12, false},
	} {
		res := corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
		if tc.req != "" {
			res.Requests[corev1.ResourceStorage] = resource.MustParse(tc.req)
		}
		if tc.limit != "" {
			res.Limits[corev1.ResourceStorage] = resource.MustParse(tc.limit)
		}
		got, err := sizeGiB(res)
		if (err != nil) != tc.fail || got != tc.want {
			t.Errorf("sizeGiB(%s, limit %s) = %d, %v; want %d, fail %v", tc.req, tc.limit, got, err, tc.want, tc.fail)
		}
	}
}

func TestVolumeLabels(t *testing.T) {
	long := strings.Repeat("x", 60) + "-data-0" // 67 characters
	got, err := volumeLabels(map[string]string{
		paramPVCName: long, paramPVCNamespace: "app", paramPVName: "pvc-1",
		"labels": "team = storage,empty", "fsFormatOptions": "-i 8192",
	}, map[string]string{"cluster": "demo", "team": "ops"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"managed-by": "csi-driver", "pvc-name": strings.Repeat("x", 56) + "-data-0", "pvc-namespace": "app",
		"pv-name": "pvc-1", "cluster": "demo", "team": "storage", "empty": "",
	}
	if !maps.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
	if _, err := volumeLabels(map[string]string{"labels": "=v"}, nil); err == nil || !strings.Contains(err.Error(), "InvalidArgument") {
		t.Errorf("empty key: %v", err)
	}
	if got := truncateLabel(strings.Repeat("a", 10) + "--" + strings.Repeat("b", 62)); got != strings.Repeat("b", 62) {
		t.Errorf("truncate keeps %q", got)
	}
}

func TestSplitParameters(t *testing.T) {
	fs, params, err := splitParameters(map[string]string{
		"csi.storage.k8s.io/fstype": "xfs", "csi.storage.k8s.io/node-publish-secret-name": "s", "labels": "a=b",
	})
	if err != nil || fs != "xfs" || !maps.Equal(params, map[string]string{"labels": "a=b"}) {
		t.Errorf("got %q %v %v", fs, params, err)
	}
	if fs, _, _ := splitParameters(nil); fs != "ext4" {
		t.Errorf("default fsType %q", fs)
	}
	if _, _, err := splitParameters(map[string]string{"fstype": "xfs", "csi.storage.k8s.io/fstype": "ext4"}); err == nil {
		t.Error("both fstype keys accepted")
	}
}

func TestFlattenAndLocation(t *testing.T) {
	terms := flatten([]corev1.TopologySelectorTerm{
		{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
			{Key: topologyLocation, Values: []string{"fsn1", "nbg1"}},
			{Key: topologyProvidedBy, Values: []string{"cloud"}},
		}},
		{}, // empty terms add nothing
	})
	if len(terms) != 2 || terms[0].String() != "csi.hetzner.cloud/location=fsn1,instance.hetzner.cloud/provided-by=cloud" ||
		terms[1][topologyLocation] != "nbg1" {
		t.Fatalf("terms %v", terms)
	}
	if loc, err := locationOf(terms); err != nil || loc != "fsn1" {
		t.Errorf("location %q, %v", loc, err)
	}
	if _, err := locationOf([]term{{topologyProvidedBy: "cloud"}}); err == nil {
		t.Error("a requirement without a location was accepted")
	}
}

func TestChartPod(t *testing.T) {
	pod := func(component string, phase corev1.PodPhase, deleting bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{labelName: chartName, labelComponent: component}}}
		p.Status.Phase = phase
		if deleting {
			p.DeletionTimestamp = &metav1.Time{}
		}
		return p
	}
	if !chartPod(pod(componentController, corev1.PodRunning, false), componentController) {
		t.Error("running controller not recognised")
	}
	for name, p := range map[string]*corev1.Pod{
		"pending":  pod(componentController, corev1.PodPending, false),
		"deleting": pod(componentController, corev1.PodRunning, true),
		"node pod": pod(componentNode, corev1.PodRunning, false),
	} {
		if chartPod(p, componentController) {
			t.Errorf("%s taken for a running controller", name)
		}
	}
	other := pod(componentController, corev1.PodRunning, false)
	other.Labels[labelName] = "other-csi"
	if chartPod(other, componentController) {
		t.Error("another chart's controller taken")
	}
}

func TestConfigOf(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "csi-provisioner", Env: []corev1.EnvVar{{Name: "ENABLE_PROVIDED_BY_TOPOLOGY", Value: "true"}}},
		{Name: driverContainer, Env: []corev1.EnvVar{
			{Name: "ENABLE_PROVIDED_BY_TOPOLOGY", Value: "t"}, {Name: "HCLOUD_VOLUME_EXTRA_LABELS", Value: "a=1,b=2"},
		}},
	}}}
	cfg := configOf(p)
	if !cfg.providedBy || !maps.Equal(cfg.extraLabels, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("config %+v", cfg)
	}
	if cfg := configOf(&corev1.Pod{}); cfg.providedBy || cfg.extraLabels != nil {
		t.Errorf("empty pod config %+v", cfg)
	}
}
