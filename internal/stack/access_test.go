package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/urlsign"
)

// The keys of the access-control stack, known to the test so it can sign
// tokens the origin would not give out (expired, for another video).
var (
	accessKey  = urlsign.Key{ID: "e2e-key", Secret: []byte("e2e-signing-key-0123456789")}
	edgeSecret = "e2e-edge-secret"
)

func startAccessStack(t *testing.T) *stack.Stack {
	t.Helper()
	testenv.Require(t, "ffmpeg")
	d := stack.Local(t.TempDir(), apiKey)
	d.Secrets.EdgeSecret = config.Secret(edgeSecret)
	d.Secrets.SigningKey = config.SigningKey{ID: accessKey.ID, Secret: config.Secret(accessKey.Secret)}
	st, err := stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stack shut down with error: %v", err)
		}
	})
	return st
}

// apiVideo is the Video JSON with every media URL.
type apiVideo struct {
	video
	Visibility    string `json:"visibility"`
	ThumbnailURL  string `json:"thumbnail_url"`
	StoryboardURL string `json:"storyboard_url"`
}

func patchVideo(t *testing.T, base, id, body string) apiVideo {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, base+"/api/v1/videos/"+id, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v apiVideo
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH %s: %d %v", body, resp.StatusCode, err)
	}
	return v
}

// waitFinal polls the API until every rendition, the poster and the
// storyboard are made (the "ready" event comes earlier, with the first
// rendition).
func waitFinal(t *testing.T, base, id string) apiVideo {
	t.Helper()
	type final struct {
		apiVideo
		Stage   string  `json:"stage"`
		Percent float64 `json:"percent"`
	}
	v := testenv.WaitVideo(t, base, id, "final (ready, no stage, 100%) or failed", 2*time.Minute, func(v final) bool {
		return v.Status == "failed" || (v.Status == "ready" && v.Stage == "" && v.Percent == 100)
	})
	if v.Status == "failed" {
		t.Fatalf("video %s failed: %s", id, v.Error)
	}
	return v.apiVideo
}

// wantForbidden checks a 403 JSON refusal that says want.
func wantForbidden(t *testing.T, u, want string) {
	t.Helper()
	resp, body := get(t, u, nil)
	var e struct{ Error string }
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(e.Error, want) {
		t.Fatalf("GET %s: %d %s, want 403 saying %q", u, resp.StatusCode, body, want)
	}
}

