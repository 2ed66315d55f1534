package hls

import (
	"fmt"
	"math"
	"time"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
)

// tsVersion is the protocol version of MPEG-TS playlists: 3 for decimal
// EXTINF durations; they use nothing newer (no EXT-X-MAP, no I-frame
// playlists, no audio group), so the oldest players read them.
const tsVersion = 3

// TSVariant is one variant of the MPEG-TS master playlist: a rendition's
// video with an audio track muxed into the same segments.
type TSVariant struct {
	Rendition string       // whose video; with no video, whose audio
	Video     *index.Track // nil for audio only
	// AudioRendition is whose audio track is muxed in: "" or Rendition for
	// the rendition's own audio (none if it has none), another rendition's
	// name for its audio (a ladder rung's video with the stereo track).
	AudioRendition string
	Audio          *index.Track // nil for video only
}

// own reports whether the variant muxes the rendition's own tracks.
func (v TSVariant) own() bool { return v.AudioRendition == "" || v.AudioRendition == v.Rendition }

// TSPlaylistURI is the MPEG-TS media playlist of a rendition's video muxed
// with audioRendition's audio, relative to the master: ts.m3u8 for the
// rendition's own tracks, ts-{audio}.m3u8 for another rendition's audio.
func TSPlaylistURI(rendition, audioRendition string) string {
	return "hls/" + rendition + "/" + tsName(rendition, audioRendition) + ".m3u8"
}

// TSSegmentURI names MPEG-TS segment n relative to its playlist:
// ts/{n}.ts, or ts-{audio}/{n}.ts.
func TSSegmentURI(rendition, audioRendition string, n int) string {
	return fmt.Sprintf("%s/%d.ts", tsName(rendition, audioRendition), n)
}

func tsName(rendition, audioRendition string) string {
	if audioRendition == "" || audioRendition == rendition {
		return "ts"
	}
	return "ts-" + audioRendition
}

// MasterTS returns the master playlist of MPEG-TS variants for players
// that cannot play CMAF: each variant is one playlist of muxed segments,
// listed in the order given (put the best first). BANDWIDTH is measured on
// the segments themselves, transport overhead included.
func MasterTS(variants []TSVariant) ([]byte, error) {
	if len(variants) == 0 {
		return nil, fmt.Errorf("hls: no MPEG-TS variants to list")
	}
	p := m3u8.NewMasterPlaylist()
	p.SetVersion(tsVersion)
	for _, v := range variants {
		ref := v.Video
		if ref == nil {
			ref = v.Audio
		}
		if ref == nil {
			return nil, fmt.Errorf("hls: MPEG-TS variant %q has no tracks", v.Rendition)
		}
		peak, avg, err := TSBitrates(v.Video, v.Audio)
		if err != nil {
			return nil, fmt.Errorf("hls: MPEG-TS variant %q: %w", v.Rendition, err)
		}
		params := m3u8.VariantParams{Bandwidth: clampU32(peak), AverageBandwidth: clampU32(avg)}
		switch {
		case v.Video != nil && v.Audio != nil:
			params.Codecs = v.Video.Codec + "," + v.Audio.Codec
		case v.Video != nil:
			params.Codecs = v.Video.Codec
		default:
			params.Codecs = v.Audio.Codec
		}
		if v.Video != nil {
			params.Resolution = fmt.Sprintf("%dx%d", v.Video.Width, v.Video.Height)
			params.FrameRate = math.Round(v.Video.FrameRate()*1000) / 1000
		}
		audio := v.AudioRendition
		if v.own() {
			audio = v.Rendition
		}
		p.Append(TSPlaylistURI(v.Rendition, audio), nil, params)
	}
	return stripProgramID(p.Encode().Bytes()), nil
}

// TSBitrates is the peak and average bits per second of the MPEG-TS
// segments muxing video and audio (either may be nil), from their exact
// sizes.
func TSBitrates(video, audio *index.Track) (peak, average int64, err error) {
	ref := video
	if ref == nil {
		ref = audio
	}
	if ref == nil {
		return 0, 0, fmt.Errorf("no tracks")
	}
	var bytes int64
	var secs float64
	for n := range ref.Segments {
		seg, err := mpegts.NewSegment(video, audio, n)
		if err != nil {
			return 0, 0, err
		}
		d := ref.SegmentDuration(n).Seconds()
		bytes += seg.Size()
		secs += d
		if d > 0 {
			peak = max(peak, int64(float64(seg.Size()*8)/d))
		}
	}
	if secs > 0 {
		average = int64(float64(bytes*8) / secs)
	}
	return max(peak, average), average, nil
}

// MediaTS returns the VOD playlist of MPEG-TS segments cut on track t's
// plan (the video track; the audio track when there is none): segment n is
// at segURI(n), relative to the playlist. As with Media, a comment says so
// when keyframes lie further apart than target allows.
func MediaTS(t *index.Track, target time.Duration, segURI func(n int) string) ([]byte, error) {
	n := len(t.Segments)
	p, err := m3u8.NewMediaPlaylist(0, uint(n))
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	p.SetVersion(tsVersion)
	p.MediaType = m3u8.VOD
	p.SetCustomTag(independentSegments{})
	longest := 0.0
	for i := 0; i < n; i++ {
		d := t.SegmentDuration(i).Seconds()
		longest = max(longest, d)
		if err := p.Append(segURI(i), d, ""); err != nil {
			return nil, fmt.Errorf("hls: %w", err)
		}
	}
	// RFC 8216 4.3.3.1: each EXTINF rounded to the nearest integer must not
	// exceed the target duration.
	p.TargetDuration = max(1, math.Round(longest))
	if t.Kind == index.Video && longest > 1.5*target.Seconds() {
		p.SetCustomTag(comment(fmt.Sprintf(
			"## Segments start on the source's keyframes, which are up to %.1f s apart, so they are longer than the %.0f s target. Re-encode with a shorter keyframe interval for finer seeking.",
			longest, target.Seconds())))
	}
	p.Close()
	return p.Encode().Bytes(), nil
}
