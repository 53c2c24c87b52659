package talossim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	stdx509 "crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"

	"github.com/siderolabs/crypto/x509"

	"github.com/siderolabs/talos/pkg/machinery/config"
)

// tlsConfig returns apid's TLS configuration for the given running config:
// maintenance mode (nil config) serves a self-signed certificate and does not
// ask for client certificates; configured mode serves a certificate issued by
// the OS CA (machine.ca) and requires client certificates from that CA (or
// machine.acceptedCAs).
func (n *Node) tlsConfig(cfg config.Provider) (*tls.Config, error) {
	if cfg == nil {
		cert, err := n.maintenanceCert()
		if err != nil {
			return nil, err
		}
		return &tls.Config{
			Certificates: []tls.Certificate{*cert},
			ClientAuth:   tls.NoClientCert,
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2"},
		}, nil
	}
	cert, err := n.servingCertFor(cfg)
	if err != nil {
		return nil, err
	}
	pool, err := clientCAPool(cfg)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.servingCert = cert
	n.mu.Unlock()
	return &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			n.mu.Lock()
			defer n.mu.Unlock()
			return n.servingCert, nil
		},
		ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs:  pool,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"},
	}, nil
}

var errTrustdUnavailable = errors.New("no control plane of the cluster can sign the apid certificate yet (trustd)")

// nodeIPs are the addresses put in certificates.
func (n *Node) nodeIPs() []net.IP {
	ips := []net.IP{n.ip}
	for _, ip := range n.opts.ExtraIPs {
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	return ips
}

// maintenanceCert is the self-signed certificate generated at boot in
// maintenance mode (Talos: controllers/secrets/maintenance_root.go).
func (n *Node) maintenanceCert() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &stdx509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "maintenance-service.talos.dev", Organization: []string{"talos"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     stdx509.KeyUsageDigitalSignature | stdx509.KeyUsageCertSign,
		ExtKeyUsage:  []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageServerAuth},
		IPAddresses:  n.nodeIPs(),
		DNSNames:     []string{n.opts.Hostname},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := stdx509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// servingCertFor issues apid's server certificate from the OS CA with the
// node's IPs, hostname and machine.certSANs.
func (n *Node) servingCertFor(cfg config.Provider) (*tls.Certificate, error) {
	issuing := cfg.Machine().Security().IssuingCA()
	if issuing == nil || len(issuing.Crt) == 0 {
		return nil, errors.New("machine.ca is not set")
	}
	if len(issuing.Key) == 0 {
		// a worker: trustd on a control plane signs for it
		key := n.cluster.caKey(issuing.Crt)
		if key == nil {
			return nil, errTrustdUnavailable
		}
		issuing = &x509.PEMEncodedCertificateAndKey{Crt: issuing.Crt, Key: key}
	}
	ca, err := x509.NewCertificateAuthorityFromCertificateAndKey(issuing)
	if err != nil {
		return nil, fmt.Errorf("machine.ca: %w", err)
	}
	ips := n.nodeIPs()
	dns := []string{n.opts.Hostname}
	for _, san := range cfg.Machine().Security().CertSANs() {
		if ip := net.ParseIP(san); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		} else if !slices.Contains(dns, san) {
			dns = append(dns, san)
		}
	}
	now := time.Now() // certificates are checked against the wall clock
	kp, err := x509.NewKeyPair(ca,
		x509.CommonName(n.opts.Hostname),
		x509.IPAddresses(ips),
		x509.DNSNames(dns),
		x509.NotBefore(now.Add(-time.Hour)),
		x509.NotAfter(now.Add(365*24*time.Hour)),
		x509.KeyUsage(stdx509.KeyUsageDigitalSignature),
		x509.ExtKeyUsage([]stdx509.ExtKeyUsage{stdx509.ExtKeyUsageServerAuth}),
	)
	if err != nil {
		return nil, fmt.Errorf("issue apid certificate: %w", err)
	}
	return kp.Certificate, nil
}

// adminKubeconfig renders the admin kubeconfig Talos generates: server =
// cluster.controlPlane.endpoint, CA = cluster CA (+ accepted CAs), client
// certificate issued by the cluster CA with cluster.adminKubeconfig's common
// name and organization (system:masters).
func adminKubeconfig(cfg config.Provider) ([]byte, error) {
	cl := cfg.Cluster()
	issuing := cl.IssuingCA()
	if issuing == nil || len(issuing.Crt) == 0 || len(issuing.Key) == 0 {
		return nil, errors.New("k8s API server CA config is not set")
	}
	ca, err := x509.NewCertificateAuthorityFromCertificateAndKey(issuing)
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	ak := cl.AdminKubeconfig()
	lifetime := ak.CertLifetime()
	if lifetime <= 0 {
		lifetime = 365 * 24 * time.Hour
	}
	now := time.Now()
	kp, err := x509.NewKeyPair(ca,
		x509.CommonName(ak.CommonName()),
		x509.Organization(ak.CertOrganization()),
		x509.NotBefore(now.Add(-time.Minute)),
		x509.NotAfter(now.Add(lifetime)),
		x509.KeyUsage(stdx509.KeyUsageDigitalSignature|stdx509.KeyUsageKeyEncipherment),
		x509.ExtKeyUsage([]stdx509.ExtKeyUsage{stdx509.ExtKeyUsageClientAuth}),
	)
	if err != nil {
		return nil, fmt.Errorf("issue admin certificate: %w", err)
	}
	caPEM := slices.Clone(issuing.Crt)
	for _, acc := range cl.AcceptedCAs() {
		caPEM = append(caPEM, acc.Crt...)
	}
	name := cl.Name()
	user := "admin@" + name
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
    - name: %[1]s
      cluster:
        server: %[2]s
        certificate-authority-data: %[3]s
users:
    - name: %[4]s
      user:
        client-certificate-data: %[5]s
        client-key-data: %[6]s
contexts:
    - context:
        cluster: %[1]s
        namespace: default
        user: %[4]s
      name: %[4]s
current-context: %[4]s
`, name, cl.Endpoint().String(), b64(caPEM), user, b64(kp.CrtPEM), b64(kp.KeyPEM)), nil
}
