package urlsign

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestVerifyRequest(t *testing.T) {
	secret := []byte("edge-origin-shared-secret")
	signed := func(method, target string, at time.Time) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		SignRequest(r, secret, at)
		return r
	}
	tests := []struct {
		name string
		req  func() *http.Request
		ok   bool
	}{
		{"signed now", func() *http.Request { return signed(http.MethodGet, "/videos/a/master.m3u8", testNow) }, true},
		{"query is not part of the signature", func() *http.Request {
			r := signed(http.MethodGet, "/videos/a/master.m3u8", testNow)
			r.URL.RawQuery = "x=1"
			return r
		}, true},
		{"clock skew inside the window", func() *http.Request { return signed(http.MethodGet, "/videos/a/x", testNow.Add(MaxRequestSkew)) }, true},
		{"signed too long ago", func() *http.Request {
			return signed(http.MethodGet, "/videos/a/x", testNow.Add(-MaxRequestSkew-time.Second))
		}, false},
		{"signed in the future", func() *http.Request {
			return signed(http.MethodGet, "/videos/a/x", testNow.Add(MaxRequestSkew+time.Second))
		}, false},
		{"other path", func() *http.Request {
			r := signed(http.MethodGet, "/videos/a/x", testNow)
			r.URL.Path = "/videos/b/x"
			return r
		}, false},
		{"escaped path differs", func() *http.Request {
			r := signed(http.MethodGet, "/videos/a/x", testNow)
			r2 := httptest.NewRequest(http.MethodGet, "/videos/%61/x", nil)
			r2.Header = r.Header
			return r2
		}, false},
		{"other method", func() *http.Request {
			r := signed(http.MethodGet, "/videos/a/x", testNow)
			r.Method = "DELETE"
			return r
		}, false},
		{"other secret", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/videos/a/x", nil)
			SignRequest(r, []byte("another secret entirely"), testNow)
			return r
		}, false},
		{"no header", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/videos/a/x", nil) }, false},
		{"junk header", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/videos/a/x", nil)
			r.Header.Set(RequestHeader, "Bearer hunter2")
			return r
		}, false},
		{"huge time", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/videos/a/x", nil)
			r.Header.Set(RequestHeader, "v1:-9223372036854775808:"+strings.Repeat("A", 43))
			return r
		}, false},
		{"long header", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/videos/a/x", nil)
			r.Header.Set(RequestHeader, "v1:1:"+strings.Repeat("A", 500))
			return r
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyRequest(tt.req(), secret, testNow)
			if tt.ok != (err == nil) {
				t.Fatalf("VerifyRequest: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrUnsignedRequest) {
				t.Fatalf("error %v does not wrap ErrUnsignedRequest", err)
			}
		})
	}
}
