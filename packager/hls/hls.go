package hls

import (
	"golang.org/x/text/language"

	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/packager/index"
)

// version is the protocol version of every playlist: 7 covers fMP4
// segments with EXT-X-MAP in every kind of playlist.
const version = 7

// audioGroup and subtitleGroup are the GROUP-IDs of the audio and
// subtitle renditions.
const (
	audioGroup    = "audio"
	subtitleGroup = "subs"
)

// Subtitle is one caption track: a WebVTT file behind a one-segment
// subtitle playlist.
type Subtitle struct {
	Language string // RFC 5646, e.g. "en" or "pt-BR"
	Name     string // shown to viewers, e.g. "English"
	URI      string // the subtitle playlist, relative to the master
	Default  bool
}

// Rendition is one encoding of the video.
type Rendition struct {
	Name  string // path element, e.g. "src" or "480p"
	Index *index.Index
}

// Audio is one entry of the audio rendition group: the audio track of a
// rendition's index.
type Audio struct {
	Rendition string // whose audio track
	Name      string // shown to viewers, e.g. "Stereo"
	Default   bool
	Track     *index.Track
}

// VideoPlaylistURI is a rendition's video playlist, relative to the master.
func VideoPlaylistURI(rendition string) string { return "hls/" + rendition + "/video.m3u8" }

// AudioPlaylistURI is a rendition's audio playlist, relative to the master.
func AudioPlaylistURI(rendition string) string { return "hls/" + rendition + "/audio.m3u8" }

// IFramePlaylistURI is a rendition's I-frame playlist, relative to the
// master.
func IFramePlaylistURI(rendition string) string { return "hls/" + rendition + "/iframes.m3u8" }

// Master returns the master playlist: one variant per rendition with video
// (in the order given: put the best first), each with the audio group, and
// an I-frame playlist per variant for trick play. With no video at all, the
// default audio playlist is the one variant.
//
// Captions, when there are any, form a SUBTITLES group every variant
// names; none is DEFAULT unless asked, and all AUTOSELECT, so players pick
// the viewer's language when captions are turned on.
func Master(renditions []Rendition, audio []Audio, subs ...Subtitle) ([]byte, error) {
	p := m3u8.NewMasterPlaylist()
	p.SetVersion(version)
	p.SetIndependentSegments(true)

	var audioPeak, audioAvg int64
	var audioCodec string
	var def *Audio
	for i := range audio {
		a := &audio[i]
		peak, avg := a.Track.Bitrates()
		audioPeak, audioAvg = max(audioPeak, peak), max(audioAvg, avg)
		if audioCodec == "" {
			audioCodec = a.Track.Codec
		}
		if a.Default || def == nil {
			def = a
		}
	}
	var media tagLines
	if len(audio) > 0 {
		media = append(media, mediaTags(audio))
	}
	if len(subs) > 0 {
		media = append(media, subtitleTags(subs))
	}
	if len(media) > 0 {
		p.SetCustomTag(media)
	}
	variants := 0
	var iframes []m3u8.VariantParams
	var iframeURIs []string
	for _, r := range renditions {
		v := r.Index.Track(index.Video)
		if v == nil {
			continue
		}
		peak, avg := v.Bitrates()
		params := m3u8.VariantParams{
			Bandwidth:        clampU32(peak + audioPeak),
			AverageBandwidth: clampU32(avg + audioAvg),
			Codecs:           v.Codec,
			Resolution:       fmt.Sprintf("%dx%d", v.Width, v.Height),
			FrameRate:        math.Round(v.FrameRate()*1000) / 1000,
		}
		if audioCodec != "" {
			params.Codecs += "," + audioCodec
			params.Audio = audioGroup
		}
		if len(subs) > 0 {
			params.Subtitles = subtitleGroup
		}
		p.Append(VideoPlaylistURI(r.Name), nil, params)
		variants++
		ipeak, iavg := IFrameBitrates(v)
		iframes = append(iframes, m3u8.VariantParams{
			Iframe: true, Bandwidth: clampU32(ipeak), AverageBandwidth: clampU32(iavg),
			Codecs: v.Codec, Resolution: params.Resolution,
		})
		iframeURIs = append(iframeURIs, IFramePlaylistURI(r.Name))
	}
	for i := range iframes {
		p.Append(iframeURIs[i], nil, iframes[i])
	}
	if variants == 0 {
		if def == nil {
			return nil, fmt.Errorf("hls: no video or audio to list")
		}
		// Audio only: the default audio playlist is the one variant.
		p.Append(AudioPlaylistURI(def.Rendition), nil, m3u8.VariantParams{
			Bandwidth:        clampU32(audioPeak),
			AverageBandwidth: clampU32(audioAvg),
			Codecs:           def.Track.Codec,
		})
	}
	return stripProgramID(p.Encode().Bytes()), nil
}

// Media returns the VOD playlist of track t; segment n is at segURI(n) and
// the init segment at initURI (both relative to the playlist). target is
// the segment duration aimed for: when keyframes are further apart than
// that allows, the playlist says so in a comment.
func Media(t *index.Track, target time.Duration, initURI string, segURI func(n int) string) ([]byte, error) {
	return vod(t, version, initURI, target, segURI)
}

