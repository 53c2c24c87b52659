package hcloudsim

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// sshFingerprint computes the MD5 fingerprint the API reports
// ("aa:bb:…") from an OpenSSH authorized_keys line.
func sshFingerprint(publicKey string) (string, error) {
	fields := strings.Fields(publicKey)
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "ssh-") && !strings.HasPrefix(fields[0], "ecdsa-") && !strings.HasPrefix(fields[0], "sk-") {
		return "", errInvalidField("public_key", "is not a valid OpenSSH public key")
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil || len(blob) < 4 {
		return "", errInvalidField("public_key", "is not a valid OpenSSH public key")
	}
	sum := md5.Sum(blob)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":"), nil
}

func (s *Server) sshKeyByID(c *call) (*sshKey, error) {
	id, err := c.pathID("id", "ssh_key")
	if err != nil {
		return nil, err
	}
	k, ok := s.st.sshKeys[id]
	if !ok {
		return nil, errNotFound("ssh_key", id)
	}
	return k, nil
}

func (s *Server) listSSHKeys(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	fp := c.query("fingerprint")
	page, meta := selectPage(q, sortedValues(s.st.sshKeys), func(k *sshKey) bool { return fp == "" || k.fingerprint == fp })
	return http.StatusOK, listBody("ssh_keys", renderAll(page, renderSSHKey), meta), nil
}

func (s *Server) getSSHKey(_ context.Context, c *call) (int, any, error) {
	k, err := s.sshKeyByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.SSHKeyGetResponse{SSHKey: renderSSHKey(k)}, nil
}

// createSSHKey enforces both unique names and unique fingerprints.
func (s *Server) createSSHKey(_ context.Context, c *call) (int, any, error) {
	var req schema.SSHKeyCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, errInvalidField("name", "is required")
	}
	fp, err := sshFingerprint(req.PublicKey)
	if err != nil {
		return 0, nil, err
	}
	if nameTaken(s.st.sshKeys, req.Name, 0) {
		return 0, nil, errUniqueness("name", "SSH key name %q is already used", req.Name)
	}
	for _, k := range s.st.sshKeys {
		if k.fingerprint == fp {
			return 0, nil, errUniqueness("public_key", "SSH key with the same fingerprint already exists")
		}
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	// public_key is kept verbatim (a trailing newline included): clients
	// such as the Terraform provider compare it with what they sent. Only
	// the fingerprint comes from the parsed key.
	k := &sshKey{resource: resource{ID: s.st.nextID("ssh_key"), Name: req.Name, Created: s.clock.Now(), Labels: labels},
		fingerprint: fp, publicKey: req.PublicKey}
	s.st.sshKeys[k.ID] = k
	return http.StatusCreated, schema.SSHKeyCreateResponse{SSHKey: renderSSHKey(k)}, nil
}

func (s *Server) updateSSHKey(_ context.Context, c *call) (int, any, error) {
	k, err := s.sshKeyByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.SSHKeyUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != "" && req.Name != k.Name {
		if nameTaken(s.st.sshKeys, req.Name, k.ID) {
			return 0, nil, errUniqueness("name", "SSH key name %q is already used", req.Name)
		}
		k.Name = req.Name
	}
	if req.Labels != nil {
		if k.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.SSHKeyUpdateResponse{SSHKey: renderSSHKey(k)}, nil
}

func (s *Server) deleteSSHKey(_ context.Context, c *call) (int, any, error) {
	k, err := s.sshKeyByID(c)
	if err != nil {
		return 0, nil, err
	}
	delete(s.st.sshKeys, k.ID)
	return http.StatusNoContent, nil, nil
}

func renderSSHKey(k *sshKey) schema.SSHKey {
	return schema.SSHKey{ID: k.ID, Name: k.Name, Fingerprint: k.fingerprint, PublicKey: k.publicKey, Labels: cloneLabels(k.Labels), Created: k.Created}
}
