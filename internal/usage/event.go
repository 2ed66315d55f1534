package usage

import (
	"fmt"
	"time"
)

// Kind is what sort of object a response carried.
type Kind uint8

// Kinds of delivered objects.
const (
	KindOther    Kind = iota // thumbnails, 404s, anything not below
	KindSegment              // an HLS media segment (.m4s, .ts)
	KindPlaylist             // an HLS playlist (.m3u8)
	KindMP4                  // progressive MP4 (whole or a range)
	numKinds
)

var kindNames = [numKinds]string{"other", "hls-segment", "playlist", "mp4"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is String's inverse.
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("usage: unknown kind %q", s)
}

// MarshalText writes the kind's name (reports and answers are JSON).
func (k Kind) MarshalText() ([]byte, error) {
	if k >= numKinds {
		return nil, fmt.Errorf("usage: unknown kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	*k = v
	return err
}

// Result is how the edge's cache answered, as in its X-Cache header.
type Result uint8

// Cache results.
const (
	ResultMiss       Result = iota // fetched from the shield or the origin
	ResultHit                      // served from the cache
	ResultRefreshHit               // revalidated with the origin (304), served from the cache
	ResultStale                    // served from the cache past its TTL (origin down)
	ResultPass                     // not cacheable: passed through
	numResults
)

var resultNames = [numResults]string{"miss", "hit", "refresh-hit", "stale", "pass"}

func (r Result) String() string {
	if r < numResults {
		return resultNames[r]
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// FromCache tells whether the body came from the edge's cache; the hit
// ratio counts these.
func (r Result) FromCache() bool {
	return r == ResultHit || r == ResultRefreshHit || r == ResultStale
}

// ParseResult is String's inverse.
func ParseResult(s string) (Result, error) {
	for i, n := range resultNames {
		if n == s {
			return Result(i), nil
		}
	}
	return 0, fmt.Errorf("usage: unknown cache result %q", s)
}

// MarshalText writes the result's name.
func (r Result) MarshalText() ([]byte, error) {
	if r >= numResults {
		return nil, fmt.Errorf("usage: unknown cache result %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a result's name.
func (r *Result) UnmarshalText(b []byte) error {
	v, err := ParseResult(string(b))
	*r = v
	return err
}

// Event is one response an edge sent, as the Meter counts it.
type Event struct {
	// Video is the video's (or live stream's) ID, "" for paths that belong
	// to none. The Meter copies it when it first sees it, so it may point
	// into a buffer the caller reuses.
	Video string
	// Kind is what was sent.
	Kind Kind
	// Result is how the cache answered.
	Result Result
	// BytesOut is the body bytes sent to the viewer.
	BytesOut int64
	// Delivered is the media duration the response carried (a segment's
	// duration, or an MP4 range's byte share of the duration); zero for
	// playlists and other objects.
	Delivered time.Duration
	// OriginBytes is what the edge fetched upstream (shield or origin) to
	// answer: zero on a hit.
	OriginBytes int64
	// At is when the response was sent; it picks the hour. Zero means now.
	// An edge that already read the clock for the request (its fast path
	// does, for the access log) passes it: a clock read is about half of
	// Add's cost on a VM's kvm-clock.
	At time.Time
}

// Counts are the sums kept per key.
type Counts struct {
	Requests    int64 `json:"requests"`
	BytesOut    int64 `json:"bytes_out"`
	OriginBytes int64 `json:"origin_bytes"`
	// DeliveredNanos is delivered media time in nanoseconds: integers, so
	// sums are exact whatever the order of addition.
	DeliveredNanos int64 `json:"delivered_ns"`
}

func (c *Counts) add(o Counts) {
	c.Requests += o.Requests
	c.BytesOut += o.BytesOut
	c.OriginBytes += o.OriginBytes
	c.DeliveredNanos += o.DeliveredNanos
}

func (c Counts) isZero() bool { return c == Counts{} }
