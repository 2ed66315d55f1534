package edge

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/streamfront/streamfront/edge/fastpath"
	"github.com/streamfront/streamfront/internal/usage"
)

// discardWriter is a minimal ResponseWriter, so the benchmark measures the
// edge's hit path and not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// benchConfig is the edge of the hit benchmarks; metered adds usage
// metering into a Sink that drops reports (the Meter's own cost is
// counting; sending happens every interval, off the request path).
func benchConfig(origin string, metered bool) Config {
	cfg := Config{Name: "bench", Origin: origin, Logger: discardLogger()}
	if metered {
		cfg.UsageSink = discardSink{}
	}
	return cfg
}

type discardSink struct{}

func (discardSink) Put(context.Context, *usage.Report) error { return nil }

func benchmarkHit(b *testing.B, path string, body []byte, contentType string, metered bool) {
	o := newTestOrigin(b)
	o.put(path, &testObject{body: body, contentType: contentType, cacheControl: "public, max-age=31536000, immutable"})
	e, err := New(benchConfig(o.URL(), metered))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	e.ServeHTTP(httptest.NewRecorder(), req) // fill
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// BenchmarkEdge_HitPlaylist measures a memory hit of a 600-byte playlist
// through the whole handler (middleware, metrics, headers).
func BenchmarkEdge_HitPlaylist(b *testing.B) {
	benchmarkHit(b, "/videos/v1/master.m3u8", pattern(600), "application/vnd.apple.mpegurl", false)
}

// BenchmarkEdge_HitPlaylistMetered is BenchmarkEdge_HitPlaylist with
// usage metering on.
func BenchmarkEdge_HitPlaylistMetered(b *testing.B) {
	benchmarkHit(b, "/videos/v1/master.m3u8", pattern(600), "application/vnd.apple.mpegurl", true)
}

// BenchmarkEdge_HitSegment measures a memory hit of a 1 MiB segment.
func BenchmarkEdge_HitSegment(b *testing.B) {
	benchmarkHit(b, "/videos/v1/seg1.m4s", pattern(1<<20), "video/mp4", false)
}

// BenchmarkEdge_HitSegmentMetered is BenchmarkEdge_HitSegment with usage
// metering on.
func BenchmarkEdge_HitSegmentMetered(b *testing.B) {
	benchmarkHit(b, "/videos/v1/seg1.m4s", pattern(1<<20), "video/mp4", true)
}

// scriptedConn is a net.Conn that reads the same request n times, then
// EOF, and throws away what is written: it drives the fast path's
// connection loop without sockets.
type scriptedConn struct {
	net.Conn // nil: only the methods below are used
	req      []byte
	n        int
	written  int64
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	c.n--
	return copy(p, c.req), nil
}

func (c *scriptedConn) Write(p []byte) (int, error)      { c.written += int64(len(p)); return len(p), nil }
func (c *scriptedConn) Close() error                     { return nil }
func (c *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(time.Time) error { return nil }
func (c *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}

func benchmarkFastHit(b *testing.B, path string, body []byte, contentType, extraHeader string, metered bool) {
	o := newTestOrigin(b)
	o.put(path, &testObject{body: body, contentType: contentType, cacheControl: "public, max-age=31536000, immutable"})
	e, err := New(benchConfig(o.URL(), metered))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil)) // fill
	fs := e.newFastServer(fastpath.NewHandoffListener(nil))
	conn := &scriptedConn{req: []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\n" + extraHeader + "\r\n")}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	conn.n = b.N
	fs.ServeConn(conn)
	if n := countsOf(e).handovers; n != [fastpath.HandoverReasons]float64{} {
		b.Fatalf("the fast path handed the connection over: %v", n)
	}
	if got := counterValue(e.metrics.fastAnswered); got != float64(b.N) {
		b.Fatalf("answered %v of %d", got, b.N)
	}
}

// BenchmarkFastPath_HitPlaylist measures the fast path's connection loop
// (read, parse, lookup, header, write, metrics) for a 600-byte playlist
// hit, without sockets.
func BenchmarkFastPath_HitPlaylist(b *testing.B) {
	benchmarkFastHit(b, "/videos/v1/master.m3u8", pattern(600), "application/vnd.apple.mpegurl", "", false)
}

// BenchmarkFastPath_HitPlaylistMetered is BenchmarkFastPath_HitPlaylist
// with usage metering on.
func BenchmarkFastPath_HitPlaylistMetered(b *testing.B) {
	benchmarkFastHit(b, "/videos/v1/master.m3u8", pattern(600), "application/vnd.apple.mpegurl", "", true)
}

// BenchmarkFastPath_HitPlaylistBrotli is BenchmarkFastPath_HitPlaylist
// for a browser's request: its Accept-Encoding picks the brotli variant.
func BenchmarkFastPath_HitPlaylistBrotli(b *testing.B) {
	benchmarkFastHit(b, "/videos/v1/master.m3u8", pattern(600), "application/vnd.apple.mpegurl", "Accept-Encoding: gzip, deflate, br, zstd\r\n", false)
}

// BenchmarkFastPath_HitSegment is BenchmarkFastPath_HitPlaylist for a
// 1 MiB segment (the body is not copied: the conn discards it).
func BenchmarkFastPath_HitSegment(b *testing.B) {
	benchmarkFastHit(b, "/videos/v1/seg1.m4s", pattern(1<<20), "video/mp4", "", false)
}

// BenchmarkFastPath_HitSegmentMetered is BenchmarkFastPath_HitSegment
// with usage metering on.
func BenchmarkFastPath_HitSegmentMetered(b *testing.B) {
	benchmarkFastHit(b, "/videos/v1/seg1.m4s", pattern(1<<20), "video/mp4", "", true)
}