// TestStack_PrivateVideoNeedsSignedURLs is the acceptance test of signed
// access: a private video is refused at the edges without a valid token,
// plays with the API's signed URLs (every child URL carries the token
// through the rewritten playlists), and the origin serves only the edges.
func TestStack_PrivateVideoNeedsSignedURLs(t *testing.T) {
	st := startAccessStack(t)
	const seconds = 8.0
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "private.mp4", Seconds: seconds, Width: 640, Height: 360, Faststart: true})
	v := uploadMultipart(t, st.WebURL, src, "Private video")
	waitReady(t, st.WebURL, v.ID)
	waitFinal(t, st.WebURL, v.ID)
	pv := patchVideo(t, st.WebURL, v.ID, `{"visibility":"private"}`)
	if pv.Visibility != "private" {
		t.Fatalf("visibility %q", pv.Visibility)
	}
	hls, err := url.Parse(pv.HLSURL)
	if err != nil || hls.Query().Get("token") == "" {
		t.Fatalf("a private video's hls_url must be signed: %q", pv.HLSURL)
	}
	token := hls.Query().Get("token")
	prefix := "/videos/" + v.ID + "/"
	master := prefix + "master.m3u8"
	mp4Path := strings.TrimPrefix(strings.SplitN(pv.MP4URL, "?", 2)[0], st.RouterURL)

	t.Run("refused without a valid token on every edge", func(t *testing.T) {
		sign := func(resource string, expires time.Time) string {
			tok, err := urlsign.Sign(urlsign.Policy{Resource: resource, Expires: expires}, accessKey)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		expired := sign(prefix, time.Now().Add(-time.Minute))
		otherVideo := sign("/videos/0123456789abcdef/", time.Now().Add(time.Hour))
		// Change one character in the middle of the signature.
		i := len(token) - 10
		c := byte('A')
		if token[i] == 'A' {
			c = 'B'
		}
		tampered := token[:i] + string(c) + token[i+1:]
		for _, edge := range st.EdgeURLs {
			wantForbidden(t, edge+master, "This video is private")
			wantForbidden(t, edge+master+"?token=", "This video is private")
			wantForbidden(t, edge+master+"?token="+expired, "This link has expired; reload the page to get a new one.")
			wantForbidden(t, edge+master+"?token="+tampered, "damaged or was altered")
			wantForbidden(t, edge+master+"?token="+otherVideo, "another video")
			wantForbidden(t, edge+prefix+"hls/src/video/0.m4s", "This video is private")
			wantForbidden(t, edge+mp4Path, "This video is private")
		}
	})

	t.Run("ffmpeg plays the signed hls_url through the rewritten playlists", func(t *testing.T) {
		for _, edge := range st.EdgeURLs {
			u := edge + strings.TrimPrefix(pv.HLSURL, st.RouterURL)
			if d := testenv.Decode(t, u); d < seconds-0.1 || d > seconds+0.1 {
				t.Errorf("%s decodes to %.3f s, source is %.1f s", u, d, seconds)
			}
		}
		if d := testenv.Decode(t, pv.HLSURL); d < seconds-0.1 || d > seconds+0.1 {
			t.Errorf("the signed hls_url (router) decodes to %.3f s, source is %.1f s", d, seconds)
		}
		// The router's steered master: every URI on an edge, with the token once.
		resp, body := get(t, pv.HLSURL, nil)
		if resp.StatusCode != http.StatusOK || strings.Count(string(body), "?token="+token) != strings.Count(string(body), "/videos/") || resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("router master: %d %s\n%s", resp.StatusCode, resp.Header, body)
		}
		// An edge's master sets the signed cookie.
		resp, body = get(t, st.EdgeURLs[0]+strings.TrimPrefix(pv.HLSURL, st.RouterURL), nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "?token="+token) || resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("edge master: %d %s\n%s", resp.StatusCode, resp.Header, body)
		}
		if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, urlsign.CookieName+"="+token) || !strings.Contains(c, "Path="+prefix) {
			t.Fatalf("master sets cookie %q", c)
		}
	})

	t.Run("the signed mp4_url serves ranges", func(t *testing.T) {
		_, whole := get(t, st.OriginURL+mp4Path, map[string]string{
			urlsign.RequestHeader: urlsign.RequestSignature([]byte(edgeSecret), http.MethodGet, mp4Path, time.Now()),
		})
		mid := int64(len(whole) / 2)
		for _, edge := range st.EdgeURLs {
			u := edge + strings.TrimPrefix(pv.MP4URL, st.RouterURL)
			resp, got := get(t, u, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", mid, mid+999)})
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, whole[mid:mid+1000]) {
				t.Fatalf("%s: status %d, %d bytes", u, resp.StatusCode, len(got))
			}
		}
		if d := testenv.Decode(t, pv.MP4URL); d < seconds-0.1 || d > seconds+0.1 {
			t.Errorf("the signed MP4 decodes to %.3f s", d)
		}
	})

	t.Run("poster and storyboard sprites open with the token", func(t *testing.T) {
		if pv.ThumbnailURL == "" || pv.StoryboardURL == "" {
			t.Fatalf("a final video has a poster and a storyboard: %+v", pv)
		}
		if resp, _ := get(t, pv.ThumbnailURL, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("poster: %d", resp.StatusCode)
		}
		resp, vtt := get(t, pv.StoryboardURL, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(vtt), ".jpg?token="+token) {
			t.Fatalf("storyboard: %d\n%s", resp.StatusCode, vtt)
		}
		for _, line := range strings.Split(string(vtt), "\n") {
			if strings.Contains(line, ".jpg?token=") {
				sprite, _ := url.Parse(pv.StoryboardURL)
				ref, _ := url.Parse(line)
				if resp, _ := get(t, sprite.ResolveReference(ref).String(), nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("sprite %s: %d", line, resp.StatusCode)
				}
				break
			}
		}
	})

	t.Run("the origin serves edges only", func(t *testing.T) {
		resp, body := get(t, st.OriginURL+master, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Media is served through the CDN edges; use the hls_url/mp4_url from the API.") {
			t.Fatalf("direct viewer request: %d %s", resp.StatusCode, body)
		}
		resp, _ = get(t, st.OriginURL+master+"?token="+token, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a viewer token does not open the origin: %d", resp.StatusCode)
		}
		resp, body = get(t, st.OriginURL+master, map[string]string{
			urlsign.RequestHeader: urlsign.RequestSignature([]byte(edgeSecret), http.MethodGet, master, time.Now()),
		})
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "#EXTM3U") || resp.Header.Get(urlsign.AccessHeader) != urlsign.AccessSigned {
			t.Fatalf("edge request: %d %s", resp.StatusCode, body)
		}
		// The API stays open to everyone.
		if resp, _ := get(t, st.OriginURL+"/api/v1/videos/"+v.ID, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("API: %d", resp.StatusCode)
		}
	})

	t.Run("Chromium plays the private watch page", func(t *testing.T) {
		node := testenv.Require(t, "node")
		testenv.Require(t, "chromium")
		root := testenv.RepoRoot(t)
		shot := filepath.Join(testenv.ArtifactDir(t), "watch-private-"+v.ID+".png")
		cmd := exec.Command(node, filepath.Join(root, "player", "e2e", "play.mjs"),
			"--url", v.PageURL, "--screenshot", shot, "--seek-fraction", "0.8", "--timeout-ms", "90000")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("playback failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		t.Logf("player: %s", strings.TrimSpace(stdout.String()))
	})

	t.Run("making it public again opens it", func(t *testing.T) {
		pub := patchVideo(t, st.WebURL, v.ID, `{"visibility":"public"}`)
		if strings.Contains(pub.HLSURL, "token=") {
			t.Fatalf("public hls_url is signed: %s", pub.HLSURL)
		}
		for _, edge := range st.EdgeURLs {
			// The PATCH invalidated the edges: the next answer comes from
			// the origin without the private mark.
			if resp, _ := get(t, edge+master, nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d after making the video public", edge, resp.StatusCode)
			}
		}
	})
}

