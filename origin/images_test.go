package origin_test

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
)

func fetchTo(t *testing.T, url, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if path != "" {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return resp, string(b)
}

// psnr is ffmpeg's peak signal-to-noise ratio between two images (dB).
func psnr(t *testing.T, a, b string) float64 {
	t.Helper()
	out, _ := exec.Command(testenv.Require(t, "ffmpeg"), "-nostdin", "-i", a, "-i", b, "-lavfi", "psnr", "-f", "null", "-").CombinedOutput()
	m := regexp.MustCompile(`average:([0-9.]+|inf)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no PSNR in:\n%s", out)
	}
	if m[1] == "inf" {
		return 100
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// A thumbnail by URL is the frame at the time asked, at the size asked,
// made once; an animation has the frames asked; bad asks are 400s.
func TestImages_AThumbnailIsTheFrameAtItsTimeAndAnAnimationHasItsFrames(t *testing.T) {
	base, _ := startOrigin(t)
	dir := t.TempDir()
	src := testenv.MakeVideo(t, dir, testenv.Video{Seconds: 8, Faststart: true})
	code, v, body := upload(t, base, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFor(t, base, v.ID, "ready", func(p progressVideo) bool { return p.Status == "ready" })
	ffmpeg := testenv.Require(t, "ffmpeg")
	ref := func(at string) string { // the frame at `at`, decoded by ffmpeg from the file
		out := filepath.Join(dir, "ref-"+at+".png")
		if b, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-ss", at, "-i", src, "-frames:v", "1", "-vf", "scale=320:-2", out).CombinedOutput(); err != nil {
			t.Fatalf("reference frame: %v %s", err, b)
		}
		return out
	}

	thumb := filepath.Join(dir, "thumb.jpg")
	resp, _ := fetchTo(t, base+"/videos/"+v.ID+"/thumbnail.jpg?time=5&width=320", thumb)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("thumbnail: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	at5, at6 := psnr(t, thumb, ref("5")), psnr(t, thumb, ref("6.5"))
	t.Logf("PSNR of the thumbnail against the frame at 5 s: %.1f dB, at 6.5 s: %.1f dB", at5, at6)
	if at5 < 30 || at5 < at6+3 {
		t.Fatalf("the thumbnail is not the frame at 5 s: PSNR %.1f dB to it, %.1f dB to the frame at 6.5 s", at5, at6)
	}
	// The same image asked again, spelled differently, is the stored one.
	again, _ := fetchTo(t, base+"/videos/"+v.ID+"/thumbnail.jpg?width=320&time=5.000", "")
	if again.Header.Get("ETag") != resp.Header.Get("ETag") {
		t.Fatalf("asked again: ETag %q, first %q", again.Header.Get("ETag"), resp.Header.Get("ETag"))
	}

	anim := filepath.Join(dir, "anim.gif")
	resp, _ = fetchTo(t, base+"/videos/"+v.ID+"/animated.gif?start=1&end=3&fps=10&width=160", anim)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("animated: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out, err := exec.Command(testenv.Require(t, "ffprobe"), "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,width", "-of", "csv=p=0", anim).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "160,20" {
		t.Fatalf("the GIF has width,frames %q, want 160,20", got)
	}
	if resp, _ := fetchTo(t, base+"/videos/"+v.ID+"/animated.webp?start=0&end=1", ""); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/webp" {
		t.Fatalf("animated webp: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	for _, bad := range []string{"thumbnail.jpg?time=99", "thumbnail.webp?width=5000", "animated.gif?start=0&end=20", "thumbnail.jpg?fit=zoom"} {
		resp, body := fetchTo(t, base+"/videos/"+v.ID+"/"+bad, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "error") {
			t.Errorf("%s: %d %s, want 400 with a sentence", bad, resp.StatusCode, body)
		}
	}
	if resp, _ := fetchTo(t, base+"/videos/"+v.ID+"/thumbnail.png", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("thumbnail.png: %d, want 404", resp.StatusCode)
	}
}
