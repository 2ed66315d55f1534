package origin_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
)

// Captions uploaded as SRT and WebVTT are served as WebVTT, listed in the
// master's SUBTITLES group and in the video JSON; ffmpeg reads the HLS
// with them; bad files are 400s with a sentence.
func TestCaptions_SRTAndWebVTTJoinTheMasterPlaylist(t *testing.T) {
	base, _ := startOrigin(t)
	code, v, body := upload(t, base, testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 6, Faststart: true}), "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFor(t, base, v.ID, "ready", func(p progressVideo) bool { return p.Status == "ready" })
	put := func(lang, name, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/videos/"+v.ID+"/captions/"+lang+"?name="+name, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := put("en", "", "1\r\n00:00:01,000 --> 00:00:03,000\r\nHello from SRT\r\n"); code != http.StatusOK || !strings.Contains(body, `"lang":"en"`) {
		t.Fatalf("SRT: %d %s", code, body)
	}
	if code, body := put("pt-br", "Portugu%C3%AAs", "WEBVTT\n\n00:00:02.000 --> 00:00:04.000\nOlá do WebVTT\n"); code != http.StatusOK || !strings.Contains(body, `"lang":"pt-BR"`) {
		t.Fatalf("WebVTT: %d %s", code, body)
	}
	for _, bad := range [][2]string{{"en", "not captions"}, {"xx-!!", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nx\n"}, {"fr", "1\n01:00:00,000 --> 01:00:02,000\nlate\n"}} {
		if code, body := put(bad[0], "", bad[1]); code != http.StatusBadRequest || !strings.Contains(body, "error") {
			t.Errorf("%q: %d %s, want 400", bad[0], code, body)
		}
	}
	_, master := fetchTo(t, base+"/videos/"+v.ID+"/master.m3u8", "")
	for _, want := range []string{`TYPE=SUBTITLES,GROUP-ID="subs",NAME="English"`, `LANGUAGE="pt-BR",URI="hls/captions/pt-BR.m3u8"`, `SUBTITLES="subs"`} {
		if !strings.Contains(master, want) {
			t.Errorf("the master lacks %s:\n%s", want, master)
		}
	}
	resp, vtt := fetchTo(t, base+"/videos/"+v.ID+"/hls/captions/en.vtt", "")
	if resp.Header.Get("Content-Type") != "text/vtt; charset=utf-8" || !strings.HasPrefix(vtt, "WEBVTT") || !strings.Contains(vtt, "00:00:01.000 --> 00:00:03.000") {
		t.Fatalf("en.vtt: %q\n%s", resp.Header.Get("Content-Type"), vtt)
	}
	// ffmpeg reads the whole HLS, subtitle group included, without errors.
	if d := testenv.Decode(t, base+"/videos/"+v.ID+"/master.m3u8"); d < 5.9 || d > 6.1 {
		t.Fatalf("decodes to %.3f s", d)
	}
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v1/videos/"+v.ID+"/captions/en", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	if _, master = fetchTo(t, base+"/videos/"+v.ID+"/master.m3u8", ""); strings.Contains(master, `NAME="English"`) {
		t.Fatalf("deleted captions still listed:\n%s", master)
	}
}
