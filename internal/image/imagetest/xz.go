package imagetest

import (
	"encoding/binary"
	"hash/crc32"
)

// EncodeXZ wraps data in a valid .xz stream (one block, LZMA2 with the data
// stored in uncompressed chunks, CRC32 check). It is not smaller than data,
// but "xz -dc" – the real tool and the simulator's rescue system – decodes
// it. The module path github.com/ulikunitz/xz is not a dependency, and a
// real compressor is not needed for a few KiB of test data.
func EncodeXZ(data []byte) []byte {
	le32 := func(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
	// Stream header: magic, flags (check type CRC32), CRC32 of the flags.
	flags := []byte{0x00, 0x01}
	out := append([]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, flags...)
	out = le32(out, crc32.ChecksumIEEE(flags))

	// Block header: size, flags (one filter, no sizes), LZMA2 filter with a
	// 1-byte property (dictionary 4 KiB), padding, CRC32.
	hdr := []byte{0x02, 0x00, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00}
	hdr = le32(hdr, crc32.ChecksumIEEE(hdr))
	block := append([]byte(nil), hdr...)

	// LZMA2 stored chunks of at most 64 KiB; the first resets the dictionary.
	comp := 0
	for i := 0; i < len(data); i += 1 << 16 {
		chunk := data[i:min(i+1<<16, len(data))]
		ctl := byte(0x02)
		if i == 0 {
			ctl = 0x01
		}
		block = append(block, ctl, byte((len(chunk)-1)>>8), byte(len(chunk)-1))
		block = append(block, chunk...)
		comp += 3 + len(chunk)
	}
	block = append(block, 0x00) // end of LZMA2
	comp++
	unpadded := len(hdr) + comp + 4 // header, compressed data, check
	for comp%4 != 0 {
		block = append(block, 0x00) // block padding
		comp++
	}
	block = le32(block, crc32.ChecksumIEEE(data))
	out = append(out, block...)

	// Index: indicator, one record (unpadded size, uncompressed size),
	// padding, CRC32.
	idx := []byte{0x00}
	idx = appendVarint(idx, 1)
	idx = appendVarint(idx, uint64(unpadded))
	idx = appendVarint(idx, uint64(len(data)))
	for len(idx)%4 != 0 {
		idx = append(idx, 0x00)
	}
	idx = le32(idx, crc32.ChecksumIEEE(idx))
	out = append(out, idx...)

	// Footer: CRC32 of backward size and flags, backward size, flags, magic.
	foot := le32(nil, uint32(len(idx)/4-1))
	foot = append(foot, flags...)
	out = le32(out, crc32.ChecksumIEEE(foot))
	out = append(out, foot...)
	return append(out, 'Y', 'Z')
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