// TestStack_DeleteInvalidatesEveryEdge: a segment cached on both edges is
// gone from both as soon as DELETE returns.
func TestStack_DeleteInvalidatesEveryEdge(t *testing.T) {
	st := startAccessStack(t)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "doomed.mp4", Seconds: 4, Width: 640, Height: 360, Faststart: true})
	v := uploadMultipart(t, st.WebURL, src, "To be deleted")
	waitReady(t, st.WebURL, v.ID)
	waitFinal(t, st.WebURL, v.ID)
	segment := "/videos/" + v.ID + "/hls/src/video/0.m4s"
	for _, edge := range st.EdgeURLs {
		get(t, edge+segment, nil)
		// The fill stores before it leaves its flight; a later request
		// finds it, at the latest once the fill has finished.
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, _ := get(t, edge+segment, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", edge, resp.StatusCode)
			}
			if strings.HasPrefix(resp.Header.Get("X-Cache"), "Hit") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never cached the segment: X-Cache %q", edge, resp.Header.Get("X-Cache"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	req, _ := http.NewRequest(http.MethodDelete, st.WebURL+"/api/v1/videos/"+v.ID, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", resp.StatusCode)
	}
	for _, edge := range st.EdgeURLs {
		if resp, _ := get(t, edge+segment, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s still answers %d (X-Cache %q) for a deleted video", edge, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
}
