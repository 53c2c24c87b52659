package hcloudsim

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// Volume sizes the API accepts, in GB.
const (
	minVolumeSize = 10
	maxVolumeSize = 10240
)

func (s *Server) volumeByID(c *call) (*volume, error) {
	id, err := c.pathID("id", "volume")
	if err != nil {
		return nil, err
	}
	v, ok := s.st.volumes[id]
	if !ok {
		return nil, errNotFound("volume", id)
	}
	return v, nil
}

func (s *Server) mutableVolume(c *call) (*volume, error) {
	v, err := s.volumeByID(c)
	if err != nil {
		return nil, err
	}
	if s.st.locked("volume", v.ID) {
		return nil, errLocked("volume", v.ID)
	}
	return v, nil
}

func (s *Server) listVolumes(_ context.Context, c *call) (int, any, error) {
	q, err := s.parseList(c)
	if err != nil {
		return 0, nil, err
	}
	statuses := c.queryAll("status")
	page, meta := selectPage(q, sortedValues(s.st.volumes), func(v *volume) bool {
		return len(statuses) == 0 || slices.Contains(statuses, v.status)
	})
	return http.StatusOK, listBody("volumes", renderAll(page, renderVolume), meta), nil
}

func (s *Server) getVolume(_ context.Context, c *call) (int, any, error) {
	v, err := s.volumeByID(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, schema.VolumeGetResponse{Volume: renderVolume(v)}, nil
}

func (s *Server) createVolume(_ context.Context, c *call) (int, any, error) {
	var req schema.VolumeCreateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, errInvalidField("name", "is required")
	}
	if nameTaken(s.st.volumes, req.Name, 0) {
		return 0, nil, errUniqueness("name", "volume name %q is already used", req.Name)
	}
	if req.Size < minVolumeSize || req.Size > maxVolumeSize {
		return 0, nil, errInvalidField("size", "must be between %d and %d GB", minVolumeSize, maxVolumeSize)
	}
	if req.Format != nil && *req.Format != "ext4" && *req.Format != "xfs" {
		return 0, nil, errInvalidField("format", "must be ext4 or xfs")
	}
	labels, err := labelsFrom(req.Labels)
	if err != nil {
		return 0, nil, err
	}
	v := &volume{resource: resource{Name: req.Name, Created: s.clock.Now(), Labels: labels}, size: req.Size, format: req.Format, status: "creating"}
	var sv *server
	switch {
	case req.Server != nil:
		var ok bool
		if sv, ok = s.st.servers[*req.Server]; !ok {
			return 0, nil, errInvalidField("server", "server %d not found", *req.Server)
		}
		if s.st.locked("server", sv.ID) {
			return 0, nil, errLocked("server", sv.ID)
		}
		v.loc = sv.loc
	case req.Location != nil:
		if v.loc, _ = byIDOrName(s.st.locations, *req.Location); v.loc == nil {
			return 0, nil, errInvalidField("location", "location %v not found", idOrName(*req.Location))
		}
	default:
		return 0, nil, errInvalidField("location", "location or server is required")
	}
	v.ID = s.st.nextID("volume")
	s.st.volumes[v.ID] = v
	create := s.startAction(actionSpec{
		command: "create_volume", duration: s.latency.VolumeCreate,
		resources: []resKey{key("volume", v.ID)}, locks: []resKey{key("volume", v.ID)},
		onSuccess: func(time.Time) { v.status = "available" },
	})
	resp := schema.VolumeCreateResponse{NextActions: []schema.Action{}}
	if sv != nil {
		v.serverID = sv.ID
		a := s.startAction(actionSpec{
			command: "attach_volume", duration: s.latency.VolumeAttach, after: create,
			resources: []resKey{key("volume", v.ID), key("server", sv.ID)},
			locks:     []resKey{key("volume", v.ID), key("server", sv.ID)},
		})
		resp.NextActions = append(resp.NextActions, s.renderAction(a))
	}
	ra := s.renderAction(create)
	resp.Action = &ra
	resp.Volume = renderVolume(v)
	return http.StatusCreated, resp, nil
}

