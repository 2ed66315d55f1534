package hls

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/packager/index"
)

// version is the protocol version of every playlist: 7 covers fMP4
// segments with EXT-X-MAP in every kind of playlist.
const version = 7

// audioGroup is the GROUP-ID of the audio renditions.
const audioGroup = "audio"

// Rendition is one encoding of the video.
type Rendition struct {
	Name  string // path element, e.g. "src" or "480p"
	Index *index.Index
}

// VideoPlaylistURI and AudioPlaylistURI are the rendition playlists'
// URIs relative to the master.
func VideoPlaylistURI(rendition string) string { return "hls/" + rendition + "/video.m3u8" }

// AudioPlaylistURI is the audio playlist's URI relative to the master.
func AudioPlaylistURI(rendition string) string { return "hls/" + rendition + "/audio.m3u8" }

// Master returns the master playlist. Audio comes from audioFrom (the
// rendition whose audio track is served to every variant; usually the
// top one). Variants are listed in the order given.
func Master(renditions []Rendition, audioFrom string) ([]byte, error) {
	p := m3u8.NewMasterPlaylist()
	p.SetVersion(version)
	p.SetIndependentSegments(true)

	var audio *index.Track
	for _, r := range renditions {
		if r.Name == audioFrom {
			audio = r.Index.Track(index.Audio)
		}
	}
	var audioPeak, audioAvg int64
	if audio != nil {
		audioPeak, audioAvg = audio.Bitrates()
		p.SetCustomTag(mediaTag{
			uri:      AudioPlaylistURI(audioFrom),
			name:     audioName(audio),
			language: audio.Language,
			channels: audio.Channels,
		})
	}
	variants := 0
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
		if audio != nil {
			params.Codecs += "," + audio.Codec
			params.Audio = audioGroup
		}
		p.Append(VideoPlaylistURI(r.Name), nil, params)
		variants++
	}
	if variants == 0 {
		if audio == nil {
			return nil, fmt.Errorf("hls: no video or audio to list")
		}
		// Audio only: the audio playlist is the one variant.
		p.Append(AudioPlaylistURI(audioFrom), nil, m3u8.VariantParams{
			Bandwidth:        clampU32(audioPeak),
			AverageBandwidth: clampU32(audioAvg),
			Codecs:           audio.Codec,
		})
	}
	return stripProgramID(p.Encode().Bytes()), nil
}

// Media returns the VOD playlist of track t; segment n is at segURI(n) and
// the init segment at initURI (both relative to the playlist).
func Media(t *index.Track, initURI string, segURI func(n int) string) ([]byte, error) {
	n := len(t.Segments)
	p, err := m3u8.NewMediaPlaylist(0, uint(n))
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	p.SetVersion(version)
	p.MediaType = m3u8.VOD
	p.SetDefaultMap(initURI, 0, 0)
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
	p.Close()
	return p.Encode().Bytes(), nil
}

// VideoSegmentURI and friends name segments relative to their playlist.
func SegmentURI(kind index.Kind, n int) string { return fmt.Sprintf("%s/%d.m4s", kind, n) }

// InitURI names a track's init segment relative to its playlist.
func InitURI(kind index.Kind) string { return kind.String() + "/init.mp4" }

func audioName(t *index.Track) string {
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

// mediaTag is EXT-X-MEDIA written by us: grafov's Alternative has no
// CHANNELS attribute, which RFC 8216 says audio renditions should carry.
type mediaTag struct {
	uri, name, language string
	channels            uint16
}

func (mediaTag) TagName() string { return "#EXT-X-MEDIA" }

func (m mediaTag) Encode() *bytes.Buffer {
	var b bytes.Buffer
	fmt.Fprintf(&b, `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="%s",NAME="%s",DEFAULT=YES,AUTOSELECT=YES`, audioGroup, quoted(m.name))
	if m.language != "" && m.language != "und" {
		fmt.Fprintf(&b, `,LANGUAGE="%s"`, quoted(m.language))
	}
	if m.channels > 0 {
		fmt.Fprintf(&b, `,CHANNELS="%d"`, m.channels)
	}
	fmt.Fprintf(&b, `,URI="%s"`, quoted(m.uri))
	return &b
}

func (m mediaTag) String() string { return m.Encode().String() }

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
