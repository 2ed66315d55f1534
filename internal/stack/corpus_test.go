package stack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager/hls"
)

// corpusCase is one kind of upload people make, and what must come of it.
type corpusCase struct {
	name     string
	make     func(t *testing.T, dir string) string
	fail     string // substring of the error when it must fail; "" = must be ready
	rejected int    // HTTP status when refused at upload
	video    bool   // the result has a video stream
	audio    bool   // and an audio stream
	check    func(t *testing.T, c *corpusResult)
}

type corpusResult struct {
	v        fullVideo
	master   string
	playlist *playlist.Multivariant
}

type fullVideo struct {
	video
	Stage      string `json:"stage"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Renditions []struct {
		Name   string `json:"name"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
		Codecs string `json:"codecs"`
	} `json:"renditions"`
	ThumbnailURL  string `json:"thumbnail_url"`
	StoryboardURL string `json:"storyboard_url"`
}

func clip(v testenv.Video) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string { return testenv.MakeVideo(t, dir, v) }
}

func corpus() []corpusCase {
	return []corpusCase{
		{name: "moov at end, B-frames, 720p (ladder)", make: clip(testenv.Video{Name: "moov-end.mp4", Seconds: 10, Width: 1280, Height: 720}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				wantRenditions(t, c, "src", "480p", "360p")
			}},
		{name: "MOV rotated 90° (phone)", make: clip(testenv.Video{Name: "phone.mov", Seconds: 6, Width: 640, Height: 360, Rotate: 90}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				if c.v.Height <= c.v.Width {
					t.Errorf("rotated video is %dx%d, want portrait (upright)", c.v.Width, c.v.Height)
				}
			}},
		{name: "MOV, QuickTime sound description (remuxed)", make: clip(testenv.Video{Name: "camera.mov", Seconds: 6}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				// H.264 + AAC in MOV is served as it is, not re-encoded.
				wantRenditions(t, c, "src")
			}},
		{name: "MKV H.264 + AAC (streams copied, ladder)", make: clip(testenv.Video{Name: "clip.mkv", Seconds: 8, Width: 1280, Height: 720}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				// The streams are copied into an MP4, not re-encoded; the
				// ladder is encoded from the source with the copy's cuts.
				wantRenditions(t, c, "src", "480p", "360p")
			}},
		{name: "WebM VP9 + Opus", make: clip(testenv.Video{Name: "clip.webm", Seconds: 6, VCodec: "libvpx-vp9", ACodec: "libopus", Extra: []string{"-deadline", "realtime", "-cpu-used", "8"}}),
			video: true, audio: true},
		{name: "HEVC", make: clip(testenv.Video{Name: "hevc.mp4", Seconds: 12, Width: 854, Height: 480, VCodec: "libx265"}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				wantRenditions(t, c, "480p", "src", "360p")
				h264 := 0
				for _, r := range c.v.Renditions {
					if strings.HasPrefix(r.Codecs, "avc1") {
						h264++
					}
				}
				if h264 < 2 {
					t.Errorf("an HEVC source needs H.264 renditions for browsers without HEVC, has %d", h264)
				}
			}},
		{name: "variable frame rate", make: clip(testenv.Video{Name: "vfr.mp4", Seconds: 8, Extra: []string{"-vf", "select='lt(mod(n,10),6)'", "-fps_mode", "vfr"}}),
			video: true, audio: true},
		{name: "anamorphic 853x480 (720x480, SAR 32:27)", make: clip(testenv.Video{Name: "anamorphic.mp4", Seconds: 12, Width: 720, Height: 480, Extra: []string{"-vf", "setsar=32/27"}}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				for _, r := range c.v.Renditions {
					if r.Height > 0 && math.Abs(float64(r.Width)/float64(r.Height)-16.0/9) > 0.02 {
						t.Errorf("rendition %s is %dx%d: the 16:9 display aspect is lost", r.Name, r.Width, r.Height)
					}
				}
			}},
		{name: "20 s GOP", make: clip(testenv.Video{Name: "gop20.mp4", Seconds: 30, GOP: 500}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				_, body := get(t, mediaURL(c, "src", "video"), nil)
				if !strings.Contains(string(body), "## Segments start on the source's keyframes") {
					t.Errorf("the playlist does not say why its segments are long:\n%s", body)
				}
			}},
		{name: "5.1 audio", make: clip(testenv.Video{Name: "surround.mp4", Seconds: 6, Channels: 6}),
			video: true, audio: true, check: func(t *testing.T, c *corpusResult) {
				channels := map[string]bool{}
				for _, r := range c.playlist.Renditions {
					if r.Channels != nil {
						channels[*r.Channels] = r.Default
					}
				}
				if def, ok := channels["2"]; !ok || !def || len(channels) != 2 {
					t.Errorf("want a default stereo and a 6-channel audio rendition, got %v", channels)
				}
				if _, ok := channels["6"]; !ok {
					t.Errorf("the 5.1 track is not offered: %v", channels)
				}
			}},
		{name: "video only", make: clip(testenv.Video{Name: "silent.mp4", Seconds: 6, ACodec: "none"}), video: true},
		{name: "audio only", make: clip(testenv.Video{Name: "song.m4a", Seconds: 7, VCodec: "none"}), audio: true},
		// Sources that must be encoded (issue 7's inputs).
		{name: "ProRes 422 + PCM (MOV)", make: input("prores-pcm16.mov"), video: true, audio: true},
		{name: "MPEG-2 interlaced (TS)", make: input("mpeg2-interlaced.ts"), video: true, audio: true},
		{name: "AV1 + Opus (WebM)", make: input("av1-opus.webm"), video: true, audio: true},
		{name: "H.264 High 10 (10-bit)", make: input("h264-high10.mkv"), video: true, audio: true},
		{name: "audio 0.5 s after the picture (MOV)", make: input("prores-audio-late.mov"), video: true, audio: true},
		{name: "MP3 with cover art", make: input("audio.mp3"), audio: true},
		{name: "two languages (MKV)", make: input("vp9-languages.mkv"), video: true, audio: true,
			check: func(t *testing.T, c *corpusResult) {
				langs := map[string]bool{}
				for _, r := range c.playlist.Renditions {
					langs[r.Language] = true
				}
				if !langs["en"] || !langs["fr"] {
					t.Errorf("want audio renditions in en and fr, the master has %v:\n%s", langs, c.master)
				}
			}},
		{name: "truncated", fail: "ends early", make: func(t *testing.T, dir string) string {
			p := testenv.MakeVideo(t, dir, testenv.Video{Name: "whole.mp4", Seconds: 6, Faststart: true})
			data, _ := os.ReadFile(p)
			cut := filepath.Join(dir, "cut.mp4")
			_ = os.WriteFile(cut, data[:len(data)*2/5], 0o644)
			return cut
		}},
		{name: "not a video", fail: "not a video", make: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "noise.bin")
			noise := make([]byte, 300_000)
			for i := range noise {
				noise[i] = byte((i*2654435761)>>13) | 1
			}
			_ = os.WriteFile(p, noise, 0o644)
			return p
		}},
		{name: "text file", rejected: http.StatusUnsupportedMediaType, make: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "notes.txt")
			_ = os.WriteFile(p, []byte(strings.Repeat("not a video at all\n", 100)), 0o644)
			return p
		}},
	}
}

