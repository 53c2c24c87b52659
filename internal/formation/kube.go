package formation

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// rewriteServer points every cluster of a kubeconfig at url, as the module's
// kubeconfig output does: Talos writes the internal endpoint (the private VIP),
// which only works inside the network.
func rewriteServer(kubeconfig []byte, url string) ([]byte, error) {
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig Talos returned: %w", err)
	}
	for _, cl := range cfg.Clusters {
		cl.Server = url
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("write kubeconfig: %w", err)
	}
	return out, nil
}

// kubeAPI is a client of the cluster's Kubernetes API, through the
// kubeconfig users get.
type kubeAPI struct {
	cs   kubernetes.Interface
	host string
}

func newKubeAPI(kubeconfig []byte) (*kubeAPI, error) {
	rc, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	rc.Timeout = 10 * time.Second
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &kubeAPI{cs: cs, host: rc.Host}, nil
}

func (s *State) kube() (*kubeAPI, error) {
	if s.api == nil {
		api, err := newKubeAPI(s.Result.Kubeconfig)
		if err != nil {
			return nil, err
		}
		s.api = api
	}
	return s.api, nil
}

// waitAPI waits until the Kubernetes API answers through the kubeconfig.
func waitForAPI(ctx context.Context, s *State) error {
	api, err := s.kube()
	if err != nil {
		return err
	}
	deadline := s.deadline()
	for {
		_, err := api.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err == nil {
			return nil
		}
		if s.expired(deadline) {
			return fmt.Errorf("the Kubernetes API at %s did not answer within %s: %w", api.host, s.in.Timeout, err)
		}
		if err := s.sleep(ctx); err != nil {
			return err
		}
	}
}

// waitForNodes waits until the API server lists every node Ready and
// initialised by the cloud controller manager (its uninitialized taint
// gone): only then can ordinary pods run on it.
func waitForNodes(ctx context.Context, s *State) error {
	api, err := s.kube()
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range s.in.Nodes {
		want[n.Name] = true
	}
	deadline := s.deadline()
	last := -1
	for {
		var lastErr error
		waiting := map[string]string{}
		for name := range want {
			waiting[name] = "not registered yet"
		}
		list, err := api.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			lastErr = err
		} else {
			for i := range list.Items {
				n := &list.Items[i]
				if !want[n.Name] {
					continue
				}
				if why := nodeNotReady(n); why != "" {
					waiting[n.Name] = why
				} else {
					delete(waiting, n.Name)
				}
			}
		}
		ready := len(want) - len(waiting)
		if ready != last && lastErr == nil {
			s.say("  %d of %d nodes Ready%s", ready, len(want), firstWaiting(waiting))
			last = ready
		}
		if len(waiting) == 0 {
			return nil
		}
		if s.expired(deadline) {
			if lastErr != nil {
				return fmt.Errorf("the Kubernetes API at %s did not answer within %s: %w", api.host, s.in.Timeout, lastErr)
			}
			return fmt.Errorf("%d of %d nodes Ready after %s; %s", ready, len(want), s.in.Timeout, describeWaiting(waiting))
		}
		if err := s.sleep(ctx); err != nil {
			return err
		}
	}
}

// uninitializedTaint is the taint a kubelet with an external cloud provider
// registers with, removed by the cloud controller manager once it set the
// node's provider ID and addresses.
const uninitializedTaint = "node.cloudprovider.kubernetes.io/uninitialized"

// nodeNotReady says why n cannot run ordinary pods yet, "" when it can.
func nodeNotReady(n *corev1.Node) string {
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status != corev1.ConditionTrue {
				return "NotReady: " + conditionText(c)
			}
			ready = true
		}
	}
	if !ready {
		return "NotReady: no Ready condition yet"
	}
	for _, t := range n.Spec.Taints {
		if t.Key == uninitializedTaint {
			return "not initialised by the cloud controller manager (taint " + uninitializedTaint + ")"
		}
	}
	return ""
}

func conditionText(c corev1.NodeCondition) string {
	switch {
	case c.Reason != "" && c.Message != "":
		return c.Reason + ", " + c.Message
	case c.Message != "":
		return c.Message
	}
	return c.Reason
}

// firstWaiting names one node still waited for, in the progress line.
func firstWaiting(waiting map[string]string) string {
	if len(waiting) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(waiting))
	return fmt.Sprintf("; waiting for %s: %s", names[0], waiting[names[0]])
}

// describeWaiting names every node not ready, with why.
func describeWaiting(waiting map[string]string) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(waiting)) {
		parts = append(parts, name+" "+waiting[name])
	}
	return strings.Join(parts, "; ")
}
