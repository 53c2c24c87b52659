package kubesim

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

// The API server reaches the cluster network (admission webhooks and
// aggregated APIs behind Services, kubelets for logs and exec) through its
// "cluster" egress selection. In the local world that network is data:
// pod, service and node addresses are 10.x addresses that must never be
// dialed. So the API server is configured to send all such traffic through
// an HTTP CONNECT proxy on a Unix socket (a TCP proxy would need TLS client
// certificates), which refuses every target, as an
// unreachable pod network would: a webhook with failurePolicy Fail then
// fails, an APIService stays unavailable, exactly as when its pods do not
// answer on a real cluster.

// clusterEgress is that proxy.
type clusterEgress struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startClusterEgress(dir string) (*clusterEgress, error) {
	ln, err := net.Listen("unix", filepath.Join(dir, "egress.sock"))
	if err != nil {
		return nil, fmt.Errorf("kubesim: cluster egress proxy: %w", err)
	}
	e := &clusterEgress{ln: ln}
	e.wg.Add(1)
	go e.serve()
	return e, nil
}

func (e *clusterEgress) socket() string { return e.ln.Addr().String() }

func (e *clusterEgress) serve() {
	defer e.wg.Done()
	for {
		conn, err := e.ln.Accept()
		if err != nil {
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.refuse(conn)
		}()
	}
}

// refuse reads one CONNECT request and answers that the target cannot be
// reached.
func (e *clusterEgress) refuse(conn net.Conn) {
	defer conn.Close()
	req, err := http.ReadRequest(bufio.NewReader(conn))
	if err != nil {
		return
	}
	msg := "the local world's cluster network is not reachable (" + req.Host + " is simulated)"
	fmt.Fprintf(conn, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(msg), msg)
}

func (e *clusterEgress) close() {
	_ = e.ln.Close()
	e.wg.Wait()
}

// writeEgressConfig writes the API server's --egress-selector-config-file.
func writeEgressConfig(dir, socket string) (string, error) {
	path := filepath.Join(dir, "egress-selector.yaml")
	cfg := fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %s
`, socket)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", err
	}
	return path, nil
}
