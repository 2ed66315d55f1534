package steering

import (
	"net/http"
	"testing"
	"time"
)

func TestFreshness_FollowsCacheControlWithinTheLimit(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"max-age under the limit", http.Header{"Cache-Control": {"public, max-age=2"}}, 2 * time.Second},
		{"max-age over the limit", http.Header{"Cache-Control": {"public, max-age=60"}}, 5 * time.Second},
		{"s-maxage wins for a shared cache", http.Header{"Cache-Control": {"max-age=60, s-maxage=3"}}, 3 * time.Second},
		{"Age is subtracted", http.Header{"Cache-Control": {"max-age=4"}, "Age": {"3"}}, time.Second},
		{"Age past the lifetime", http.Header{"Cache-Control": {"max-age=4"}, "Age": {"9"}}, 0},
		{"no-store", http.Header{"Cache-Control": {"max-age=60, no-store"}}, 0},
		{"no-cache", http.Header{"Cache-Control": {"no-cache"}}, 0},
		{"private", http.Header{"Cache-Control": {"private, max-age=60"}}, 0},
		{"nothing said", http.Header{}, 0},
		{"max-age=0", http.Header{"Cache-Control": {"max-age=0"}}, 0},
		{"garbage", http.Header{"Cache-Control": {"max-age=soon"}}, 0},
		{"quoted, upper-case, several lines", http.Header{"Cache-Control": {"public", `MAX-AGE="2"`}}, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := freshness(tc.header, 5*time.Second); got != tc.want {
				t.Errorf("freshness = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMasterCache_ExpiresAndStaysBounded(t *testing.T) {
	c := newMasterCache(2)
	now := time.Unix(1000, 0)
	p1, p2, p3 := &masterPlaylist{}, &masterPlaylist{}, &masterPlaylist{}
	c.put("a", p1, 10*time.Second, now)
	c.put("b", p2, 3*time.Second, now)
	c.put("none", p3, 0, now) // not cacheable: not stored
	if got, ok := c.get("a", now.Add(9*time.Second)); !ok || got != p1 {
		t.Fatal("a fresh entry was not returned")
	}
	if _, ok := c.get("none", now); ok {
		t.Fatal("an entry with no lifetime was stored")
	}
	// Full: the entry closest to expiry ("b") makes room.
	c.put("c", p3, 10*time.Second, now.Add(time.Second))
	if _, ok := c.get("b", now.Add(time.Second)); ok {
		t.Error("the entry closest to expiry was kept over a new one")
	}
	if _, ok := c.get("a", now.Add(time.Second)); !ok {
		t.Error("an entry with longer to live was evicted")
	}
	if _, ok := c.get("a", now.Add(10*time.Second)); ok {
		t.Error("an expired entry was returned")
	}
	if len(c.entries) > 2 {
		t.Errorf("%d entries, bound 2", len(c.entries))
	}
}
