package hls

import (
	"strconv"
	"strings"
)

// BrowserDecodable reports whether Chromium's Media Source Extensions
// decode every entry of an RFC 6381 CODECS list as our playlists carry it
// ("avc1.640028,mp4a.40.2"). A rendition whose list is not decodable must
// not be the only one a browser is offered.
//
// H.264 is decodable in the Baseline (0x42), Main (0x4D), Extended (0x58)
// and High (0x64) profiles only: High 10, High 4:2:2 and High 4:4:4 are
// not. HEVC, AC-3 and E-AC-3 are not (Chromium plays them only with
// platform decoders, which many machines lack), nor is anything this
// function does not list — VP9 and AV1 included, which Chromium decodes but
// our renditions never carry: the list is what we have checked. An empty
// list is not decodable.
func BrowserDecodable(codecs string) bool {
	if strings.TrimSpace(codecs) == "" {
		return false
	}
	for _, c := range strings.Split(codecs, ",") {
		if !codecDecodable(strings.TrimSpace(c)) {
			return false
		}
	}
	return true
}

// browserAudio are the audio codec strings Chromium's MSE decodes: AAC-LC,
// HE-AAC and HE-AACv2, MP3 (as MPEG-4 object type 0x22 and the MPEG-1/2
// audio object types 0x69 and 0x6B), Opus and FLAC.
var browserAudio = map[string]bool{
	"mp4a.40.2": true, "mp4a.40.5": true, "mp4a.40.29": true,
	"mp4a.40.34": true, "mp4a.69": true, "mp4a.6b": true,
	"opus": true, "flac": true,
}

// browserH264Profiles are the profile_idc values of the H.264 profiles
// Chromium decodes in software.
var browserH264Profiles = map[uint64]bool{0x42: true, 0x4D: true, 0x58: true, 0x64: true}

func codecDecodable(c string) bool {
	lower := strings.ToLower(c)
	if browserAudio[lower] {
		return true
	}
	for _, prefix := range []string{"avc1.", "avc3."} {
		rest, ok := strings.CutPrefix(lower, prefix)
		if !ok {
			continue
		}
		// avc1.PPCCLL: profile_idc, constraint flags, level_idc in hex.
		if len(rest) != 6 {
			return false
		}
		if _, err := strconv.ParseUint(rest, 16, 32); err != nil {
			return false
		}
		profile, _ := strconv.ParseUint(rest[:2], 16, 8)
		return browserH264Profiles[profile]
	}
	return false
}
