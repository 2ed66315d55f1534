package origin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

const apiKey = "test-key"

type video struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Status    string  `json:"status"`
	Error     string  `json:"error"`
	DurationS float64 `json:"duration_s"`
	HLSURL    string  `json:"hls_url"`
	MP4URL    string  `json:"mp4_url"`
}

// startOrigin runs an origin and its worker on loopback against a fresh S3
// and queue and returns its base URL; it serves its own media (no edge in
// front).
func startOrigin(t *testing.T) (string, *backend) {
	t.Helper()
	b := startBackend(t)
	return startOriginOn(t, b, 0).URL, b
}

func upload(t *testing.T, base, path string, query string) (int, video, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/videos"+query, f)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "video/mp4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var v video
	_ = json.Unmarshal(body, &v)
	return resp.StatusCode, v, string(body)
}

func waitDone(t *testing.T, base, id string) video {
	t.Helper()
	return testenv.WaitVideo(t, base, id, "ready or failed", 90*time.Second, func(v video) bool { return v.Status == "ready" || v.Status == "failed" })
}

func TestOrigin_UploadRemuxAndServe(t *testing.T) {
	base, _ := startOrigin(t)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 8})
	code, v, body := upload(t, base, src, "?title=Hello&tags=a,b")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	v = waitDone(t, base, v.ID)
	if v.Status != "ready" {
		t.Fatalf("video failed: %s", v.Error)
	}
	if v.Title != "Hello" || !strings.HasPrefix(v.HLSURL, base) {
		t.Fatalf("unexpected video %+v", v)
	}
	for _, u := range []string{v.HLSURL, v.MP4URL} {
		d := testenv.Decode(t, u)
		if d < 7.9 || d > 8.1 {
			t.Errorf("%s decodes to %.3f s, want 8", u, d)
		}
	}
	// A 1000-byte range from the middle of the MP4.
	req, _ := http.NewRequest(http.MethodGet, v.MP4URL, nil)
	req.Header.Set("Range", "bytes=100000-100999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	full, _ := http.Get(v.MP4URL)
	all, _ := io.ReadAll(full.Body)
	full.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, all[100000:101000]) {
		t.Fatalf("range: status %d, %d bytes, match %v", resp.StatusCode, len(got), bytes.Equal(got, all[100000:101000]))
	}
}

func TestOrigin_BadUploadsGetClearErrors(t *testing.T) {
	base, _ := startOrigin(t)
	dir := t.TempDir()
	good := testenv.MakeVideo(t, dir, testenv.Video{Seconds: 4, Faststart: true})
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 200000)
	for i := range random {
		random[i] = byte(i*7919 + i/13)
	}
	cases := []struct {
		name, path string
		wantCode   int    // at upload
		wantFail   string // substring of the failed error, when accepted
	}{
		{"empty", write("empty.mp4", nil), http.StatusBadRequest, ""},
		{"text", write("notes.txt", []byte(strings.Repeat("hello, this is not a video\n", 50))), http.StatusUnsupportedMediaType, ""},
		{"random", write("random.bin", random), http.StatusCreated, "not a video"},
		{"truncated", write("cut.mp4", data[:len(data)*4/10]), http.StatusCreated, "ends early"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, v, body := upload(t, base, c.path, "")
			if code != c.wantCode {
				t.Fatalf("upload: got %d (%s), want %d", code, body, c.wantCode)
			}
			var e struct{ Error string }
			_ = json.Unmarshal([]byte(body), &e)
			if code >= 400 {
				if e.Error == "" {
					t.Fatalf("a 4xx must say why: %s", body)
				}
				return
			}
			v = waitDone(t, base, v.ID)
			if v.Status != "failed" || !strings.Contains(v.Error, c.wantFail) {
				t.Fatalf("got status %s error %q, want failed with %q", v.Status, v.Error, c.wantFail)
			}
			fmt.Println(c.name, "→", v.Error)
		})
	}
	// The server is still up.
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("origin is down after bad uploads: %v", err)
	}
}

func TestOrigin_PrivateVideosAreUnlisted(t *testing.T) {
	base, _ := startOrigin(t)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2, Faststart: true})
	_, v, _ := upload(t, base, src, "?title=secret&visibility=private")
	list := func(key string) []video {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/videos", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Videos []video }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out.Videos
	}
	if got := list(""); len(got) != 0 {
		t.Fatalf("the public list shows a private video: %+v", got)
	}
	if got := list(apiKey); len(got) != 1 || got[0].ID != v.ID {
		t.Fatalf("the key holder should see the private video: %+v", got)
	}
}

// stopAfter is an upload body that stops the S3 server once some of it has
// been read, then goes on like a healthy client.
type stopAfter struct {
	left, stopAt int64
	stop         func()
}

func (b *stopAfter) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), b.left, 64<<10))
	clear(p[:n])
	b.left -= int64(n)
	if b.stop != nil && b.left <= b.stopAt {
		b.stop()
		b.stop = nil
	}
	return n, nil
}

func TestOrigin_StorageFailingMidUploadIsOurFaultNotTheUsers(t *testing.T) {
	s3 := startBackend(t)
	base := startOriginOn(t, s3, 0).URL
	// S3 goes away with the last part still to store; the rest of the body
	// is small enough for the server to drain, so the client reads the
	// answer rather than a reset.
	const size = 20 << 20
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/videos", &stopAfter{left: size, stopAt: 64 << 10, stop: s3.Stop})
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "video/mp4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "not a problem with your file") {
		t.Fatalf("storage failing mid-upload: %d %s; want 503 saying it is on our side", resp.StatusCode, body)
	}
}
