package hls

import (
	"fmt"
	"math"
	"strings"
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
// tracks muxed into one playlist of segments.
type TSVariant struct {
	// Rendition's own tracks are muxed: its video and its audio, or
	// whichever of the two it has.
	Rendition Rendition
	// Audio, when set, replaces the rendition's own audio with another
	// rendition's track: a ladder rung's video with the stereo track.
	Audio *Audio
}

// tracks returns what the variant muxes and whose audio it is ("" for the
// rendition's own).
func (v TSVariant) tracks() (video, audio *index.Track, audioRendition string) {
	video = v.Rendition.Index.Track(index.Video)
	audio = v.Rendition.Index.Track(index.Audio)
	if v.Audio != nil && v.Audio.Rendition != v.Rendition.Name {
		audio, audioRendition = v.Audio.Track, v.Audio.Rendition
	}
	return video, audio, audioRendition
}

// TSPlaylistURI is the MPEG-TS media playlist of a rendition, relative to
// the master: ts.m3u8 muxes the rendition's own tracks, ts-{audio}.m3u8 its
// video with audioRendition's audio ("" or the rendition itself for its
// own).
func TSPlaylistURI(rendition, audioRendition string) string {
	return "hls/" + rendition + "/" + TSName(rendition, audioRendition) + ".m3u8"
}

// TSSegmentURI names MPEG-TS segment n relative to its playlist:
// ts/{n}.ts, or ts-{audio}/{n}.ts.
func TSSegmentURI(rendition, audioRendition string, n int) string {
	return fmt.Sprintf("%s/%d.ts", TSName(rendition, audioRendition), n)
}

// TSName is the path element naming a TS muxing: "ts" for a rendition's
// own tracks, "ts-{audio}" for its video with another rendition's audio.
func TSName(rendition, audioRendition string) string {
	if audioRendition == "" || audioRendition == rendition {
		return "ts"
	}
	return "ts-" + audioRendition
}

// ParseTSName is TSName's inverse: for "ts" it returns "" (the rendition's
// own tracks), for "ts-{audio}" the audio rendition; ok is false for any
// other name.
func ParseTSName(name string) (audioRendition string, ok bool) {
	if name == "ts" {
		return "", true
	}
	audioRendition, ok = strings.CutPrefix(name, "ts-")
	return audioRendition, ok && audioRendition != ""
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
		name := v.Rendition.Name
		if v.Rendition.Index == nil {
			return nil, fmt.Errorf("hls: MPEG-TS variant %q has no index", name)
		}
		video, audio, audioRendition := v.tracks()
		peak, avg, err := TSBitrates(video, audio)
		if err != nil {
			return nil, fmt.Errorf("hls: MPEG-TS variant %q: %w", name, err)
		}
		params := m3u8.VariantParams{Bandwidth: clampU32(peak), AverageBandwidth: clampU32(avg)}
		switch {
		case video != nil && audio != nil:
			params.Codecs = video.Codec + "," + audio.Codec
		case video != nil:
			params.Codecs = video.Codec
		default:
			params.Codecs = audio.Codec
		}
		if video != nil {
			params.Resolution = fmt.Sprintf("%dx%d", video.Width, video.Height)
			params.FrameRate = math.Round(video.FrameRate()*1000) / 1000
		}
		p.Append(TSPlaylistURI(name, audioRendition), nil, params)
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
	return vod(t, tsVersion, "", target, segURI)
}
