package simworld

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
)

// ccmPodLabel is the label the hcloud CCM chart gives its pods (its
// selectorLabels: app.kubernetes.io/name is the chart's name).
const (
	ccmPodLabelKey   = "app.kubernetes.io/name"
	ccmPodLabelValue = "hcloud-cloud-controller-manager"
)

// ccmRetry is how long (real time) the runner waits before starting a CCM
// again after a start failed, as a crash-looping pod would be restarted.
const ccmRetry = 2 * time.Second

// ccmRunner runs the real hcloud-cloud-controller-manager for a cluster
// while the CCM addon's pod runs in it: that pod's container cannot run here,
// so the world runs the binary in its place, with the pod's settings, against
// the simulator. Without the pod, no CCM runs and the nodes stay
// uninitialised, as on Hetzner.
type ccmRunner struct {
	w   *TalosWorld
	c   *worldCluster
	api *kubesim.APIServer
	cs  kubernetes.Interface

	running     *kubesim.CCM
	fingerprint string    // of the settings running was started with
	failedAt    time.Time // last failed start (real time)
}

// ccmSettings are what the CCM pod would run with.
type ccmSettings struct {
	pod         string
	token       string
	network     string
	clusterCIDR string
	env         []string // NAME=value, sorted, without the ones the world sets
}

func (s ccmSettings) fingerprint() string {
	return strings.Join(append([]string{s.token, s.network, s.clusterCIDR}, s.env...), "\x00")
}

// runCCM follows the cluster's CCM pod until the world closes.
func (w *TalosWorld) runCCM(c *worldCluster, api *kubesim.APIServer) {
	cs, ok := w.clusterClient(c, api, "simworld-ccm-runner")
	if !ok {
		return
	}
	r := &ccmRunner{w: w, c: c, api: api, cs: cs}
	defer r.stop("the world closes")
	t := time.NewTicker(4 * w.opts.KubeletInterval)
	defer t.Stop()
	for {
		r.sync(w.ctx)
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sync starts, restarts or stops the CCM to match the cluster's CCM pod.
func (r *ccmRunner) sync(ctx context.Context) {
	pod, err := r.findPod(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.w.logf("simworld: %s: CCM runner: %v", r.c.name, err)
		}
		return
	}
	if pod == nil {
		r.stop("its pod is gone")
		return
	}
	s, err := r.settings(ctx, pod)
	if err != nil {
		r.stop("its settings cannot be read")
		r.w.logf("simworld: %s: CCM pod %s: %v", r.c.name, pod.Name, err)
		return
	}
	if r.running != nil && s.fingerprint() == r.fingerprint {
		return
	}
	if time.Since(r.failedAt) < ccmRetry {
		return
	}
	r.stop("its settings changed")
	r.start(ctx, s)
}

// findPod returns a pod of the CCM chart whose containers run, or nil.
func (r *ccmRunner) findPod(ctx context.Context) (*corev1.Pod, error) {
	pods, err := r.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: ccmPodLabelKey + "=" + ccmPodLabelValue})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		// Its containers, not the pod's Ready condition: the node lifecycle
		// controller marks the pods of a NotReady node not Ready, and the
		// CCM runs on nodes that wait for it.
		if p.DeletionTimestamp == nil && containersReady(p) {
			return p, nil
		}
	}
	return nil, nil
}

// worldEnv are the variables the world sets itself (kubesim's ccmEnv) and
// a pod's value of which must not override: they keep the CCM on loopback
// and off the metadata service, or point it at the API server through
// KubePrism, which the world's kubeconfig replaces.
var worldEnv = []string{
	"HCLOUD_TOKEN", "HCLOUD_ENDPOINT", "HCLOUD_NETWORK", "HCLOUD_NETWORK_DISABLE_ATTACHED_CHECK",
	"HCLOUD_METRICS_ADDRESS", "HCLOUD_DEBUG", "ROBOT_ENABLED", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
}

