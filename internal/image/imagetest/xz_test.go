package imagetest

import (
	"bytes"
	"os/exec"
	"testing"
)

// TestEncodeXZRealTool checks the stream with the real xz tool, when installed.
func TestEncodeXZRealTool(t *testing.T) {
	path, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz not installed")
	}
	for _, n := range []int{0, 1, 4096, 1<<16 + 3, 3 << 16} {
		data := bytes.Repeat([]byte("talos"), n/5+1)[:n]
		cmd := exec.Command(path, "-T0", "-dc")
		cmd.Stdin = bytes.NewReader(EncodeXZ(data))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz -dc on %d bytes: %v", n, err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("xz -dc on %d bytes: got %d bytes back", n, len(out))
		}
	}
}

func TestDiskImageRoundTrip(t *testing.T) {
	id := "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
	b := DiskImage(id, "v1.13.9", "arm64")
	if len(b) != 4096 {
		t.Fatalf("len = %d", len(b))
	}
	info, ok := ParseDiskImage(b)
	if !ok || info != (DiskImageInfo{Platform: "hcloud", Arch: "arm64", TalosVersion: "v1.13.9", SchematicID: id}) {
		t.Fatalf("ParseDiskImage = %+v, %v", info, ok)
	}
	if _, ok := ParseDiskImage([]byte("not an image")); ok {
		t.Fatal("ParseDiskImage accepted garbage")
	}
	if !bytes.Equal(b, DiskImage(id, "v1.13.9", "arm64")) || bytes.Equal(b, DiskImage(id, "v1.13.9", "amd64")) {
		t.Fatal("DiskImage is not deterministic per schematic/version/arch")
	}
}
