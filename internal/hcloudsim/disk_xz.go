package hcloudsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
)

// xzDecode decodes an .xz stream for the rescue system's "xz -dc". It is a
// real, checked parser of the container format (stream header, blocks with
// CRC32/CRC64/SHA-256 checks, index, footer), but it only decodes LZMA2
// chunks that are stored uncompressed: the fake Image Factory serves such
// streams (which the real xz tool accepts too), and implementing LZMA is out
// of scope for a simulator. Compressed chunks fail with a clear message.
func xzDecode(in []byte) ([]byte, error) {
	if len(in) == 0 {
		return nil, errXZFormat // what xz says about empty input
	}
	var out bytes.Buffer
	for len(in) > 0 {
		rest, err := xzDecodeStream(in, &out)
		if err != nil {
			return nil, err
		}
		// Stream padding (multiples of four zero bytes) may follow.
		for len(rest) >= 4 && binary.LittleEndian.Uint32(rest) == 0 {
			rest = rest[4:]
		}
		in = rest
	}
	return out.Bytes(), nil
}

var (
	xzMagic       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	xzFooterMagic = []byte{'Y', 'Z'}
	errXZFormat   = errors.New("File format not recognized")
	errXZCorrupt  = errors.New("Compressed data is corrupt")
	errXZTrunc    = errors.New("Unexpected end of input")
)

func xzDecodeStream(in []byte, out *bytes.Buffer) ([]byte, error) {
	if len(in) < 12 || !bytes.Equal(in[:6], xzMagic) {
		return nil, errXZFormat
	}
	flags := in[6:8]
	if crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(in[8:12]) || flags[0] != 0 {
		return nil, errXZCorrupt
	}
	check := flags[1]
	checkSize := map[byte]int{0x00: 0, 0x01: 4, 0x04: 8, 0x0a: 32}
	csize, ok := checkSize[check]
	if !ok {
		return nil, errors.New("Unsupported type of integrity check")
	}
	p := in[12:]
	blocks := 0
	for {
		if len(p) == 0 {
			return nil, errXZTrunc
		}
		if p[0] == 0x00 { // index indicator
			break
		}
		hsize := (int(p[0]) + 1) * 4
		if len(p) < hsize {
			return nil, errXZTrunc
		}
		hdr := p[:hsize]
		if crc32.ChecksumIEEE(hdr[:hsize-4]) != binary.LittleEndian.Uint32(hdr[hsize-4:]) {
			return nil, errXZCorrupt
		}
		if err := xzCheckBlockHeader(hdr[1 : hsize-4]); err != nil {
			return nil, err
		}
		start := out.Len()
		n, err := lzma2Stored(p[hsize:], out)
		if err != nil {
			return nil, err
		}
		data := p[hsize+n:]
		pad := (4 - n%4) % 4
		if len(data) < pad+csize {
			return nil, errXZTrunc
		}
		if !xzVerify(check, out.Bytes()[start:], data[pad:pad+csize]) {
			return nil, errXZCorrupt
		}
		p = data[pad+csize:]
		blocks++
	}
	// Index: indicator, record count, records, padding, CRC32; then footer.
	idx := p
	count, n := xzVarint(idx[1:])
	if n == 0 || count != uint64(blocks) {
		return nil, errXZCorrupt
	}
	q := 1 + n
	for range count {
		for range 2 {
			_, m := xzVarint(idx[q:])
			if m == 0 {
				return nil, errXZCorrupt
			}
			q += m
		}
	}
	q += (4 - q%4) % 4
	if len(idx) < q+4+12 {
		return nil, errXZTrunc
	}
	if crc32.ChecksumIEEE(idx[:q]) != binary.LittleEndian.Uint32(idx[q:q+4]) {
		return nil, errXZCorrupt
	}
	foot := idx[q+4 : q+16]
	if !bytes.Equal(foot[10:12], xzFooterMagic) || !bytes.Equal(foot[8:10], flags) ||
		crc32.ChecksumIEEE(foot[4:10]) != binary.LittleEndian.Uint32(foot[:4]) ||
		int(binary.LittleEndian.Uint32(foot[4:8])+1)*4 != q+4 {
		return nil, errXZCorrupt
	}
	return idx[q+16:], nil
}

// xzCheckBlockHeader accepts exactly one filter, LZMA2 (0x21).
func xzCheckBlockHeader(h []byte) error {
	flags := h[0]
	if flags&0x3c != 0 || flags&0x03 != 0 {
		return errors.New("Unsupported options (hcloudsim decodes single-filter LZMA2 blocks only)")
	}
	p := h[1:]
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			_, n := xzVarint(p)
			if n == 0 {
				return errXZCorrupt
			}
			p = p[n:]
		}
	}
	id, n := xzVarint(p)
	if n == 0 || id != 0x21 {
		return errors.New("Unsupported filter chain or filter options (hcloudsim decodes LZMA2 only)")
	}
	return nil
}

// lzma2Stored decodes LZMA2 chunks that are stored uncompressed and returns
// the number of input bytes used, including the end marker.
func lzma2Stored(in []byte, out *bytes.Buffer) (int, error) {
	p := 0
	for {
		if p >= len(in) {
			return 0, errXZTrunc
		}
		ctl := in[p]
		switch {
		case ctl == 0x00:
			return p + 1, nil
		case ctl == 0x01 || ctl == 0x02:
			if p+3 > len(in) {
				return 0, errXZTrunc
			}
			size := int(binary.BigEndian.Uint16(in[p+1:p+3])) + 1
			if p+3+size > len(in) {
				return 0, errXZTrunc
			}
			if out.Len()+size > maxDiskContent {
				return 0, fmt.Errorf("decompressed data exceeds the simulator's %d MiB limit", maxDiskContent>>20)
			}
			out.Write(in[p+3 : p+3+size])
			p += 3 + size
		case ctl >= 0x80:
			return 0, errors.New("LZMA-compressed chunks are not supported by the hcloudsim rescue system (serve xz streams with stored chunks)")
		default:
			return 0, errXZCorrupt
		}
	}
}

func xzVerify(check byte, data, sum []byte) bool {
	switch check {
	case 0x00:
		return true
	case 0x01:
		return crc32.ChecksumIEEE(data) == binary.LittleEndian.Uint32(sum)
	case 0x04:
		return crc64.Checksum(data, crc64.MakeTable(crc64.ECMA)) == binary.LittleEndian.Uint64(sum)
	case 0x0a:
		h := sha256.Sum256(data)
		return bytes.Equal(h[:], sum)
	}
	return false
}

// xzVarint reads the format's multibyte integer; n is 0 on error.
func xzVarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 9; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}
