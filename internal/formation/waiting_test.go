package formation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

// A node of another cluster on the address (its own CA, client certificates
// required) is named as such while apply waits, not as a bare TLS error.
func TestWaitNamesAnotherClustersNode(t *testing.T) {
	addr := simtest.AddressRange(t).Next()
	lis, err := tls.Listen("tcp", netip.AddrPortFrom(addr, 50000).String(), &tls.Config{
		Certificates: []tls.Certificate{selfSigned(t, addr)}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				_ = c.(*tls.Conn).Handshake()
			}(c)
		}
	}()

	s := NewState(Inputs{Clock: &sleepyClock{now: time.Unix(0, 0)}, Timeout: time.Minute, PollInterval: 20 * time.Second})
	s.mtls = &tls.Config{MinVersion: tls.VersionTLS13} // trusts only the system roots, like a CA of our own would
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, why := s.probe(ctx, Node{Name: "demo-control-1", PublicIPv4: addr})
	if !strings.Contains(why, "another cluster's CA") {
		t.Errorf("the attempt was described as %q", why)
	}
}

func selfSigned(t *testing.T, addr netip.Addr) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other-cluster"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{addr.AsSlice()}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
