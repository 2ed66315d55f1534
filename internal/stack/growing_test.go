package stack_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
)

// A source that must be encoded (VP9/Opus) plays before its encode ends:
// at ready its master offers the growing HLS, which ffmpeg decodes
// through an edge; once complete the same URL decodes the whole duration.
func TestStack_PlaysWhileEncoding(t *testing.T) {
	st := startStack(t)
	ffmpeg := testenv.Require(t, "ffmpeg")
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "long.webm", Seconds: 30, Width: 1280, Height: 720,
		VCodec: "libvpx-vp9", ACodec: "libopus", Extra: []string{"-deadline", "realtime", "-cpu-used", "8"}})
	code, v, body := uploadRaw(t, st.WebURL, src)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitReady(t, st.WebURL, v.ID)
	master := st.EdgeURLs[0] + "/videos/" + v.ID + "/master.m3u8"
	resp, text := get(t, master, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(text), "hls/encoding/stream.m3u8") {
		t.Fatalf("at ready the master (%d) does not offer the growing HLS:\n%s", resp.StatusCode, text)
	}
	if v := fullVideoOf(t, st.WebURL, v.ID); v.Stage == "" {
		t.Fatalf("complete at its first ready: nothing was played while encoding")
	}

	growing := st.EdgeURLs[0] + "/videos/" + v.ID + "/hls/encoding/stream.m3u8"
	resp, _ = get(t, growing, nil)
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=1" && !strings.Contains(cc, "max-age=60") {
		t.Errorf("growing playlist Cache-Control %q", cc)
	}
	// The video's own hls_url, through an edge: its master names the
	// growing playlist (ffmpeg starts a live playlist at its first segment
	// when told to; players start where the stream starts on their own).
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-live_start_index", "0", "-i", master, "-t", "10", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("the master of a video still encoding does not decode through the edge: %v %s", err, stderr.String())
	}

	done := waitComplete(t, st.WebURL, v.ID)
	if done.Status != "ready" {
		t.Fatalf("ended %s: %s", done.Status, done.Error)
	}
	if d := testenv.Decode(t, master); d < 29.9 || d > 30.1 {
		t.Errorf("complete, the master decodes to %.3f s, want 30", d)
	}
	if d := testenv.Decode(t, growing); d < 29.9 || d > 30.1 {
		t.Errorf("complete, the growing playlist (ended) decodes to %.3f s, want 30", d)
	}
}

func fullVideoOf(t *testing.T, base, id string) fullVideo {
	t.Helper()
	var v fullVideo
	_, body := get(t, base+"/api/v1/videos/"+id, nil)
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("video JSON %s: %v", body, err)
	}
	return v
}
