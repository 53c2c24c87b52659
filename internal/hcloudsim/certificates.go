package hcloudsim

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

func (s *Server) certificateByID(c *call) (*certificate, error) {
	id, err := c.pathID("id", "certificate")
	if err != nil {
		return nil, err
	}
	cert, ok := s.st.certificates[id]
	if !ok {
		return nil, errNotFound("certificate", id)
	}
	return cert, nil
}

func (s *Server) listCertificates(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	types := c.queryAll("type")
	page, meta := selectPage(q, sortedValues(s.st.certificates), func(cert *certificate) bool {
		return len(types) == 0 || slices.Contains(types, cert.typ)
	})
	return http.StatusOK, listBody("certificates", renderAll(page, s.renderCertificate), meta), nil
}

func (s *Server) getCertificate(_ context.Context, c *call) (int, any, error) {
	cert, err := s.certificateByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.CertificateGetResponse{Certificate: s.renderCertificate(cert)}, nil
}

// createCertificate accepts uploaded certificates (validated with
// crypto/x509 against the private key) and managed ones, whose issuance is
// an action that always succeeds unless a fault is injected.
func (s *Server) createCertificate(_ context.Context, c *call) (int, any, error) {
	var req schema.CertificateCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, errInvalidField("name", "is required")
	}
	if nameTaken(s.st.certificates, req.Name, 0) {
		return 0, nil, errUniqueness("name", "certificate name %q is already used", req.Name)
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	now := s.clock.Now()
	cert := &certificate{resource: resource{Name: req.Name, Created: now, Labels: labels}}
	switch req.Type {
	case "", "uploaded":
		cert.typ = "uploaded"
		if _, err := tls.X509KeyPair([]byte(req.Certificate), []byte(req.PrivateKey)); err != nil {
			return 0, nil, errInvalidField("certificate", "certificate and private key do not form a valid pair: %v", err)
		}
		block, _ := pem.Decode([]byte(req.Certificate))
		x, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return 0, nil, errInvalidField("certificate", "cannot parse certificate: %v", err)
		}
		cert.pem = strings.TrimSpace(req.Certificate)
		cert.notBefore, cert.notAfter = x.NotBefore, x.NotAfter
		cert.domainNames = x.DNSNames
		if len(cert.domainNames) == 0 && x.Subject.CommonName != "" {
			cert.domainNames = []string{x.Subject.CommonName}
		}
		sum := sha256.Sum256(x.Raw)
		parts := make([]string, len(sum))
		for i, b := range sum {
			parts[i] = fmt.Sprintf("%02X", b)
		}
		cert.fingerprint = strings.Join(parts, ":")
	case "managed":
		if len(req.DomainNames) == 0 {
			return 0, nil, errInvalidField("domain_names", "is required for managed certificates")
		}
		cert.typ, cert.domainNames, cert.issuance = "managed", slices.Clone(req.DomainNames), "pending"
	default:
		return 0, nil, errInvalidField("type", "must be uploaded or managed")
	}
	cert.ID = s.st.nextID("certificate")
	s.st.certificates[cert.ID] = cert
	resp := schema.CertificateCreateResponse{}
	if cert.typ == "managed" {
		a := s.startAction(actionSpec{
			command: "create_certificate", duration: 30 * time.Second,
			resources: []resKey{key("certificate", cert.ID)},
			onSuccess: func(at time.Time) {
				cert.issuance, cert.notBefore, cert.notAfter = "completed", at, at.Add(90*24*time.Hour)
			},
			onError: func(time.Time) { cert.issuance = "failed" },
		})
		ra := s.renderAction(a)
		resp.Action = &ra
	}
	resp.Certificate = s.renderCertificate(cert)
	return http.StatusCreated, resp, nil
}

func (s *Server) updateCertificate(_ context.Context, c *call) (int, any, error) {
	cert, err := s.certificateByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.CertificateUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != nil && *req.Name != cert.Name {
		if nameTaken(s.st.certificates, *req.Name, cert.ID) {
			return 0, nil, errUniqueness("name", "certificate name %q is already used", *req.Name)
		}
		cert.Name = *req.Name
	}
	if req.Labels != nil {
		if cert.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.CertificateUpdateResponse{Certificate: s.renderCertificate(cert)}, nil
}

func (s *Server) deleteCertificate(_ context.Context, c *call) (int, any, error) {
	cert, err := s.certificateByID(c)
	if err != nil {
		return 0, nil, err
	}
	if len(s.certificateUsers(cert)) > 0 {
		return 0, nil, errUnprocessable("resource_in_use", "certificate %d is used by a load balancer", cert.ID)
	}
	delete(s.st.certificates, cert.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) certificateUsers(cert *certificate) []schema.CertificateUsedByRef {
	out := []schema.CertificateUsedByRef{}
	for _, lb := range sortedValues(s.st.loadBalancers) {
		if slices.ContainsFunc(lb.services, func(svc *lbService) bool {
			return svc.s.HTTP != nil && slices.Contains(svc.s.HTTP.Certificates, cert.ID)
		}) {
			out = append(out, schema.CertificateUsedByRef{ID: lb.ID, Type: "load_balancer"})
		}
	}
	return out
}

func (s *Server) renderCertificate(cert *certificate) schema.Certificate {
	out := schema.Certificate{
		ID: cert.ID, Name: cert.Name, Labels: cloneLabels(cert.Labels), Type: cert.typ, Certificate: cert.pem,
		Created: cert.Created, NotValidBefore: cert.notBefore, NotValidAfter: cert.notAfter,
		DomainNames: nonNil(cert.domainNames), Fingerprint: cert.fingerprint, UsedBy: s.certificateUsers(cert),
	}
	if cert.typ == "managed" {
		out.Status = &schema.CertificateStatusRef{Issuance: cert.issuance, Renewal: "unavailable"}
	}
	return out
}