// settings reads the pod's container environment (values and Secret
// references, resolved as the kubelet would) and its --cluster-cidr.
func (r *ccmRunner) settings(ctx context.Context, pod *corev1.Pod) (ccmSettings, error) {
	s := ccmSettings{pod: pod.Namespace + "/" + pod.Name}
	if len(pod.Spec.Containers) == 0 {
		return s, fmt.Errorf("no containers")
	}
	ctr := pod.Spec.Containers[0]
	secrets := map[string]*corev1.Secret{}
	for _, e := range ctr.Env {
		v, err := r.resolve(ctx, pod.Namespace, e, secrets)
		if err != nil {
			return s, err
		}
		switch {
		case e.Name == "HCLOUD_TOKEN":
			s.token = v
		case e.Name == "HCLOUD_NETWORK":
			s.network = v
		case !slices.Contains(worldEnv, e.Name):
			s.env = append(s.env, e.Name+"="+v)
		}
	}
	if s.token == "" {
		return s, fmt.Errorf("HCLOUD_TOKEN is empty: the CCM would exit")
	}
	for _, a := range append(slices.Clone(ctr.Command), ctr.Args...) {
		if v, ok := strings.CutPrefix(a, "--cluster-cidr="); ok {
			s.clusterCIDR = v
		}
	}
	slices.Sort(s.env)
	return s, nil
}

// resolve is one env entry's value: a literal or a Secret key (a missing
// Secret or key is an error unless the reference is optional, as for the
// kubelet, which would not start the container).
func (r *ccmRunner) resolve(ctx context.Context, ns string, e corev1.EnvVar, cache map[string]*corev1.Secret) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	ref := e.ValueFrom.SecretKeyRef
	if ref == nil {
		return "", nil // field and resource references: none the CCM needs
	}
	sec, ok := cache[ref.Name]
	if !ok {
		var err error
		sec, err = r.cs.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			if ref.Optional != nil && *ref.Optional {
				return "", nil
			}
			return "", fmt.Errorf("env %s: Secret %s/%s: %w", e.Name, ns, ref.Name, err)
		}
		cache[ref.Name] = sec
	}
	v, ok := sec.Data[ref.Key]
	if !ok && (ref.Optional == nil || !*ref.Optional) {
		return "", fmt.Errorf("env %s: Secret %s/%s has no key %s", e.Name, ns, ref.Name, ref.Key)
	}
	return string(v), nil
}

func (r *ccmRunner) start(ctx context.Context, s ccmSettings) {
	kubeconfig, err := r.api.Kubeconfig("")
	if err != nil {
		r.w.logf("simworld: %s: CCM kubeconfig: %v", r.c.name, err)
		return
	}
	opts := kubesim.CCMOptions{
		BinDir: r.w.opts.KubeBinDir, Kubeconfig: kubeconfig,
		Token: s.token, Endpoint: r.w.sim.Endpoint(), Network: s.network, ClusterCIDR: s.clusterCIDR,
		ExtraEnv: s.env,
	}
	if r.w.opts.KubeLogDir != "" {
		opts.LogDir = r.w.opts.KubeLogDir + "/" + r.c.name
	}
	r.w.logf("simworld: %s: CCM pod %s runs: starting hcloud-cloud-controller-manager", r.c.name, s.pod)
	ccm, err := kubesim.StartCCM(ctx, opts)
	if err != nil {
		r.failedAt = time.Now()
		if ctx.Err() == nil {
			r.w.logf("simworld: %s: hcloud-cloud-controller-manager did not start (retrying): %v", r.c.name, err)
		}
		return
	}
	r.running, r.fingerprint = ccm, s.fingerprint()
	r.w.logf("simworld: %s: hcloud-cloud-controller-manager running (log %s)", r.c.name, ccm.LogFile())
}

func (r *ccmRunner) stop(why string) {
	if r.running == nil {
		return
	}
	if err := r.running.Stop(); err != nil {
		r.w.logf("simworld: %s: stop hcloud-cloud-controller-manager: %v", r.c.name, err)
	}
	r.w.logf("simworld: %s: hcloud-cloud-controller-manager stopped: %s", r.c.name, why)
	r.running, r.fingerprint = nil, ""
}
