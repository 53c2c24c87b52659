package simworld

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/siderolabs/talos/pkg/machinery/config"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations a kubelet puts on the mirror pod of a static pod.
const (
	annotationConfigMirror = "kubernetes.io/config.mirror"
	annotationConfigHash   = "kubernetes.io/config.hash"
	annotationConfigSeen   = "kubernetes.io/config.seen"
	annotationConfigSource = "kubernetes.io/config.source"
)

// staticPod is a control-plane component Talos runs as a static pod on a
// control-plane node.
type staticPod struct {
	component string // kube-apiserver, …: the binary and the pod's name prefix
	image     string
}

// staticPods are the control plane's static pods with the images of the
// machine configuration (registry.k8s.io/<component>:<kubelet version>
// when it names none).
func staticPods(cfg config.Provider) []staticPod {
	c := cfg.Cluster()
	version := kubeletVersion(cfg)
	var images [3]string
	if c != nil {
		if a := c.APIServer(); a != nil {
			images[0] = a.Image()
		}
		if m := c.ControllerManager(); m != nil {
			images[1] = m.Image()
		}
		if s := c.Scheduler(); s != nil {
			images[2] = s.Image()
		}
	}
	pods := []staticPod{{component: "kube-apiserver"}, {component: "kube-controller-manager"}, {component: "kube-scheduler"}}
	for i := range pods {
		pods[i].image = images[i]
		if pods[i].image == "" {
			pods[i].image = "registry.k8s.io/" + pods[i].component + ":" + version
		}
	}
	return pods
}

// ensureMirrorPods creates the mirror pods of the node's static pods that
// are missing, as the kubelet does for the static pods Talos writes (again
// when one was deleted). They then start like any host-network pod.
func (k *kubelet) ensureMirrorPods(ctx context.Context, nk *nodeKubelet, node *corev1.Node, pods []*corev1.Pod) {
	have := map[string]bool{}
	for _, p := range pods {
		if p.Namespace == metav1.NamespaceSystem {
			have[p.Name] = true
		}
	}
	version := strings.TrimPrefix(kubeletVersion(nk.cfg), "v")
	for _, sp := range staticPods(nk.cfg) {
		p := mirrorPod(sp, node, version, k.w.clock.Now())
		if have[p.Name] {
			continue
		}
		_, err := k.cs.CoreV1().Pods(metav1.NamespaceSystem).Create(ctx, p, metav1.CreateOptions{FieldManager: kubeletFieldManager})
		if err != nil && !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
			k.w.logf("simworld: %s: node %s: create mirror pod %s: %v", k.c.name, node.Name, p.Name, err)
		}
	}
}

// mirrorPod is the API's copy of a static pod on node, with the labels
// Talos gives its control-plane pods and the annotations and owner (the
// Node) a kubelet gives a mirror pod.
func mirrorPod(sp staticPod, node *corev1.Node, version string, now time.Time) *corev1.Pod {
	sum := sha256.Sum256([]byte(node.Name + "\x00" + sp.component + "\x00" + sp.image))
	hash := hex.EncodeToString(sum[:16])
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      sp.component + "-" + node.Name,
			Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{
				"k8s-app":                      sp.component,
				"tier":                         "control-plane",
				"component":                    sp.component,
				"app.kubernetes.io/name":       sp.component,
				"app.kubernetes.io/component":  "control-plane",
				"app.kubernetes.io/managed-by": "Talos",
				"app.kubernetes.io/version":    version,
			},
			Annotations: map[string]string{
				annotationConfigMirror: hash,
				annotationConfigHash:   hash,
				annotationConfigSeen:   now.UTC().Format(time.RFC3339Nano),
				annotationConfigSource: "file",
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: new(true),
			}},
		},
		Spec: corev1.PodSpec{
			NodeName:          node.Name,
			HostNetwork:       true,
			PriorityClassName: "system-cluster-critical",
			// What a kubelet adds to every static pod: it stays on its node.
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
			Containers: []corev1.Container{{
				Name: sp.component, Image: sp.image, Command: []string{"/usr/local/bin/" + sp.component},
			}},
		},
	}
}
