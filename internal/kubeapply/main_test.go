package kubeapply

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/kubesim"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The tests that need a cluster share one real kube-apiserver (start-up
// costs seconds); each test uses its own addon names, namespaces and CRD
// group, so they do not see each other's objects.
var shared struct {
	once sync.Once
	srv  *kubesim.APIServer
	cfg  *rest.Config
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "kubeapply: stopping the test API server:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// cluster is a test's view of the shared API server.
type cluster struct {
	cfg     *rest.Config
	kube    *kubernetes.Clientset
	dynamic *dynamic.DynamicClient
}

// testCluster returns the shared API server, starting it on first use. A
// missing kube-apiserver or etcd fails the test with the instruction to
// build them, as internal/kubesim's own tests do (and, like them, skips it
// under -short).
func testCluster(t *testing.T) *cluster {
	t.Helper()
	if err := kubesim.CheckBinaries(""); err != nil {
		if testing.Short() {
			t.Skipf("-short and no test binaries: %v", err)
		}
		t.Fatal(err)
	}
	shared.once.Do(func() {
		// The server lives as long as Start's context, so it gets one that
		// is never cancelled; TestMain stops it.
		shared.srv, shared.err = kubesim.Start(context.Background(), kubesim.Options{})
		if shared.err == nil {
			shared.cfg, shared.err = shared.srv.AdminClient()
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	c := &cluster{cfg: shared.cfg}
	var err error
	if c.kube, err = kubernetes.NewForConfig(c.cfg); err != nil {
		t.Fatal(err)
	}
	if c.dynamic, err = dynamic.NewForConfig(c.cfg); err != nil {
		t.Fatal(err)
	}
	return c
}

// applier returns an Applier on c that polls fast, so waits in tests take
// milliseconds rather than seconds.
func (c *cluster) applier(t *testing.T) *Applier {
	t.Helper()
	a, err := New(c.cfg, Options{PollInterval: 50 * time.Millisecond, EstablishTimeout: 30 * time.Second, HookTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
