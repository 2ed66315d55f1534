package live

import (
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// programDates puts EXT-X-PROGRAM-DATE-TIME on every segment of a muxer's
// media playlists. gohlslib dates only the last two segments; every segment
// passes through those two while it is the newest, so the dates are learned
// from the playlists served and kept per segment URI. A segment no served
// playlist ever dated (nobody watched then) gets one derived from its
// neighbours' durations, which is exact unless an encoder reconnected in
// between (the dates jump by the break there).
type programDates struct {
	mu    sync.Mutex
	byURI map[string]time.Time
}

func newProgramDates() *programDates {
	return &programDates{byURI: make(map[string]time.Time)}
}

// fill dates every media segment of pl (not the gap segments gohlslib
// starts low-latency playlists with) and remembers the dates it learned.
func (d *programDates) fill(pl *playlist.Media) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := func(s *playlist.MediaSegment) string {
		k, _, _ := strings.Cut(s.URI, "?")
		return k
	}
	for _, s := range pl.Segments {
		if s.Gap {
			continue
		}
		if s.DateTime != nil {
			d.byURI[key(s)] = *s.DateTime
		} else if t, ok := d.byURI[key(s)]; ok {
			s.DateTime = &t
		}
	}
	// Derive what is still missing: forward from a dated segment, then
	// backward for the segments before the first dated one.
	for i := 1; i < len(pl.Segments); i++ {
		prev, s := pl.Segments[i-1], pl.Segments[i]
		if s.DateTime == nil && !s.Gap && prev.DateTime != nil {
			t := prev.DateTime.Add(prev.Duration)
			s.DateTime = &t
		}
	}
	for i := len(pl.Segments) - 2; i >= 0; i-- {
		s, next := pl.Segments[i], pl.Segments[i+1]
		if s.DateTime == nil && !s.Gap && next.DateTime != nil {
			t := next.DateTime.Add(-s.Duration)
			s.DateTime = &t
		}
	}
	// A full playlist lists every segment still served: forget the others.
	// (A delta update leaves out the oldest ones, which are still there.)
	if pl.Skip == nil {
		listed := make(map[string]bool, len(pl.Segments))
		for _, s := range pl.Segments {
			listed[key(s)] = true
		}
		for k := range d.byURI {
			if !listed[k] {
				delete(d.byURI, k)
			}
		}
	}
}

// PlaylistEnd is the program date-time where a media playlist's media
// ends: its last dated segment's end, plus the parts listed after it.
// Zero when no segment is dated.
func PlaylistEnd(pl *playlist.Media) time.Time {
	for i := len(pl.Segments) - 1; i >= 0; i-- {
		s := pl.Segments[i]
		if s.DateTime == nil {
			continue
		}
		end := s.DateTime.Add(s.Duration)
		if i == len(pl.Segments)-1 {
			for _, p := range pl.Parts {
				end = end.Add(p.Duration)
			}
		}
		return end
	}
	return time.Time{}
}

// PlaylistLag is how far rung's media ends behind source's, by their
// program date-times (a rung is dated as the source, see ladder.go).
func PlaylistLag(source, rung *playlist.Media) time.Duration {
	return PlaylistEnd(source).Sub(PlaylistEnd(rung))
}
