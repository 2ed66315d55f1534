package origin_test

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

// httpGet fetches url with header pairs and returns the answer and body.
func httpGet(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

var segmentLine = regexp.MustCompile(`(?m)^(\d+/\d+/video1/\d{10}\.m4s)$`)

// The DVR: while a broadcast is on, dvr.m3u8 lists the segments recorded
// in S3 over the stream's dvr_window_s (here 4 s, so the window slides
// during the test), every one dated and served from S3; it decodes; and
// it is gone once the broadcast has ended.
func TestLive_DVRServesTheRecordedWindow(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t)).URL
	code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"title": "DVR", "dvr_window_s": 4}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	dvr := base + "/videos/" + ls.ID + "/dvr.m3u8"
	if res, _ := httpGet(t, dvr); res.StatusCode != http.StatusNotFound {
		t.Fatalf("DVR of a stream not broadcasting: HTTP %d", res.StatusCode)
	}
	enc, _ := pushLive(t, ls.RTMPURL, 14, h264AAC...)
	waitLive(t, base, ls.ID, "live", 30*time.Second, func(l liveStream) bool { return l.Status == "live" })

	// Wait until the window has slid (the first segments are out of it).
	media := base + "/videos/" + ls.ID + "/dvr/video1.m3u8"
	var pl string
	deadline := time.Now().Add(60 * time.Second) // a guard against hanging, not a timing assertion
	for {
		res, body := httpGet(t, media)
		pl = string(body)
		if res.StatusCode == http.StatusOK && !strings.Contains(pl, "#EXT-X-MEDIA-SEQUENCE:0\n") {
			if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=1" {
				t.Errorf("DVR playlist Cache-Control %q", cc)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the DVR window did not slide: HTTP %d\n%s", res.StatusCode, pl)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var listed time.Duration
	for _, m := range regexp.MustCompile(`#EXTINF:([0-9.]+),`).FindAllStringSubmatch(pl, -1) {
		d, _ := time.ParseDuration(m[1] + "s")
		listed += d
	}
	if n := strings.Count(pl, "#EXTINF"); n == 0 || n != strings.Count(pl, "#EXT-X-PROGRAM-DATE-TIME:") ||
		strings.Contains(pl, "#EXT-X-ENDLIST") || listed > 4*time.Second+2*time.Second {
		t.Errorf("DVR playlist of a 4 s window (%v listed):\n%s", listed, pl)
	}

	res, mv := httpGet(t, dvr)
	if res.StatusCode != http.StatusOK || !bytes.Contains(mv, []byte("dvr/video1.m3u8")) || !bytes.Contains(mv, []byte(`URI="dvr/audio2.m3u8"`)) {
		t.Fatalf("dvr.m3u8: HTTP %d\n%s", res.StatusCode, mv)
	}
	seg := segmentLine.FindStringSubmatch(pl)
	if seg == nil {
		t.Fatalf("no segment in\n%s", pl)
	}
	res, data := httpGet(t, base+"/videos/"+ls.ID+"/dvr/"+seg[1])
	if res.StatusCode != http.StatusOK || len(data) == 0 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		res.Header.Get("X-Streamfront-Media-Duration") == "" {
		t.Errorf("segment %s: HTTP %d, %d bytes, %v", seg[1], res.StatusCode, len(data), res.Header)
	}
	init := base + "/videos/" + ls.ID + "/dvr/" + seg[1][:strings.LastIndex(seg[1], "/")] + "/init.mp4"
	if res, data := httpGet(t, init, "Range", "bytes=0-7"); res.StatusCode != http.StatusPartialContent || !bytes.Equal(data[4:8], []byte("ftyp")) {
		t.Errorf("init segment by range: HTTP %d %q", res.StatusCode, data)
	}
	for _, bad := range []string{"dvr/1/1/video1/0000000000.m4s", "dvr/01/1/video1/init.mp4", "dvr/1/1/video3/init.mp4", "dvr/x.m3u8"} {
		if res, _ := httpGet(t, base+"/videos/"+ls.ID+"/"+bad); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: HTTP %d, want 404", bad, res.StatusCode)
		}
	}

	// ffmpeg decodes the DVR from its first listed segment.
	ffmpeg := testenv.Require(t, "ffmpeg")
	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-live_start_index", "0", "-i", dvr, "-t", "3", "-f", "null", "-")
	var decErr bytes.Buffer
	dec.Stderr = &decErr
	if err := dec.Run(); err != nil || strings.TrimSpace(decErr.String()) != "" {
		t.Fatalf("decoding the DVR playlist: %v\n%s", err, decErr.String())
	}

	_ = enc.Wait()
	waitLive(t, base, ls.ID, "ended", 60*time.Second, func(l liveStream) bool { return l.Status == "ended" })
	if res, _ := httpGet(t, dvr); res.StatusCode != http.StatusNotFound {
		t.Errorf("DVR of an ended broadcast: HTTP %d", res.StatusCode)
	}
}
