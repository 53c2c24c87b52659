package hcloudsim

import (
	"runtime"
	"slices"
	"sync"
	"weak"
)

// Simulated disks. A server's disk starts as a copy of the image it was
// created (or rebuilt) from; the rescue system can overwrite it (dd in
// rescue_exec.go); create_image copies it into the new image. For system
// images the disk is "the stock OS" and has no content of its own.
//
// The state lives in simExtras, not in the core structs, so that the image
// builder support stays in rescue*.go / disk*.go; the core files only call
// the hooks diskFromImage, snapshotDisk, setRescueKeys and rescueBooted.

// maxDiskContent bounds what a simulated disk remembers; writing more fails
// like a full disk. Fake Talos images are a few KiB.
const maxDiskContent = 64 << 20

// simExtras is per-simulator state of the disk and rescue features. Fields
// under "guarded by Server.mu" are only touched with the simulator's mutex
// held, like the rest of the state.
type simExtras struct {
	// guarded by Server.mu
	disks      map[int64][]byte // server ID → disk content (nil: stock image)
	imageDisks map[int64][]byte // image ID → disk content of a snapshot
	rescueKeys map[int64][]string
	bootKeys   map[int64][]string // keys of the current rescue boot
	hostKeys   map[int64]*rescueHostKey

	// guarded by lnMu; lock order is Server.mu before lnMu.
	lnMu      sync.Mutex
	sshOn     bool
	sshPort   int
	listeners map[int64]*rescueListener
}

// extrasRegistry maps a simulator to its extras without a field in Server.
// Keys are weak pointers, and an entry is dropped once its simulator has been
// garbage collected, so abandoned simulators do not leak their disks.
var (
	extrasMu       sync.Mutex
	extrasRegistry = map[weak.Pointer[Server]]*simExtras{}
)

func (s *Server) extras() *simExtras {
	k := weak.Make(s)
	extrasMu.Lock()
	defer extrasMu.Unlock()
	if x, ok := extrasRegistry[k]; ok {
		return x
	}
	x := &simExtras{
		disks:      map[int64][]byte{},
		imageDisks: map[int64][]byte{},
		rescueKeys: map[int64][]string{},
		bootKeys:   map[int64][]string{},
		hostKeys:   map[int64]*rescueHostKey{},
		listeners:  map[int64]*rescueListener{},
	}
	extrasRegistry[k] = x
	runtime.AddCleanup(s, func(k weak.Pointer[Server]) {
		extrasMu.Lock()
		delete(extrasRegistry, k)
		extrasMu.Unlock()
	}, k)
	return x
}

// diskFromImage is the hook of server create and rebuild: the server's disk
// becomes a copy of the image's (empty for system images). Server.mu held.
func (s *Server) diskFromImage(sv *server, img *image) {
	x := s.extras()
	x.gc(s.st)
	if b, ok := x.imageDisks[img.ID]; ok {
		x.disks[sv.ID] = slices.Clone(b)
		return
	}
	delete(x.disks, sv.ID)
}

// snapshotDisk is the hook of create_image: the image keeps a copy of the
// server's disk as it is when the request arrives. Server.mu held.
func (s *Server) snapshotDisk(sv *server, img *image) {
	x := s.extras()
	x.gc(s.st)
	if b, ok := x.disks[sv.ID]; ok {
		x.imageDisks[img.ID] = slices.Clone(b)
	}
}

// writeDisk replaces the start of a server's disk with data, as dd of=/dev/sda
// does. Server.mu held.
func (x *simExtras) writeDisk(serverID int64, data []byte) {
	old := x.disks[serverID]
	if len(data) >= len(old) {
		x.disks[serverID] = slices.Clone(data)
		return
	}
	x.disks[serverID] = append(slices.Clone(data), old[len(data):]...)
}

// discardDisk zeroes a disk (blkdiscard): it has content now, but none
// written. Server.mu held.
func (x *simExtras) discardDisk(serverID int64) { x.disks[serverID] = []byte{} }

// gc forgets disks of deleted servers and images. Server.mu held.
func (x *simExtras) gc(st *state) {
	for id := range x.disks {
		if _, ok := st.servers[id]; !ok {
			delete(x.disks, id)
		}
	}
	for id := range x.imageDisks {
		if _, ok := st.images[id]; !ok {
			delete(x.imageDisks, id)
		}
	}
}

// DiskContent returns a copy of what was written to a server's simulated
// disk (by dd in the rescue system, or inherited from the snapshot it was
// created from). ok is false for an unknown server and for a server whose
// disk holds a stock system image. A fake Talos node reads it to learn what
// the server boots, e.g. the fake Image Factory's header naming Talos
// version, architecture and schematic.
func (s *Server) DiskContent(serverID int64) (content []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	if _, exists := s.st.servers[serverID]; !exists {
		return nil, false
	}
	b, ok := s.extras().disks[serverID]
	return slices.Clone(b), ok
}

// ImageDiskContent returns a copy of the disk content a snapshot captured;
// ok is false for unknown images, system images and snapshots of servers
// that ran a stock image.
func (s *Server) ImageDiskContent(imageID int64) (content []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	if _, exists := s.st.images[imageID]; !exists {
		return nil, false
	}
	b, ok := s.extras().imageDisks[imageID]
	return slices.Clone(b), ok
}
