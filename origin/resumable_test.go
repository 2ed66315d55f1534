package origin_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
)

// tusCreate starts a resumable upload of size bytes and returns its URL
// and video ID.
func tusCreate(t *testing.T, base string, size int64, meta map[string]string) (string, string, int) {
	t.Helper()
	var md []string
	for k, v := range meta {
		md = append(md, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/uploads", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", strings.Join(md, ","))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get("Location"), resp.Header.Get("Streamfront-Video-Id"), resp.StatusCode
}

func tusOffset(t *testing.T, url string) int64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodHead, url, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Tus-Resumable", "1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s: %d", url, resp.StatusCode)
	}
	n, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func tusPatch(url string, offset int64, body io.Reader) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPatch, url, body)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	return http.DefaultClient.Do(req)
}

// cutReader gives n bytes, then fails: a connection that drops.
type cutReader struct {
	r io.Reader
	n int64
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errors.New("the connection dropped")
	}
	p = p[:min(int64(len(p)), c.n)]
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// A resumable upload cut off mid-way resumes from the offset the server
// stored, and the video plays whole.
func TestResumable_AnUploadCutOffResumesAndPlays(t *testing.T) {
	if raceDetector {
		// tusd v2.9.1 itself races when a request body is cut: its context's
		// cancel goroutine (handler/context.go:65) reads c.body while
		// writeChunk (unrouted_handler.go:911) sets it. Not our code; the
		// test runs in make test's plain pass.
		t.Skip("tusd v2.9.1 has a data race on a cut request body; this test runs without -race")
	}
	b := startBackend(t)
	o := startOriginOn(t, b, 0)
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 8, Faststart: true})
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	url, id, code := tusCreate(t, o.URL, int64(len(data)), map[string]string{"filename": "holiday.mp4", "title": "Resumed", "tags": "a,b"})
	if code != http.StatusCreated || url == "" || id == "" {
		t.Fatalf("create: %d %q %q", code, url, id)
	}
	if v, _ := getVideo(t, o.URL, id); v.Status != "uploading" || v.Title != "Resumed" {
		t.Fatalf("during the upload the video is %+v, want uploading and titled", v.video)
	}
	// Two thirds sent, then the connection drops.
	if resp, err := tusPatch(url, 0, &cutReader{r: bytes.NewReader(data), n: int64(len(data)) * 2 / 3}); err == nil {
		resp.Body.Close()
	}
	// Resume as tus clients do: ask the offset, send the rest; a 409 (the
	// cut PATCH was still being stored when we asked) or 423 (its lock is
	// still held) means ask again.
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		off := tusOffset(t, url)
		if off > int64(len(data))*2/3 {
			t.Fatalf("the server says %d bytes, more than the %d sent", off, len(data)*2/3)
		}
		t.Logf("stored before the drop: %d of %d bytes", off, len(data))
		var err error
		if resp, err = tusPatch(url, off, bytes.NewReader(data[off:])); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if (resp.StatusCode != http.StatusConflict && resp.StatusCode != http.StatusLocked) || attempt == 20 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("resume: %d offset %s", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	}
	done := waitFor(t, o.URL, id, "ready", func(p progressVideo) bool { return p.Status == "ready" || p.Status == "failed" })
	if done.Status != "ready" {
		t.Fatalf("ended %s: %s", done.Status, done.Error)
	}
	if d := testenv.Decode(t, done.HLSURL); d < 7.9 || d > 8.1 {
		t.Fatalf("decodes to %.3f s, want 8", d)
	}
	// A wrong offset is refused, not written.
	if resp, err := tusPatch(url, 5, strings.NewReader("xx")); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("a PATCH at a wrong offset: %d", resp.StatusCode)
		}
	}
}

func TestResumable_RefusedAndAbandonedUploads(t *testing.T) {
	b := startBackend(t)
	o := startOriginOn(t, b, 0, func(c *origin.Config, _ *origin.WorkerConfig) { c.ResumableExpiry = 2 * time.Second })
	// No key, no length, a bad visibility.
	req, _ := http.NewRequest(http.MethodPost, o.URL+"/api/v1/uploads", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "10")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a key: %d", resp.StatusCode)
	}
	if _, _, code := tusCreate(t, o.URL, 10, map[string]string{"visibility": "everyone"}); code != http.StatusBadRequest {
		t.Fatalf("a bad visibility: %d", code)
	}
	// Abandoned after a few bytes: removed and failed with a reason.
	url, id, code := tusCreate(t, o.URL, 1000, map[string]string{"filename": "x.mp4"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if resp, err := tusPatch(url, 0, strings.NewReader("0123456789")); err == nil {
		resp.Body.Close()
	}
	v := waitFor(t, o.URL, id, "failed", func(p progressVideo) bool { return p.Status == "failed" })
	if !strings.Contains(v.Error, "not completed within 2s") {
		t.Fatalf("error %q", v.Error)
	}
	req, _ = http.NewRequest(http.MethodHead, url, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Tus-Resumable", "1.0.0")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the removed upload answers %d, want 404", resp.StatusCode)
	}
}
