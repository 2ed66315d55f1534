package player

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/packager/captions"
)

// The captions a viewer turns on with `c` and the menu: one uploaded as
// SRT, one as WebVTT, converted and listed in the master the way the
// origin does it (packager/captions, a SUBTITLES group with a one-segment
// playlist per language). Each cue spans most of the clip, so it is on
// screen wherever the keyboard checks leave the playhead.
var testCaptions = []struct {
	lang, name, file, cue string
}{
	{"en", "English", "1\r\n00:00:01,000 --> 00:00:23,000\r\nHello from SRT\r\n", "Hello from SRT"},
	{"de", "Deutsch", "WEBVTT\n\n00:00:01.000 --> 00:00:23.000\nHallo aus WebVTT\n", "Hallo aus WebVTT"},
}

// captionSeconds is the clip's length: `l` seeks 10 s on from past 2 s,
// and the cue must still be showing there.
const captionSeconds = 24

func TestPlayer_KeyboardAndCaptionsInChromium(t *testing.T) {
	assets := requireBuiltPlayer(t)
	media := t.TempDir()
	makeHLSLadderFor(t, media, captionSeconds)
	writeCaptionedMaster(t, filepath.Join(media, "hls"))
	srv := servePlayerPages(t, assets, media)

	dir := os.Getenv("STREAMFRONT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create the artifacts folder %s: %v", dir, err)
	}
	shot := filepath.Join(dir, "player-e2e-keyboard-captions.png")
	args := []string{filepath.Join("e2e", "keys.mjs"), "--url", srv.URL + "/captions", "--screenshot", shot, "--timeout-ms", "90000"}
	for _, c := range testCaptions {
		args = append(args, "--captions", c.name+"="+c.cue)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("screenshots: %s (and -second-track)\nkeys.mjs: %s", shot, strings.TrimSpace(stdout.String()))
	if err != nil || !strings.Contains(stdout.String(), `"ok":true`) {
		t.Fatalf("keys.mjs failed (%v)\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	// Under the site's policy the page logs nothing: a CSP refusal (a style
	// or worker the policy blocks) shows up here as a console error.
	var res struct {
		Errors []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal([]byte(lastLine(stdout.String())), &res); err != nil {
		t.Fatalf("keys.mjs printed no JSON result: %v", err)
	}
	for _, e := range res.Errors {
		t.Errorf("browser error: %s: %v", e["source"], e["message"])
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var streamInf = regexp.MustCompile(`(?m)^(#EXT-X-STREAM-INF:.*)$`)

// writeCaptionedMaster writes hlsDir/captioned.m3u8: master.m3u8 with a
// SUBTITLES group of testCaptions, and each track's playlist and WebVTT
// under hlsDir/captions/.
func writeCaptionedMaster(t *testing.T, hlsDir string) {
	t.Helper()
	master, err := os.ReadFile(filepath.Join(hlsDir, "master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(hlsDir, "captions"), 0o755); err != nil {
		t.Fatal(err)
	}
	duration := captionSeconds * time.Second
	var group strings.Builder
	for _, c := range testCaptions {
		vtt, _, err := captions.ToWebVTT([]byte(c.file), duration)
		if err != nil {
			t.Fatalf("caption %s: %v", c.lang, err)
		}
		write(t, filepath.Join(hlsDir, "captions", c.lang+".vtt"), vtt)
		write(t, filepath.Join(hlsDir, "captions", c.lang+".m3u8"), captions.Playlist(c.lang+".vtt", duration))
		// As packager/hls writes the group: no default, so captions start off.
		group.WriteString(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="` + c.name +
			`",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,LANGUAGE="` + c.lang + `",URI="captions/` + c.lang + ".m3u8\"\n")
	}
	body := streamInf.ReplaceAllString(string(master), `$1,SUBTITLES="subs"`)
	body = strings.Replace(body, "#EXT-X-STREAM-INF", group.String()+"#EXT-X-STREAM-INF", 1)
	write(t, filepath.Join(hlsDir, "captioned.m3u8"), []byte(body))
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
