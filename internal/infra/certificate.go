package infra

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hetzner"
	"github.com/hcloud-k8s/hcloud-k8s/internal/layout"
)

// KindCertificate is the <cluster>-state marker.
const KindCertificate Kind = "certificate"

// CertificateSpec is the <cluster>-state marker, uploaded once the cluster has been
// bootstrapped; its presence means "initialized".
type CertificateSpec struct{}

// certificateKind is the state marker, the module's way of remembering that a
// cluster was bootstrapped (docs/terraform-parity.md): a self-signed certificate
// nothing uses. Apply never deletes it; destroy deletes it last, so that an
// interrupted destroy still knows the cluster had been bootstrapped.
type certificateKind struct{}

func (certificateKind) about() kindInfo {
	return kindInfo{kind: KindCertificate, title: "certificate", order: 9, quiet: true, destroyLast: true}
}

func (certificateKind) observe(s *State, c *Cloud) {
	for _, cert := range c.Certificates {
		s.add(&Resource{Kind: KindCertificate, Name: cert.Name, ID: cert.ID, Labels: cert.Labels, Certificate: &CertificateSpec{}})
	}
}

// stateMarker is the desired state marker of cluster.
func stateMarker(cluster string) *Resource {
	return &Resource{Kind: KindCertificate, Name: layout.StateCertificateName(cluster), Labels: layout.StateCertificateLabels(cluster), Certificate: &CertificateSpec{}}
}

// initialized says whether observed holds the state marker.
func initialized(observed *State) bool {
	return observed.Get(stateMarker(observed.Cluster).Ref()) != nil
}

// create uploads a fresh self-signed certificate valid from the executor's clock.
// A name that is taken counts as done: an earlier run created the marker just
// before dying, and which certificate it is does not matter.
func (certificateKind) create(ctx context.Context, r *run, d *Resource) error {
	certPEM, keyPEM, err := selfSigned(r.plan.Cluster, r.now())
	if err != nil {
		return err
	}
	err = r.call(ctx, "create state marker "+d.Name, func(ctx context.Context) error {
		_, _, err := r.api().Certificate.Create(ctx, hcloud.CertificateCreateOpts{
			Name: d.Name, Type: hcloud.CertificateTypeUploaded, Certificate: string(certPEM), PrivateKey: string(keyPEM), Labels: d.Labels,
		})
		return err
	})
	if hetzner.Classify(err) == hetzner.ClassUniqueness {
		return nil
	}
	return err
}

// selfSigned returns a certificate for commonName and its key, valid for a hundred
// years from now, in PEM.
func selfSigned(commonName string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("state marker key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: commonName},
		NotBefore: now, NotAfter: now.Add(876600 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("state marker certificate: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return certPEM, keyPEM, nil
}

func (certificateKind) remove(ctx context.Context, r *run, o *Resource) (*hcloud.Action, error) {
	return noAction(r.api().Certificate.Delete(ctx, &hcloud.Certificate{ID: o.ID}))
}

// MarkInitialized uploads the <cluster>-state marker once the cluster has been
// bootstrapped, so that later plans know not to remove servers without draining
// them. now is when the marker's certificate becomes valid. Creating a marker that
// exists already succeeds.
func MarkInitialized(ctx context.Context, client *hetzner.Client, cluster string, now time.Time) error {
	e := &Executor{Client: client, Now: func() time.Time { return now }}
	r := e.newRun(&Plan{Cluster: cluster}, newState(cluster, ""))
	return certificateKind{}.create(ctx, r, stateMarker(cluster))
}