func (s *Server) updateVolume(_ context.Context, c *call) (int, any, error) {
	v, err := s.volumeByID(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.VolumeUpdateRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Name != "" && req.Name != v.Name {
		if nameTaken(s.st.volumes, req.Name, v.ID) {
			return 0, nil, errUniqueness("name", "volume name %q is already used", req.Name)
		}
		v.Name = req.Name
	}
	if req.Labels != nil {
		if v.Labels, err = labelsFrom(req.Labels); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, schema.VolumeUpdateResponse{Volume: renderVolume(v)}, nil
}

// deleteVolume requires a detached volume (unverified in the reference; the
// stricter choice).
func (s *Server) deleteVolume(_ context.Context, c *call) (int, any, error) {
	v, err := s.mutableVolume(c)
	if err != nil {
		return 0, nil, err
	}
	if v.protection {
		return 0, nil, errProtected("volume", v.ID)
	}
	if v.serverID != 0 {
		return 0, nil, errUnprocessable("volume_already_attached", "volume %d is attached to server %d, detach it first", v.ID, v.serverID)
	}
	delete(s.st.volumes, v.ID)
	return http.StatusNoContent, nil, nil
}

func (s *Server) volumeAttach(_ context.Context, c *call) (int, any, error) {
	v, err := s.mutableVolume(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.VolumeActionAttachVolumeRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	sv, ok := s.st.servers[req.Server]
	if !ok {
		return 0, nil, errInvalidField("server", "server %d not found", req.Server)
	}
	if s.st.locked("server", sv.ID) {
		return 0, nil, errLocked("server", sv.ID)
	}
	if v.serverID != 0 {
		return 0, nil, errUnprocessable("volume_already_attached", "volume %d is already attached", v.ID)
	}
	if sv.loc != v.loc {
		return 0, nil, errInvalidField("server", "server %d is in %s, the volume in %s", sv.ID, sv.loc.Name, v.loc.Name)
	}
	v.serverID = sv.ID
	a := s.startAction(actionSpec{command: "attach_volume", duration: s.latency.VolumeAttach,
		resources: []resKey{key("volume", v.ID), key("server", sv.ID)},
		locks:     []resKey{key("volume", v.ID), key("server", sv.ID)}})
	return http.StatusCreated, schema.VolumeActionAttachVolumeResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) volumeDetach(_ context.Context, c *call) (int, any, error) {
	v, err := s.mutableVolume(c)
	if err != nil {
		return 0, nil, err
	}
	if v.serverID == 0 {
		return 0, nil, errInvalidField("server", "volume %d is not attached", v.ID)
	}
	res := []resKey{key("volume", v.ID), key("server", v.serverID)}
	v.serverID = 0
	a := s.startAction(actionSpec{command: "detach_volume", duration: s.latency.VolumeAttach, resources: res, locks: res})
	return http.StatusCreated, schema.VolumeActionDetachVolumeResponse{Action: s.renderAction(a)}, nil
}

// volumeResize grows a volume; the API cannot shrink one. The new size
// shows once resize_volume has succeeded.
func (s *Server) volumeResize(_ context.Context, c *call) (int, any, error) {
	v, err := s.mutableVolume(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.VolumeActionResizeVolumeRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	switch {
	case req.Size <= v.size:
		return 0, nil, errInvalidField("size", "must be greater than the current size of %d GB", v.size)
	case req.Size > maxVolumeSize:
		return 0, nil, errInvalidField("size", "must be at most %d GB", maxVolumeSize)
	}
	a := s.startAction(actionSpec{command: "resize_volume", duration: s.latency.VolumeResize,
		resources: []resKey{key("volume", v.ID)}, locks: []resKey{key("volume", v.ID)},
		onSuccess: func(time.Time) { v.size = req.Size }})
	return http.StatusCreated, schema.VolumeActionResizeVolumeResponse{Action: s.renderAction(a)}, nil
}

func (s *Server) volumeChangeProtection(_ context.Context, c *call) (int, any, error) {
	v, err := s.mutableVolume(c)
	if err != nil {
		return 0, nil, err
	}
	var req schema.VolumeActionChangeProtectionRequest
	if err := c.decode(&req); err != nil {
		return 0, nil, err
	}
	if req.Delete != nil {
		v.protection = *req.Delete
	}
	a := s.startAction(actionSpec{command: "change_protection", duration: s.latency.Quick,
		resources: []resKey{key("volume", v.ID)}, locks: []resKey{key("volume", v.ID)}})
	return http.StatusCreated, schema.VolumeActionChangeProtectionResponse{Action: s.renderAction(a)}, nil
}

func renderVolume(v *volume) schema.Volume {
	out := schema.Volume{
		ID: v.ID, Name: v.Name, Status: v.status, Location: v.loc.s, Size: v.size, Format: v.format,
		Protection: schema.VolumeProtection{Delete: v.protection}, Labels: cloneLabels(v.Labels),
		LinuxDevice: "/dev/disk/by-id/scsi-0HC_Volume_" + itoa(v.ID), Created: v.Created,
	}
	if v.serverID != 0 {
		out.Server = ptr(v.serverID)
	}
	return out
}
