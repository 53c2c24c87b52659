package hcloudsim

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

func (s *Server) imageByID(c *call) (*image, error) {
	id, err := c.pathID("id", "image")
	if err != nil {
		return nil, err
	}
	img, ok := s.st.images[id]
	if !ok {
		return nil, errNotFound("image", id)
	}
	return img, nil
}

func (s *Server) listImages(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	types, statuses, archs := c.queryAll("type"), c.queryAll("status"), c.queryAll("architecture")
	boundTo := c.queryAll("bound_to")
	includeDeprecated, _ := strconv.ParseBool(c.query("include_deprecated"))
	page, meta := selectPage(q, sortedValues(s.st.images), func(img *image) bool {
		switch {
		case len(types) > 0 && !slices.Contains(types, img.typ),
			len(statuses) > 0 && !slices.Contains(statuses, img.status),
			len(archs) > 0 && !slices.Contains(archs, img.arch),
			img.deprecated != nil && !includeDeprecated:
			return false
		case len(boundTo) > 0:
			return img.boundTo != nil && slices.Contains(boundTo, strconv.FormatInt(*img.boundTo, 10))
		}
		return true
	})
	return http.StatusOK, listBody("images", renderAll(page, s.renderImage), meta), nil
}

func (s *Server) getImage(_ context.Context, c *call) (int, any, error) {
	img, err := s.imageByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.ImageGetResponse{Image: s.renderImage(img)}, nil
}

func (s *Server) updateImage(_ context.Context, c *call) (int, any, error) {
	img, err := s.imageByID(c)
	if err != nil {
		return 0, nil, err
	}
	if img.typ == "system" || img.typ == "app" {
		return 0, nil, errf(http.StatusForbidden, "forbidden", "system images cannot be modified")
	}
	var req schema.ImageUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Type != nil {
		if *req.Type != "snapshot" {
			return 0, nil, errInvalidField("type", "images can only be converted to snapshot")
		}
		img.typ, img.boundTo = "snapshot", nil
	}
	if req.Description != nil {
		img.description = *req.Description
	}
	if req.Labels != nil {
		if img.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.ImageUpdateResponse{Image: s.renderImage(img)}, nil
}

func (s *Server) deleteImage(_ context.Context, c *call) (int, any, error) {
	img, err := s.imageByID(c)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case img.typ == "system" || img.typ == "app":
		return 0, nil, errf(http.StatusForbidden, "forbidden", "system images cannot be deleted")
	case img.protection:
		return 0, nil, errProtected("image", img.ID)
	case s.st.locked("image", img.ID):
		return 0, nil, errLocked("image", img.ID)
	}
	delete(s.st.images, img.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) imageChangeProtection(_ context.Context, c *call) (int, any, error) {
	img, err := s.imageByID(c)
	if err != nil {
		return 0, nil, err
	}
	if img.typ == "system" || img.typ == "app" {
		return 0, nil, errf(http.StatusForbidden, "forbidden", "system images cannot be protected")
	}
	if s.st.locked("image", img.ID) {
		return 0, nil, errLocked("image", img.ID)
	}
	var req schema.ImageActionChangeProtectionRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Delete != nil {
		img.protection = *req.Delete
	}
	a := s.startAction(actionSpec{command: "change_protection", duration: s.latency.Quick,
		resources: []resKey{key("image", img.ID)}, locks: []resKey{key("image", img.ID)}})
	return http.StatusCreated, schema.ImageActionChangeProtectionResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) renderImage(img *image) schema.Image {
	created := img.Created
	out := schema.Image{
		ID: img.ID, Status: img.status, Type: img.typ, Description: img.description,
		ImageSize: img.imageSize, DiskSize: img.diskSize, Created: &created, CreatedFrom: img.createdFrom,
		BoundTo: img.boundTo, OSFlavor: img.osFlavor, Architecture: img.arch,
		Protection: schema.ImageProtection{Delete: img.protection}, Labels: cloneLabels(img.Labels),
		Deprecated: img.deprecated,
	}
	if img.typ == "system" {
		out.Name = ptr(img.Name)
		out.RapidDeploy = true
	}
	if img.osVersion != "" {
		out.OSVersion = ptr(img.osVersion)
	}
	return out
}
