package thumbs

import (
	"bytes"
	"fmt"
	"math"
	"time"
)

// Storyboard is the layout of a video's scrub thumbnails.
type Storyboard struct {
	Interval      time.Duration // between thumbnails
	Width, Height int           // of one thumbnail
	Columns, Rows int           // tiles per sprite sheet
	Count         int           // thumbnails in all
	PosterAt      time.Duration // where the poster is taken
	PosterW       int           // poster size
	PosterH       int
	Duration      time.Duration // the video's
}

// Limits of the plan: at most MaxThumbs thumbnails (a long film gets a
// longer interval), never closer than MinInterval.
const (
	MaxThumbs   = 200
	MinInterval = 2 * time.Second
	thumbWidth  = 160
	posterWidth = 1280
	columns     = 10
	rows        = 10
)

// Plan lays out the storyboard of a video of the given duration whose
// picture is displayed at w×h (after rotation and pixel aspect).
func Plan(duration time.Duration, w, h int) Storyboard {
	if w <= 0 || h <= 0 {
		w, h = 16, 9
	}
	interval := max(MinInterval, duration/MaxThumbs)
	interval = interval.Round(time.Second)
	count := max(1, int(math.Ceil(duration.Seconds()/interval.Seconds())))
	tw := min(thumbWidth, w) / 2 * 2
	th := max(2, int(math.Round(float64(tw)*float64(h)/float64(w)/2))*2)
	pw := min(posterWidth, w) / 2 * 2
	ph := max(2, int(math.Round(float64(pw)*float64(h)/float64(w)/2))*2)
	return Storyboard{
		Interval: interval, Width: tw, Height: th, Columns: columns, Rows: rows, Count: count,
		PosterAt: min(duration/10, 10*time.Second), PosterW: pw, PosterH: ph, Duration: duration,
	}
}

// Sprites is how many sprite sheets the storyboard fills.
func (s Storyboard) Sprites() int {
	per := s.Columns * s.Rows
	return (s.Count + per - 1) / per
}

// VTT writes the WebVTT map: one cue per thumbnail, pointing at its tile.
func (s Storyboard) VTT(spriteURI func(n int) string) []byte {
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	per := s.Columns * s.Rows
	for i := 0; i < s.Count; i++ {
		start := time.Duration(i) * s.Interval
		end := min(start+s.Interval, s.Duration)
		if end <= start {
			end = start + s.Interval
		}
		tile := i % per
		x, y := (tile%s.Columns)*s.Width, (tile/s.Columns)*s.Height
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", stamp(start), stamp(end), spriteURI(i/per), x, y, s.Width, s.Height)
	}
	return b.Bytes()
}

func stamp(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