// input is one of the packager's input kinds, 6 s long (the player check
// seeks and switches levels: a 2 s clip ends first).
func input(name string) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		in := testenv.InputKind(t, name)
		in.Seconds = 6
		return testenv.MakeInput(t, dir, in)
	}
}

func wantRenditions(t *testing.T, c *corpusResult, names ...string) {
	t.Helper()
	var got []string
	for _, r := range c.v.Renditions {
		got = append(got, r.Name)
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("renditions %v, want %v", got, names)
	}
}

func mediaURL(c *corpusResult, rendition, kind string) string {
	return strings.TrimSuffix(c.v.HLSURL, "master.m3u8") + "hls/" + rendition + "/" + kind + ".m3u8"
}

// TestStack_Corpus uploads what people upload and judges every result with
// ffmpeg, gohlslib's playlist parser and Chromium, through an edge.
func TestStack_Corpus(t *testing.T) {
	st := startStack(t)
	dir := t.TempDir()
	cases := corpus()
	ids := make([]string, len(cases))
	for i, c := range cases {
		path := c.make(t, dir)
		code, v, body := uploadRaw(t, st.WebURL, path)
		if c.rejected != 0 {
			if code != c.rejected || !strings.Contains(body, `"error"`) {
				t.Errorf("%s: upload got %d %s, want %d with an error", c.name, code, body, c.rejected)
			}
			continue
		}
		if code != http.StatusCreated {
			t.Fatalf("%s: upload got %d %s", c.name, code, body)
		}
		ids[i] = v.ID
	}
	var mu sync.Mutex // Chromium runs one at a time: two cores
	for i, c := range cases {
		if ids[i] == "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			v := waitComplete(t, st.WebURL, ids[i])
			if c.fail != "" {
				if v.Status != "failed" || !strings.Contains(v.Error, c.fail) {
					t.Fatalf("got %s %q, want failed with %q", v.Status, v.Error, c.fail)
				}
				return
			}
			if v.Status != "ready" {
				t.Fatalf("got %s: %s", v.Status, v.Error)
			}
			waitFinalMaster(t, v)
			res := &corpusResult{v: v}
			judge(t, c, res)
			if c.check != nil {
				c.check(t, res)
			}
			if c.video {
				mu.Lock()
				defer mu.Unlock()
				playInChromium(t, v)
			}
		})
	}
}

