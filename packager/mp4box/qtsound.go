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
// none, moov itself is returned; it is never modified. Only the sample
// descriptions change: sample tables and chunk offsets stay as they are.
func NormalizeSound(moov []byte) ([]byte, error) {
	top, err := Children(moov, 0)
	if err != nil || len(top) != 1 || top[0].Type != "moov" {
		return nil, fmt.Errorf("%w: not a moov box", ErrBadBox)
	}
	changed := false
	out, err := normalizeBox(moov, top[0], 0, &changed)
	if err != nil || !changed {
		return moov, err
	}
	return out, nil
}

// soundContainers are the boxes between moov and stsd.
var soundContainers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true}

func normalizeBox(moov []byte, b Box, depth int, changed *bool) ([]byte, error) {
	raw := moov[b.Offset:b.End()]
	body := payload(moov, 0, b)
	switch {
	case soundContainers[b.Type] && depth < 5:
		kids, err := Children(body, b.Offset+b.Header)
		if err != nil {
			return nil, err
		}
		var content []byte
		for _, k := range kids {
			kb, err := normalizeBox(moov, k, depth+1, changed)
			if err != nil {
				return nil, err
			}
			content = append(content, kb...)
		}
		return boxBytes(b.Type, content)
	case b.Type == "stsd":
		if len(body) < 8 {
			return raw, nil
		}
		entries, err := Children(body[8:], b.Offset+b.Header+8)
		if err != nil {
			return nil, err
		}
		content := append([]byte(nil), body[:8]...)
		for _, e := range entries {
			eb := moov[e.Offset:e.End()]
			if e.Type == "mp4a" {
				if eb, err = normalizeMP4A(payload(moov, 0, e), changed); err != nil {
					return nil, err
				}
			}
			content = append(content, eb...)
		}
		return boxBytes(b.Type, content)
	}
	return raw, nil
}

// normalizeMP4A rewrites the body of a QuickTime version 1 or 2 'mp4a'
// entry as an ISO entry; version 0 entries are returned as they are.
func normalizeMP4A(p []byte, changed *bool) ([]byte, error) {
	if len(p) < sampleEntryFields {
		return boxBytes("mp4a", p)
	}
	var ext int
	switch binary.BigEndian.Uint16(p[8:10]) {
	case 1:
		ext = 16 // samples per packet, bytes per packet, per frame, per sample
	case 2:
		ext = 36 // struct size, rate (float64), channels, and five format fields
	default:
		return boxBytes("mp4a", p)
	}
	if len(p) < sampleEntryFields+ext {
		return nil, fmt.Errorf("%w: QuickTime sound description shorter than its version says", ErrBadBox)
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
	*changed = true
	return boxBytes("mp4a", content)
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
