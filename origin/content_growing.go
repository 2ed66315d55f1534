package origin

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/origin/catalog"
)

// A source that must be encoded plays while its first encode runs: the
// worker stores ffmpeg's HLS output (CMAF, an EVENT playlist) under
// videos/{id}/hls/encoding/ as each segment is finished, and the master
// playlist offers that one variant until the encode's rendition is
// stored. The growing playlist ends (ENDLIST) when the encode does, so a
// player already on it plays to the end; new players get the master of
// the finished renditions.

// growingName is the rendition name of the growing variant in URLs; a
// ladder rung may not take it (transcode.ParseLadder refuses it).
const growingName = "encoding"

// growingFile are the names ffmpeg's HLS muxer writes (see worker_growing.go).
var growingFile = regexp.MustCompile(`^(stream\.m3u8|init\.mp4|seg-[0-9]{1,6}\.m4s)$`)

const (
	// A growing playlist changes with every segment: edges may keep it one
	// second, never past its next update (segments last 2 s).
	cacheGrowing = "public, max-age=1"
	// maxGrowingObject bounds one growing segment read into memory (2 s of
	// 1080p is about 1–2 MB).
	maxGrowingObject = 64 << 20
)

func growingKey(id, file string) string {
	return catalog.VideoPrefix(id) + "hls/" + growingName + "/" + file
}

// serveGrowing answers a file of the growing variant.
func (s *Server) serveGrowing(w http.ResponseWriter, r *http.Request, v *catalog.Video, file string) error {
	if v.Growing == nil || !growingFile.MatchString(file) {
		return errNotFound
	}
	body, etag, err := s.store.Get(r.Context(), growingKey(v.ID, file), maxGrowingObject)
	if err != nil {
		return err // a missing object maps to 404 in handle
	}
	ctype, cc := typeMP4, cacheImmutable
	if strings.HasSuffix(file, ".m3u8") {
		ctype, cc = typePlaylist, cacheGrowing
		if bytes.Contains(body, []byte("#EXT-X-ENDLIST")) {
			cc = cacheMasterDone
		}
	}
	return serveBytes(w, r, body, ctype, cc, etag, v.UpdatedAt)
}

// growingMaster is the master playlist of a video that plays only through
// its growing variant so far.
func growingMaster(g *catalog.GrowingHLS) ([]byte, error) {
	p := m3u8.NewMasterPlaylist()
	p.SetVersion(7)
	p.SetIndependentSegments(true)
	p.Append("hls/"+growingName+"/stream.m3u8", nil, m3u8.VariantParams{
		Bandwidth:  uint32(min(g.Bandwidth, 1<<32-1)),
		Codecs:     g.Codecs,
		Resolution: fmt.Sprintf("%dx%d", g.Width, g.Height),
	})
	return p.Encode().Bytes(), nil
}
