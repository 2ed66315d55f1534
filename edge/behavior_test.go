package edge

import (
	"net/http"
	"testing"
	"time"
)

func TestKeyOf_QueryKeysNormaliseTheKey(t *testing.T) {
	e, err := New(Config{Name: "e", Origin: "http://127.0.0.1:1", Logger: discardLogger(), Behaviors: []Behavior{
		{Pattern: "/videos/*/thumbs/**", QueryKeys: []string{"w", "h"}},
		{Pattern: "/videos/**.m4s", QueryKeys: []string{}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	cases := []struct{ path, query, want string }{
		{"/videos/a/thumbs/p.jpg", "w=160&utm=x&h=90", "/videos/a/thumbs/p.jpg?h=90&w=160"},
		{"/videos/a/thumbs/p.jpg", "h=90&w=160", "/videos/a/thumbs/p.jpg?h=90&w=160"},
		{"/videos/a/thumbs/p.jpg", "utm=x", "/videos/a/thumbs/p.jpg"},
		{"/videos/a/hls/src/video/3.m4s", "session=42&token=abc", "/videos/a/hls/src/video/3.m4s"},
		{"/videos/a/master.m3u8", "b=2&a=1&token=abc", "/videos/a/master.m3u8?b=2&a=1"}, // no behavior: whole query, token removed
		// Blocking reloads: one key whatever the order of the _HLS_ parameters.
		{"/videos/l/video1_stream.m3u8", "_HLS_part=2&_HLS_msn=9", "/videos/l/video1_stream.m3u8?_HLS_msn=9&_HLS_part=2"},
		{"/videos/l/video1_stream.m3u8", "_HLS_msn=9&_HLS_part=2", "/videos/l/video1_stream.m3u8?_HLS_msn=9&_HLS_part=2"},
		{"/videos/l/video1_stream.m3u8", "_HLS_skip=YES&_HLS_part=2&_HLS_msn=9", "/videos/l/video1_stream.m3u8?_HLS_msn=9&_HLS_part=2&_HLS_skip=YES"},
	}
	for _, c := range cases {
		if got := e.keyOf(c.path, c.query); got != c.want {
			t.Errorf("keyOf(%s?%s) = %q, want %q", c.path, c.query, got, c.want)
		}
	}
}

func TestEdge_BehaviorTTLsApplyPerPath(t *testing.T) {
	o := newTestOrigin(t)
	// No Cache-Control: the default TTL decides; 404s: the negative TTL.
	o.put("/videos/v1/hls/src/video.m3u8", &testObject{body: []byte("#EXTM3U\n")})
	o.put("/videos/v1/r/src.jpg", &testObject{body: []byte("jpeg")})
	clock := newTestClock()
	e, base := startEdge(t, o.URL(), func(c *Config) {
		c.Now = clock.Now
		c.DefaultTTL = time.Hour
		c.Behaviors = []Behavior{{Pattern: "/videos/**.m3u8", DefaultTTL: time.Nanosecond, NegativeTTL: time.Minute}}
	})
	c := testClient(t)
	for _, p := range []string{"/videos/v1/hls/src/video.m3u8", "/videos/v1/r/src.jpg", "/videos/v1/missing.m3u8"} {
		get(t, c, base+p)
	}
	waitIdle(t, e)
	clock.advance(time.Millisecond) // past the playlist's 1 ns, within the 404's 1 s max-age
	if r := get(t, c, base+"/videos/v1/hls/src/video.m3u8"); r.header.Get("X-Cache") == "Hit from test-edge" {
		t.Error("the playlist behavior's 1 ns default TTL was not applied: still a plain hit")
	}
	if r := get(t, c, base+"/videos/v1/r/src.jpg"); r.header.Get("X-Cache") != "Hit from test-edge" {
		t.Errorf("other paths keep the Config's hour: X-Cache %q", r.header.Get("X-Cache"))
	}
	if r := get(t, c, base+"/videos/v1/missing.m3u8"); r.status != http.StatusNotFound || r.header.Get("X-Cache") != "Hit from test-edge" {
		t.Errorf("the behavior's one-minute negative TTL keeps the 404: %d %q", r.status, r.header.Get("X-Cache"))
	}
}

func TestCompileBehaviors_RefusesBadOnes(t *testing.T) {
	for _, b := range []Behavior{{Pattern: ""}, {Pattern: "/x", MinTTL: time.Hour, MaxTTL: time.Minute}, {Pattern: "/x", DefaultTTL: -1}} {
		if _, err := New(Config{Name: "e", Origin: "http://127.0.0.1:1", Logger: discardLogger(), Behaviors: []Behavior{b}}); err == nil {
			t.Errorf("behavior %+v was accepted", b)
		}
	}
}
