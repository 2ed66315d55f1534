package edge

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestEdge_PullsFromRendezvousShieldAndFallsBackToOrigin(t *testing.T) {
	o := newTestOrigin(t)
	_, shieldA, stopA := startEdgeStoppable(t, o.URL(), func(c *Config) { c.Name = "shield-a" })
	_, shieldB, stopB := startEdgeStoppable(t, o.URL(), func(c *Config) { c.Name = "shield-b" })
	shields := []string{shieldA, shieldB}
	names := []string{"shield-a", "shield-b"}
	_, base := startEdge(t, o.URL(), func(c *Config) { c.Shields = shields; c.SliceSize = testSlice })
	c := testClient(t)
	hr := newRendezvous(shields)
	// Shield ports are random, so pick paths until both shields own some.
	var paths []string
	owners := map[string]bool{}
	for i := 0; i < 100 && (len(paths) < 8 || len(owners) < 2); i++ {
		path := fmt.Sprintf("/videos/v%d/seg1.m4s", i)
		paths = append(paths, path)
		owners[names[hr.pick(path)]] = true
	}
	used := map[string]bool{}
	for i, path := range paths {
		body := pattern(1000 + i)
		o.put(path, &testObject{body: body, cacheControl: "max-age=600"})
		r := get(t, c, base+path)
		wantStatus(t, r, 200)
		if !bytes.Equal(r.body, body) {
			t.Fatalf("%s: body differs", path)
		}
		shield := names[hr.pick(path)]
		used[shield] = true
		if want := "1.1 " + shield + ", 1.1 test-edge"; r.header.Get("Via") != want {
			t.Fatalf("%s: Via %q, want %q", path, r.header.Get("Via"), want)
		}
		if n := o.count(path); n != 1 {
			t.Fatalf("%s: origin saw %d requests", path, n)
		}
	}
	if len(used) != 2 {
		t.Fatalf("objects all went to one shield: %v", used)
	}

	// Sliced objects go through the shield too, with their ranges.
	mp4 := pattern(3*testSlice + 3)
	o.put("/videos/v1/r/720.mp4", &testObject{body: mp4, etag: `"m"`, cacheControl: "max-age=600"})
	r := get(t, c, base+"/videos/v1/r/720.mp4")
	wantStatus(t, r, 200)
	if !bytes.Equal(r.body, mp4) {
		t.Fatal("sliced body through the shield differs")
	}

	stopA()
	stopB()
	o.put("/videos/late/seg1.m4s", &testObject{body: []byte("late"), cacheControl: "max-age=600"})
	r = get(t, c, base+"/videos/late/seg1.m4s")
	wantStatus(t, r, 200)
	if string(r.body) != "late" || r.header.Get("Via") != "1.1 test-edge" {
		t.Fatalf("fallback to origin: body %q Via %q", r.body, r.header.Get("Via"))
	}
}

func TestEdge_DetectsShieldLoops(t *testing.T) {
	o := newTestOrigin(t)
	_, base := startEdge(t, o.URL(), nil)
	r := do(t, testClient(t), "GET", base+"/videos/v1/seg1.m4s", map[string]string{"Via": "1.1 other, 1.1 test-edge"})
	wantStatus(t, r, 508)
}

// A shield fills for every distribution: the edge sends the
// distribution's host, the shield picks the same distribution, and equal
// paths of two sites never mix, on the edge or on the shield.
func TestEdge_ShieldFillsEveryDistribution(t *testing.T) {
	site, media := newTestOrigin(t), newTestOrigin(t)
	dists := func(c *Config) {
		c.Origin = ""
		c.Distributions = []Distribution{
			{Name: "site", Origins: []Origin{{Name: "o", URL: site.URL()}}},
			{Name: "media", Hosts: []string{"media.example"}, Origins: []Origin{{Name: "o", URL: media.URL()}}},
		}
	}
	_, shield := startEdge(t, "", func(c *Config) { c.Name = "shield-a"; dists(c) })
	_, base := startEdge(t, "", func(c *Config) { dists(c); c.Shields = []string{shield} })

	site.put("/app.js", &testObject{body: []byte("site js"), cacheControl: "max-age=600"})
	media.put("/app.js", &testObject{body: []byte("media js"), cacheControl: "max-age=600"})
	for _, c := range []struct{ host, body string }{{"", "site js"}, {"media.example", "media js"}, {"MEDIA.example:8081", "media js"}} {
		status, _, body := getHost(t, base, c.host, "/app.js")
		if status != 200 || body != c.body {
			t.Fatalf("host %q: %d %q, want %q", c.host, status, body, c.body)
		}
	}
	// Each origin was asked once, by the shield (the second media request
	// was a hit at the edge).
	if n, m := site.count("/app.js"), media.count("/app.js"); n != 1 || m != 1 {
		t.Fatalf("origins saw %d and %d requests, want 1 each", n, m)
	}
	// The shield holds both, each for its own host.
	for _, c := range []struct{ host, body string }{{"", "site js"}, {"media.example", "media js"}} {
		if status, xc, body := getHost(t, shield, c.host, "/app.js"); status != 200 || body != c.body || !strings.HasPrefix(xc, "Hit") {
			t.Fatalf("shield, host %q: %d %q %q, want a hit of %q", c.host, status, xc, body, c.body)
		}
	}
}