func uploadRaw(t *testing.T, base, path string) (int, video, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/videos?title="+filepath.Base(path), f)
	req.Header.Set("Authorization", "Bearer "+apiKey)
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

// waitComplete polls until the video failed, or is ready with every
// rendition stored (no stage left).
func waitComplete(t *testing.T, base, id string) fullVideo {
	t.Helper()
	return testenv.WaitVideo(t, base, id, "complete or failed", 5*time.Minute, func(v fullVideo) bool {
		return v.Status == "failed" || (v.Status == "ready" && v.Stage == "")
	})
}

// waitFinalMaster waits until the video's master, as viewers get it, no
// longer offers the growing HLS of its first encode: caches (edges, the
// router) may keep the master of the encode under way for its max-age of
// 2 s after the video is complete, which is right, but the checks judge
// the finished renditions.
func waitFinalMaster(t *testing.T, v fullVideo) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := get(t, v.HLSURL, nil)
		if !strings.Contains(string(body), "hls/encoding/") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after completion the master still offers the growing HLS:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// judge applies the independent checks every ready video must pass.
func judge(t *testing.T, c corpusCase, res *corpusResult) {
	t.Helper()
	v := res.v
	// gohlslib reads every playlist: the master and each media playlist.
	_, body := get(t, v.HLSURL, nil)
	res.master = string(body)
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatalf("gohlslib cannot read the master playlist: %v\n%s", err, body)
	}
	mv, ok := pl.(*playlist.Multivariant)
	if !ok {
		t.Fatalf("master is not a multivariant playlist")
	}
	res.playlist = mv
	// Players are offered only what browsers decode (8-bit 4:2:0 H.264…).
	for _, vr := range mv.Variants {
		if !hls.BrowserDecodable(strings.Join(vr.Codecs, ",")) {
			t.Errorf("the master offers %s (%v), which browsers do not decode", vr.URI, vr.Codecs)
		}
	}
	base := strings.TrimSuffix(v.HLSURL, "master.m3u8")
	uris := []string{}
	for _, vr := range mv.Variants {
		uris = append(uris, vr.URI)
	}
	for _, r := range mv.Renditions {
		if r.URI != nil {
			uris = append(uris, *r.URI)
		}
	}
	for _, u := range uris {
		_, body := get(t, resolveURI(base, u), nil)
		mp, err := playlist.Unmarshal(body)
		if err != nil {
			t.Fatalf("gohlslib cannot read %s: %v\n%s", u, err, body)
		}
		m, ok := mp.(*playlist.Media)
		if !ok || !m.Endlist || m.Map == nil || len(m.Segments) == 0 {
			t.Fatalf("%s is not a complete VOD fMP4 playlist", u)
		}
		for _, s := range m.Segments {
			if int(math.Round(s.Duration.Seconds())) > m.TargetDuration {
				t.Errorf("%s: a %.3f s segment exceeds EXT-X-TARGETDURATION %d", u, s.Duration.Seconds(), m.TargetDuration)
			}
		}
	}

	// ffmpeg decodes the stream and the progressive MP4 through the edge.
	want := sourceDuration(t, v)
	for _, u := range []string{v.HLSURL, v.MP4URL} {
		if d := testenv.Decode(t, u); math.Abs(d-want) > 0.1 {
			t.Errorf("%s decodes to %.3f s, want %.3f s", u, d, want)
		}
	}
	// The right streams.
	streams := probeStreams(t, v.MP4URL)
	if (streams["video"] > 0) != c.video || (streams["audio"] > 0) != c.audio {
		t.Errorf("the MP4 has streams %v, want video %v audio %v", streams, c.video, c.audio)
	}
	// Audio and video start together, within one frame.
	if c.video && c.audio {
		vs, fps := startTime(t, resolveURI(base, mv.Variants[0].URI), "v")
		as, _ := startTime(t, resolveURI(base, defaultAudio(mv)), "a")
		if fps <= 0 {
			fps = 25
		}
		if math.Abs(vs-as) > 1/fps+1e-3 {
			t.Errorf("video starts at %.4f s, audio at %.4f s: more than one frame (%.4f s) apart", vs, as, 1/fps)
		}
	}
}

