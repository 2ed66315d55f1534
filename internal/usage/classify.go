package usage

import (
	"math/bits"
	"strings"
	"time"
)

// Classify tells which video (or live stream) a viewer's path belongs to
// and what kind of object it is, after DESIGN.md's URL layout:
// /videos/{id}/…m3u8 is a playlist, …/hls/….m4s|.ts|.mp4 and …/ts/….ts are
// segments, /videos/{id}/r/{r}.mp4 is progressive MP4, anything else
// (thumbnails, unknown paths) is other. /live/{id}/… is read the same way.
// The path is untrusted: an ID that is not 1-64 of [A-Za-z0-9_-] gives
// video "". The returned ID is a substring of path (no allocation).
func Classify(path string) (video string, kind Kind) {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	rest, ok := strings.CutPrefix(path, "/videos/")
	if !ok {
		if rest, ok = strings.CutPrefix(path, "/live/"); !ok {
			return "", KindOther
		}
	}
	id, file, ok := strings.Cut(rest, "/")
	if !ok || !validID(id) {
		return "", KindOther
	}
	switch {
	case strings.HasSuffix(file, ".m3u8"):
		return id, KindPlaylist
	case strings.HasPrefix(file, "r/") && strings.HasSuffix(file, ".mp4") && strings.Count(file, "/") == 1:
		return id, KindMP4
	case (strings.HasPrefix(file, "hls/") || strings.HasPrefix(file, "ts/")) &&
		(strings.HasSuffix(file, ".m4s") || strings.HasSuffix(file, ".ts") || strings.HasSuffix(file, ".mp4")):
		return id, KindSegment
	case !strings.Contains(file, "/") && strings.HasSuffix(file, ".mp4"),
		strings.HasPrefix(file, "dvr/") && (strings.HasSuffix(file, ".m4s") || strings.HasSuffix(file, ".mp4")):
		// Live media: gohlslib's parts, segments and init segments sit
		// beside the playlists ({prefix}_{track}_part{n}.mp4); the DVR's
		// are under dvr/.
		return id, KindSegment
	}
	return id, KindOther
}

func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// DeliveredShare is the media time a byte range of a progressive MP4
// carries: the file's duration times the share of its bytes sent (the
// issue's "MP4 byte share of the duration"). It is exact (128-bit
// arithmetic) and never more than duration.
func DeliveredShare(sent, total int64, duration time.Duration) time.Duration {
	if sent <= 0 || total <= 0 || duration <= 0 {
		return 0
	}
	sent = min(sent, total)
	hi, lo := bits.Mul64(uint64(duration), uint64(sent))
	q, _ := bits.Div64(hi, lo, uint64(total)) // hi < total since sent ≤ total
	return time.Duration(q)
}
