package mp4box

import (
	"encoding/binary"
	"fmt"
	"math"
)

// QuickTime files (MOV from ffmpeg, cameras and editors) describe AAC with
// version 1 or 2 sound sample entries: extra fields after the ISO ones,
// and the esds wrapped in a 'wave' atom. ISO readers (mp4ff) do not know
// them, although the audio itself is the same AAC an MP4 carries.

// sampleEntryFields is the length of an audio sample entry's fixed part:
// reserved(6) data_reference_index(2), version(2) revision(2) vendor(4),
// channels(2) sample size(2) compression id(2) packet size(2) rate(4).
const sampleEntryFields = 28

// NormalizeSound returns moov with every QuickTime version 1 or 2 'mp4a'
// sample entry rewritten as an ISO one (version 0, its esds a direct
// child), for readers that only know ISO sample entries. When there is
// none, moov itself is returned, nothing copied; it is never modified.
// Only the sample descriptions change: sample tables and chunk offsets
// stay as they are, and only the boxes on the way to a changed entry are
// rebuilt (the moov once, its audio track a few times).
func NormalizeSound(moov []byte) ([]byte, error) {
	top, err := Children(moov, 0)
	if err != nil || len(top) != 1 || top[0].Type != "moov" {
		return nil, fmt.Errorf("%w: not a moov box", ErrBadBox)
	}
	out, _, err := normalizeBox(moov, top[0], 0)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// soundContainers are the boxes between moov and stsd.
var soundContainers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true}

// normalizeBox returns box b of moov with its QuickTime sound entries
// rewritten, and whether anything changed; unchanged boxes are returned
// as the input's own bytes.
func normalizeBox(moov []byte, b Box, depth int) ([]byte, bool, error) {
	raw := moov[b.Offset:b.End()]
	body := payload(moov, 0, b)
	var (
		prefix []byte // stsd's version, flags and entry count
		kids   []Box
		err    error
	)
	switch {
	case soundContainers[b.Type] && depth < 5:
		kids, err = Children(body, b.Offset+b.Header)
	case b.Type == "stsd" && len(body) >= 8:
		prefix = body[:8]
		kids, err = Children(body[8:], b.Offset+b.Header+8)
	default:
		return raw, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	parts := make([][]byte, len(kids))
	changed := false
	size := 8 + len(prefix)
	for i, k := range kids {
		var c bool
		if b.Type == "stsd" {
			parts[i], c, err = normalizeEntry(moov, k)
		} else {
			parts[i], c, err = normalizeBox(moov, k, depth+1)
		}
		if err != nil {
			return nil, false, err
		}
		changed = changed || c
		size += len(parts[i])
	}
	if !changed {
		return raw, false, nil
	}
	if size > math.MaxUint32 {
		return nil, false, fmt.Errorf("%w: %s too large", ErrBadBox, b.Type)
	}
	out := make([]byte, 8, size)
	binary.BigEndian.PutUint32(out, uint32(size))
	copy(out[4:], b.Type)
	out = append(out, prefix...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, true, nil
}

// normalizeEntry rewrites a QuickTime version 1 or 2 'mp4a' sample entry
// as an ISO one; other entries are returned as they are.
func normalizeEntry(moov []byte, e Box) ([]byte, bool, error) {
	raw := moov[e.Offset:e.End()]
	p := payload(moov, 0, e)
	if e.Type != "mp4a" || len(p) < sampleEntryFields {
		return raw, false, nil
	}
	var ext int
	switch binary.BigEndian.Uint16(p[8:10]) {
	case 1:
		ext = 16 // samples per packet, bytes per packet, per frame, per sample
	case 2:
		ext = 36 // struct size, rate (float64), channels, and five format fields
	default:
		return raw, false, nil
	}
	if len(p) < sampleEntryFields+ext {
		return nil, false, fmt.Errorf("%w: QuickTime sound description shorter than its version says", ErrBadBox)
	}
	fixed := append([]byte(nil), p[:sampleEntryFields]...)
	clear(fixed[8:16])                          // version, revision, vendor
	binary.BigEndian.PutUint16(fixed[20:22], 0) // compression id (-2 in QuickTime)
	if ext == 36 {
		// Version 2 keeps placeholders in the fixed fields and the real
		// rate and channel count in its own.
		rate := math.Float64frombits(binary.BigEndian.Uint64(p[sampleEntryFields+4:]))
		channels := binary.BigEndian.Uint32(p[sampleEntryFields+12:])
		if rate < 1 || rate >= 1<<16 {
			rate = 0 // the AudioSpecificConfig in the esds says the rate
		}
		binary.BigEndian.PutUint16(fixed[16:18], uint16(min(channels, math.MaxUint16)))
		binary.BigEndian.PutUint16(fixed[18:20], 16)
		binary.BigEndian.PutUint32(fixed[24:28], uint32(rate)<<16)
	}
	content := fixed
	for _, k := range looseChildren(p[sampleEntryFields+ext:]) {
		if string(k[4:8]) != "wave" {
			content = append(content, k...)
			continue
		}
		// The 'wave' atom holds frma, a small mp4a, the esds and a
		// terminator: only the esds is kept.
		for _, w := range looseChildren(k[8:]) {
			if string(w[4:8]) == "esds" {
				content = append(content, w...)
			}
		}
	}
	out, err := boxBytes("mp4a", content)
	return out, err == nil, err
}

// looseChildren splits QuickTime atoms, stopping at a terminator (size 0
// or type 0) or at anything that does not fit, as QuickTime readers do.
func looseChildren(p []byte) [][]byte {
	var out [][]byte
	for len(p) >= 8 {
		size := binary.BigEndian.Uint32(p)
		if size < 8 || int64(size) > int64(len(p)) || binary.BigEndian.Uint32(p[4:]) == 0 {
			break
		}
		out = append(out, p[:size])
		p = p[size:]
	}
	return out
}

// boxBytes is a box of the given type around content (32-bit size).
func boxBytes(typ string, content []byte) ([]byte, error) {
	if len(content) > math.MaxUint32-8 {
		return nil, fmt.Errorf("%w: %s too large", ErrBadBox, typ)
	}
	out := make([]byte, 8, 8+len(content))
	binary.BigEndian.PutUint32(out, uint32(8+len(content)))
	copy(out[4:], typ)
	return append(out, content...), nil
}
