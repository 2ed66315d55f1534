package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a minimal ResponseWriter, so the benchmark measures the
// edge's hit path and not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

func benchmarkHit(b *testing.B, path string, body []byte, contentType string) {
	o := newTestOrigin(b)
	o.put(path, &testObject{body: body, contentType: contentType, cacheControl: "public, max-age=31536000, immutable"})
	e, err := New(Config{Name: "bench", Origin: o.URL(), Logger: discardLogger()})
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
	benchmarkHit(b, "/videos/v1/master.m3u8", pattern(600), "application/vnd.apple.mpegurl")
}

// BenchmarkEdge_HitSegment measures a memory hit of a 1 MiB segment.
func BenchmarkEdge_HitSegment(b *testing.B) {
	benchmarkHit(b, "/videos/v1/seg1.m4s", pattern(1<<20), "video/mp4")
}
