package live

import (
	"bytes"
	"cmp"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/grafov/m3u8"
)

// multivariantName is the multivariant playlist's file under /live/{id}/.
const multivariantName = "index.m3u8"

// rungDir is where a rung's files are, relative to the multivariant.
func rungDir(name string) string { return name + "/" }

// serveMultivariant writes stream id's multivariant playlist: the source
// first (the broadcast as sent), then the rungs on air, best first, as the
// VOD master lists renditions. Every variant takes the source's audio
// rendition (rungs are video only). Each muxer states its own variant
// (bandwidth measured on its segments, codec, size, frame rate); this
// playlist joins them. Like gohlslib's own, it waits until the source has
// a segment.
func (m *Manager) serveMultivariant(w http.ResponseWriter, r *http.Request, id string, source *gohlslib.Muxer) {
	src, code := multivariantOf(source, r.URL.RawQuery)
	if src == nil {
		if code == http.StatusInternalServerError {
			code = http.StatusNotFound // the muxer closed while waiting
		}
		http.Error(w, "no live broadcast on this stream", code)
		return
	}
	type onAir struct {
		name string
		mux  *gohlslib.Muxer
	}
	var rungs []onAir
	m.mu.Lock()
	if s, ok := m.streams[id]; ok && s.muxer == source {
		for name, rg := range s.rungs {
			if rg.onAir {
				rungs = append(rungs, onAir{name, rg.mux})
			}
		}
	}
	m.mu.Unlock()
	var ladder []namedVariant
	for _, rg := range rungs {
		// A rung on air has content: its muxer answers at once.
		pl, _ := multivariantOf(rg.mux, r.URL.RawQuery)
		if pl == nil || len(pl.Variants) == 0 {
			continue
		}
		ladder = append(ladder, namedVariant{dir: rungDir(rg.name), variant: pl.Variants[0]})
	}
	body, err := joinMultivariant(src, ladder)
	if err != nil {
		m.log.Warn("live: multivariant playlist", "stream", id, "err", err)
		http.Error(w, "the playlist could not be made", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// multivariantOf asks mux, in process, for its multivariant playlist and
// parses it; rawQuery is passed on as gohlslib passes it into URIs.
func multivariantOf(mux *gohlslib.Muxer, rawQuery string) (*playlist.Multivariant, int) {
	target := "/" + multivariantName
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	parsed, code := playlistOf(mux, target)
	if code != http.StatusOK {
		return nil, code
	}
	pl, ok := parsed.(*playlist.Multivariant)
	if !ok {
		return nil, http.StatusInternalServerError
	}
	return pl, http.StatusOK
}

// namedVariant is a rung's variant and the directory of its files.
type namedVariant struct {
	dir     string
	variant *playlist.MultivariantVariant
}

// joinMultivariant writes the multivariant playlist of src (the source's
// muxer's) with the rungs' variants added after the source's, their URIs
// moved into their directories, their codecs completed with the source's
// audio codec, and all in the source's audio group.
func joinMultivariant(src *playlist.Multivariant, rungs []namedVariant) ([]byte, error) {
	if len(src.Variants) == 0 {
		return nil, errors.New("the source's playlist lists no variant")
	}
	main := src.Variants[0]
	audioCodec := ""
	for _, c := range main.Codecs {
		if !strings.HasPrefix(c, "avc1") {
			audioCodec = c
		}
	}
	p := m3u8.NewMasterPlaylist()
	p.SetVersion(uint8(min(max(src.Version, 3), 255)))
	p.SetIndependentSegments(src.IndependentSegments)
	var alternatives []*m3u8.Alternative
	for _, r := range src.Renditions {
		if r.Type != playlist.MultivariantRenditionTypeAudio || r.URI == nil {
			continue
		}
		a := &m3u8.Alternative{GroupId: r.GroupID, URI: *r.URI, Type: "AUDIO", Language: r.Language, Name: r.Name, Default: r.Default}
		if r.Autoselect {
			a.Autoselect = "YES"
		}
		alternatives = append(alternatives, a)
	}
	// grafov writes a variant's alternatives before it: the first carries
	// the group, once.
	p.Append(main.URI, nil, variantParams(main, main.Codecs, alternatives))
	slices.SortStableFunc(rungs, func(a, b namedVariant) int { return cmp.Compare(b.variant.Bandwidth, a.variant.Bandwidth) })
	for _, rg := range rungs {
		codecs := slices.Clone(rg.variant.Codecs)
		if audioCodec != "" && !slices.Contains(codecs, audioCodec) {
			codecs = append(codecs, audioCodec)
		}
		params := variantParams(rg.variant, codecs, nil)
		params.Audio = main.Audio
		p.Append(rg.dir+rg.variant.URI, nil, params)
	}
	return bytes.ReplaceAll(p.Encode().Bytes(), []byte("PROGRAM-ID=0,"), nil), nil
}

func variantParams(v *playlist.MultivariantVariant, codecs []string, alternatives []*m3u8.Alternative) m3u8.VariantParams {
	params := m3u8.VariantParams{
		Bandwidth:    clampUint32(v.Bandwidth),
		Codecs:       strings.Join(codecs, ","),
		Resolution:   v.Resolution,
		Audio:        v.Audio,
		Alternatives: alternatives,
	}
	if v.AverageBandwidth != nil {
		params.AverageBandwidth = clampUint32(*v.AverageBandwidth)
	}
	if v.FrameRate != nil {
		params.FrameRate = math.Round(*v.FrameRate*1000) / 1000
	}
	return params
}

func clampUint32(v int) uint32 {
	if v < 0 {
		return 0
	}
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}
