package hcloudsim

import (
	"bytes"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
)

func TestXZDecodeStoredStreams(t *testing.T) {
	for _, n := range []int{0, 1, 4096, 1<<16 + 1, 200_000} {
		data := bytes.Repeat([]byte{0xab, 0x01, 0x7f}, n/3+1)[:n]
		got, err := xzDecode(imagetest.EncodeXZ(data))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	// Concatenated streams decode one after the other.
	two := append(imagetest.EncodeXZ([]byte("ab")), imagetest.EncodeXZ([]byte("cd"))...)
	if got, err := xzDecode(two); err != nil || string(got) != "abcd" {
		t.Fatalf("concatenated: %q, %v", got, err)
	}
}

func TestXZDecodeRejectsDamage(t *testing.T) {
	good := imagetest.EncodeXZ([]byte(strings.Repeat("talos", 100)))
	cases := map[string][]byte{
		"empty":     {},
		"not xz":    []byte("plain text, not an xz stream"),
		"truncated": good[:len(good)-20],
	}
	flipped := bytes.Clone(good)
	flipped[40] ^= 0xff // inside the data: the CRC32 check fails
	cases["corrupt data"] = flipped
	for name, in := range cases {
		if _, err := xzDecode(in); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// TestXZDecodeRealTool: the real xz stores incompressible data in
// uncompressed LZMA2 chunks, which the decoder reads with every check type;
// compressible data yields LZMA chunks, which it refuses clearly.
func TestXZDecodeRealTool(t *testing.T) {
	path, err := exec.LookPath("xz")
	if err != nil {
		t.Skip("xz not installed")
	}
	random := make([]byte, 100_000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	compress := func(data []byte, args ...string) []byte {
		cmd := exec.Command(path, append([]string{"-z", "-c"}, args...)...)
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz %v: %v", args, err)
		}
		return out
	}
	for _, check := range []string{"none", "crc32", "crc64", "sha256"} {
		got, err := xzDecode(compress(random, "--check="+check))
		if err != nil || !bytes.Equal(got, random) {
			t.Errorf("check %s: %d bytes, %v", check, len(got), err)
		}
	}
	_, err = xzDecode(compress(bytes.Repeat([]byte("talos "), 10_000)))
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("LZMA-compressed stream: err = %v", err)
	}
}