// resolveURI resolves a playlist URI against the playlist's URL, as a
// player does: the router's steered master lists absolute URIs on the
// edges, the edges' playlists relative ones.
func resolveURI(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

func defaultAudio(mv *playlist.Multivariant) string {
	for _, r := range mv.Renditions {
		if r.Default && r.URI != nil {
			return *r.URI
		}
	}
	return *mv.Renditions[0].URI
}

// sourceDuration is the duration the origin computed; checked against the
// fixture's own length by the per-case expectations in ffprobe terms.
func sourceDuration(t *testing.T, v fullVideo) float64 {
	t.Helper()
	var full struct {
		DurationS float64 `json:"duration_s"`
	}
	_, body := get(t, strings.Replace(v.PageURL, "/watch/", "/api/v1/videos/", 1), nil)
	_ = json.Unmarshal(body, &full)
	return full.DurationS
}

func probeStreams(t *testing.T, url string) map[string]int {
	t.Helper()
	out, err := exec.Command(testenv.Require(t, "ffprobe"), "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	counts := map[string]int{}
	for _, l := range strings.Fields(string(out)) {
		counts[l]++
	}
	return counts
}

// startTime is a stream's start time (and frame rate for video) by ffprobe.
func startTime(t *testing.T, url, stream string) (float64, float64) {
	t.Helper()
	out, err := exec.Command(testenv.Require(t, "ffprobe"), "-v", "error", "-select_streams", stream,
		"-show_entries", "stream=start_time,avg_frame_rate", "-of", "json", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var res struct {
		Streams []struct {
			StartTime string `json:"start_time"`
			FrameRate string `json:"avg_frame_rate"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) == 0 {
		t.Fatalf("ffprobe %s: %s", url, out)
	}
	start, _ := strconv.ParseFloat(res.Streams[0].StartTime, 64)
	var num, den float64
	_, _ = fmt.Sscanf(res.Streams[0].FrameRate, "%g/%g", &num, &den) // den stays 0 when ffprobe gives none
	fps := 0.0
	if den > 0 {
		fps = num / den
	}
	return start, fps
}

// playInChromium plays the watch page, seeks, and forces every level.
func playInChromium(t *testing.T, v fullVideo) { playPage(t, v, "corpus-", "--switch-levels") }

// playPage plays the watch page and seeks (play.mjs), with extra options;
// its screenshot is named with prefix.
func playPage(t *testing.T, v fullVideo, prefix string, extra ...string) {
	t.Helper()
	node := testenv.Require(t, "node")
	testenv.Require(t, "chromium")
	shot := filepath.Join(testenv.ArtifactDir(t), prefix+v.ID+".png")
	args := append([]string{filepath.Join(testenv.RepoRoot(t), "player", "e2e", "play.mjs"),
		"--url", v.PageURL, "--screenshot", shot, "--timeout-ms", "90000"}, extra...)
	cmd := exec.Command(node, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("Chromium playback failed: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
}
