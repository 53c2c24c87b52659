package formation

import (
	"context"
	"fmt"
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

// waitNodesReady waits until the API server lists every node, Ready.
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
		ready, lastErr := 0, error(nil)
		list, err := api.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			lastErr = err
		} else {
			for _, n := range list.Items {
				if want[n.Name] && isReady(&n) {
					ready++
				}
			}
		}
		if ready != last && lastErr == nil {
			s.say("  %d of %d nodes Ready", ready, len(want))
			last = ready
		}
		if ready == len(want) {
			return nil
		}
		if s.expired(deadline) {
			if lastErr != nil {
				return fmt.Errorf("the Kubernetes API at %s did not answer within %s: %w", api.host, s.in.Timeout, lastErr)
			}
			return fmt.Errorf("%d of %d nodes Ready after %s", ready, len(want), s.in.Timeout)
		}
		if err := s.sleep(ctx); err != nil {
			return err
		}
	}
}

func isReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
