package live

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// parameterSets keeps the H.264 SPS and PPS of a stream and puts them in
// front of every keyframe that lacks them. RTMP carries them once, in the
// AVC configuration record, while gohlslib finds decode timestamps (and a
// player joining at a keyframe finds its parameters) in the access units
// themselves.
type parameterSets struct {
	sps, pps []byte
}

// complete returns au ready for the muxer, or nil when au only carried
// new parameter sets (a configuration record), which it keeps.
func (p *parameterSets) complete(au [][]byte) [][]byte {
	hasSPS, hasPPS, hasPicture := false, false, false
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1F) {
		case h264.NALUTypeSPS:
			p.sps, hasSPS = nalu, true
		case h264.NALUTypePPS:
			p.pps, hasPPS = nalu, true
		case h264.NALUTypeIDR, h264.NALUTypeNonIDR:
			hasPicture = true
		}
	}
	if !hasPicture {
		return nil
	}
	if !h264.IsRandomAccess(au) || (hasSPS && hasPPS) || p.sps == nil || p.pps == nil {
		return au
	}
	out := make([][]byte, 0, len(au)+2)
	if !hasSPS {
		out = append(out, p.sps)
	}
	if !hasPPS {
		out = append(out, p.pps)
	}
	return append(out, au...)
}