// vod writes the VOD media playlist of t's segment plan, fMP4 (with an
// EXT-X-MAP of initURI) or MPEG-TS (initURI empty).
func vod(t *index.Track, ver uint8, initURI string, target time.Duration, segURI func(n int) string) ([]byte, error) {
	n := len(t.Segments)
	p, err := m3u8.NewMediaPlaylist(0, uint(n))
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	p.SetVersion(ver)
	p.MediaType = m3u8.VOD
	if initURI != "" {
		p.SetDefaultMap(initURI, 0, 0)
	}
	tags := tagLines{independentSegments{}}
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
		tags = append(tags, comment(fmt.Sprintf(
			"## Segments start on the source's keyframes, which are up to %.1f s apart, so they are longer than the %g s target. Re-encode with a shorter keyframe interval for finer seeking.",
			longest, target.Seconds())))
	}
	p.SetCustomTag(tags)
	p.Close()
	return p.Encode().Bytes(), nil
}

// VideoSegmentURI and friends name segments relative to their playlist.
func SegmentURI(kind index.Kind, n int) string { return fmt.Sprintf("%s/%d.m4s", kind, n) }

// InitURI names a track's init segment relative to its playlist.
func InitURI(kind index.Kind) string { return kind.String() + "/init.mp4" }

// AudioName names an audio track for viewers by its channels.
func AudioName(t *index.Track) string {
	switch t.Channels {
	case 1:
		return "Mono"
	case 2:
		return "Stereo"
	case 6:
		return "Surround 5.1"
	case 8:
		return "Surround 7.1"
	}
	return fmt.Sprintf("%d channels", t.Channels)
}

func clampU32(v int64) uint32 {
	return uint32(min(max(v, 1), math.MaxUint32))
}

// stripProgramID removes the PROGRAM-ID attribute grafov always writes: it
// was removed from the protocol in version 6.
func stripProgramID(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("PROGRAM-ID=0,"), nil)
}

// mediaTags writes the EXT-X-MEDIA lines of the audio group ourselves:
// grafov's Alternative has no CHANNELS attribute, which RFC 8216 says audio
// renditions should carry, and it writes one line per variant's list.
type mediaTags []Audio

func (mediaTags) TagName() string { return "#EXT-X-MEDIA" }

func (m mediaTags) Encode() *bytes.Buffer {
	var b bytes.Buffer
	for i, a := range m {
		if i > 0 {
			b.WriteByte('\n')
		}
		def := "NO"
		if a.Default {
			def = "YES"
		}
		fmt.Fprintf(&b, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="%s",NAME="%s",DEFAULT=%s,AUTOSELECT=YES`, audioGroup, quoted(a.Name), def)
		if l := LanguageTag(a.Track.Language); l != "" {
			fmt.Fprintf(&b, `,LANGUAGE="%s"`, quoted(l))
		}
		if a.Track.Channels > 0 {
			fmt.Fprintf(&b, `,CHANNELS="%d"`, a.Track.Channels)
		}
		fmt.Fprintf(&b, `,URI="%s"`, quoted(AudioPlaylistURI(a.Rendition)))
	}
	return &b
}

func (m mediaTags) String() string { return m.Encode().String() }

// subtitleTags are the EXT-X-MEDIA lines of the subtitle group.
type subtitleTags []Subtitle

func (subtitleTags) TagName() string { return "#EXT-X-MEDIA" }

func (m subtitleTags) Encode() *bytes.Buffer {
	var b bytes.Buffer
	for i, s := range m {
		if i > 0 {
			b.WriteByte('\n')
		}
		def := "NO"
		if s.Default {
			def = "YES"
		}
		fmt.Fprintf(&b, `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="%s",NAME="%s",DEFAULT=%s,AUTOSELECT=YES,FORCED=NO,LANGUAGE="%s",URI="%s"`,
			subtitleGroup, quoted(s.Name), def, quoted(s.Language), quoted(s.URI))
	}
	return &b
}

func (m subtitleTags) String() string { return m.Encode().String() }

// LanguageTag is an MP4 language (ISO 639-2, "fra") as RFC 8216 wants it:
// an RFC 5646 tag, its shortest form ("fr"); "" when unknown.
func LanguageTag(iso6392 string) string {
	if iso6392 == "" || iso6392 == "und" {
		return ""
	}
	tag, err := language.Parse(iso6392)
	if err != nil {
		return ""
	}
	// "fre" and "ger" (bibliographic codes, as Matroska files carry) too.
	if c, err := language.All.Canonicalize(tag); err == nil {
		tag = c
	}
	base, _ := tag.Base()
	return base.String()
}

// tagLines are custom tags written one after the other in this order.
// grafov keeps a playlist's custom tags in a map: two set separately came
// out in either order, so one playlist had two spellings (and two ETags).
type tagLines []m3u8.CustomTag

func (l tagLines) TagName() string { return l[0].TagName() }

func (l tagLines) Encode() *bytes.Buffer {
	var b bytes.Buffer
	for i, t := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.Write(t.Encode().Bytes())
	}
	return &b
}

func (l tagLines) String() string { return l.Encode().String() }

// comment is a playlist comment line ("#" without "EXT" is not a tag).
type comment string

func (c comment) TagName() string       { return "##" }
func (c comment) Encode() *bytes.Buffer { return bytes.NewBufferString(string(c)) }
func (c comment) String() string        { return string(c) }

type independentSegments struct{}

func (independentSegments) TagName() string { return "#EXT-X-INDEPENDENT-SEGMENTS" }
func (independentSegments) Encode() *bytes.Buffer {
	return bytes.NewBufferString("#EXT-X-INDEPENDENT-SEGMENTS")
}
func (independentSegments) String() string { return "#EXT-X-INDEPENDENT-SEGMENTS" }

// quoted drops characters a quoted-string cannot hold (RFC 8216 4.2).
func quoted(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}
