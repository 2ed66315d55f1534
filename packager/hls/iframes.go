package hls

import (
	"fmt"
	"math"

	"github.com/grafov/m3u8"

	"github.com/streamfront/streamfront/packager/index"
)

// Keyframes lists the sample numbers of t's keyframes, in order. I-frame
// entry k is keyframe Keyframes(t)[k].
func Keyframes(t *index.Track) []int {
	var out []int
	for i, s := range t.Samples {
		if s.Sync {
			out = append(out, i)
		}
	}
	return out
}

// KeyframeURI names the one-keyframe segment k, relative to the rendition
// playlists.
func KeyframeURI(k int) string { return fmt.Sprintf("video/k%d.m4s", k) }

// IFrames returns the I-frame-only playlist of video track t (trick play:
// fast scrubbing shows keyframes without fetching whole segments). Entry k
// is a segment holding just keyframe k; it lasts until the next keyframe.
func IFrames(t *index.Track, initURI string) ([]byte, error) {
	keys := Keyframes(t)
	p, err := m3u8.NewMediaPlaylist(0, uint(len(keys)))
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	p.SetVersion(version)
	p.MediaType = m3u8.VOD
	p.Iframe = true
	p.SetDefaultMap(initURI, 0, 0)
	p.SetCustomTag(independentSegments{})
	pts := presentationTimes(t)
	longest := 0.0
	for k, i := range keys {
		end := t.PresentationEnd()
		if k+1 < len(keys) {
			end = pts[keys[k+1]]
		}
		d := float64(end-pts[i]) / float64(t.Timescale)
		longest = max(longest, d)
		if err := p.Append(KeyframeURI(k), d, ""); err != nil {
			return nil, fmt.Errorf("hls: %w", err)
		}
	}
	p.TargetDuration = max(1, math.Round(longest))
	p.Close()
	return p.Encode().Bytes(), nil
}

// IFrameBitrates is the peak and average bit rate of fetching keyframes at
// the rate they occur (the BANDWIDTH of an I-frame stream).
func IFrameBitrates(t *index.Track) (peak, average int64) {
	keys := Keyframes(t)
	pts := presentationTimes(t)
	var bytes int64
	for k, i := range keys {
		end := t.PresentationEnd()
		if k+1 < len(keys) {
			end = pts[keys[k+1]]
		}
		d := float64(end-pts[i]) / float64(t.Timescale)
		bytes += int64(t.Samples[i].Size)
		if d > 0 {
			peak = max(peak, int64(float64(t.Samples[i].Size)*8/d))
		}
	}
	if d := t.Duration().Seconds(); d > 0 {
		average = int64(float64(bytes) * 8 / d)
	}
	return max(peak, average), average
}

func presentationTimes(t *index.Track) []int64 {
	pts := make([]int64, len(t.Samples))
	dts := t.StartDTS
	for i, s := range t.Samples {
		pts[i] = dts + int64(s.CTO)
		dts += int64(s.Dur)
	}
	return pts
}
