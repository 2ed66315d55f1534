package bench

import (
	"errors"
	"fmt"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// llPlaylist is what a low-latency viewer needs of a media playlist: the
// parts it lists, oldest first, and the part to ask for next.
type llPlaylist struct {
	parts             []string // part URIs as listed
	nextMSN, nextPart int
}

func (p llPlaylist) partURIs() []string { return p.parts }

// parseLLPlaylist reads a low-latency media playlist with gohlslib's
// parser (the bench reads only its own servers' playlists).
func parseLLPlaylist(body []byte) (llPlaylist, error) {
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		return llPlaylist{}, fmt.Errorf("media playlist: %w", err)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		return llPlaylist{}, errors.New("expected a media playlist, got a multivariant one")
	}
	var out llPlaylist
	for _, s := range m.Segments {
		for _, p := range s.Parts {
			out.parts = append(out.parts, p.URI)
		}
	}
	for _, p := range m.Parts {
		out.parts = append(out.parts, p.URI)
	}
	if len(out.parts) == 0 {
		return out, errors.New("the media playlist lists no parts: not a low-latency playlist")
	}
	// The segment in progress follows the complete ones; its next part
	// follows the trailing parts listed.
	out.nextMSN = m.MediaSequence + len(m.Segments)
	out.nextPart = len(m.Parts)
	return out, nil
}
