package origin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/origin/webhooks"
)

type liveStream struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Latency   string     `json:"latency"`
	Record    bool       `json:"record"`
	DVR       int        `json:"dvr_window_s"`
	StreamKey string     `json:"stream_key"`
	RTMPURL   string     `json:"rtmp_url"`
	HLSURL    string     `json:"hls_url"`
	PageURL   string     `json:"page_url"`
	Status    string     `json:"status"`
	Error     string     `json:"error"`
	Broadcast int        `json:"broadcast"`
	VideoID   string     `json:"video_id"`
	EndedAt   *time.Time `json:"ended_at"`
}

// withLive turns on live streaming, RTMP on a loopback port, with a
// short reconnect window so a broadcast ends soon after its encoder.
func withLive(t *testing.T) option {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return func(c *origin.Config, _ *origin.WorkerConfig) {
		c.Live = &origin.LiveConfig{RTMPListener: ln, ReconnectWindow: 2 * time.Second}
	}
}

// liveCall makes an API call with the key and decodes a live stream.
func liveCall(t *testing.T, method, url, body string) (int, liveStream, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ls liveStream
	_ = json.Unmarshal(b, &ls)
	return resp.StatusCode, ls, string(b)
}

// waitLive polls the stream until done says so; within only guards
// against hanging.
func waitLive(t *testing.T, base, id, what string, within time.Duration, done func(liveStream) bool) liveStream {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, ls, body := liveCall(t, http.MethodGet, base+"/api/v1/live/"+id, "")
		if done(ls) {
			return ls
		}
		if time.Now().After(deadline) {
			t.Fatalf("live stream %s: not %s within %v: %s", id, what, within, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pushLive runs ffmpeg sending seconds of a 640x360 25 fps test pattern
// with a tone in real time to url, encoded with codec.
func pushLive(t *testing.T, url string, seconds int, codec ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	args := []string{"-nostdin", "-v", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(seconds)}
	args = append(args, codec...)
	args = append(args, "-f", "flv", url)
	cmd := exec.Command(ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, &stderr
}

var h264AAC = []string{"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25",
	"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"}

// The acceptance of live streaming at the origin: a stream is created,
// ffmpeg broadcasts to its rtmp_url, the hls_url decodes cleanly while it
// is live, and when the broadcast ends its recording is a ready video of
// the length streamed. A wrong key and an unsupported codec are refused.
func TestLive_BroadcastPlaysAndBecomesAVideo(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t)).URL

	// A webhook endpoint for the live events.
	rc := &receiver{t: t, seen: map[string]int{}, events: map[string]webhooks.Event{}, data: map[string]map[string]any{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	var ep webhooks.Endpoint
	if code := apiCall(t, http.MethodPost, base+"/api/v1/webhooks", map[string]any{"url": hook.URL,
		"events": []string{"live.connected", "live.disconnected", "live.recording_ready"}}, &ep); code != http.StatusCreated {
		t.Fatalf("create webhook endpoint: %d", code)
	}
	rc.mu.Lock()
	rc.secret = ep.Secret
	rc.mu.Unlock()

	code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"title": "Launch"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	if ls.Status != "idle" || ls.Latency != "low" || !ls.Record || ls.DVR != 7200 || ls.Title != "Launch" {
		t.Fatalf("create: unexpected stream %s", body)
	}
	if !strings.HasPrefix(ls.RTMPURL, "rtmp://127.0.0.1:") || !strings.HasSuffix(ls.RTMPURL, "/live/"+ls.StreamKey) {
		t.Fatalf("rtmp_url %q does not carry the key %q", ls.RTMPURL, ls.StreamKey)
	}
	if ls.HLSURL != base+"/videos/"+ls.ID+"/master.m3u8" {
		t.Fatalf("hls_url %q", ls.HLSURL)
	}
	// Without the API key, the key is not shown.
	resp, err := http.Get(base + "/api/v1/live/" + ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(pub), ls.StreamKey) {
		t.Fatalf("the stream key is shown without the API key: %s", pub)
	}

	// The stream's event stream, followed from now on.
	sse := followLive(t, base, ls.ID)

	// A wrong key is refused at the handshake: ffmpeg fails.
	rtmpBase := strings.TrimSuffix(ls.RTMPURL, ls.StreamKey)
	wrong, wrongErr := pushLive(t, rtmpBase+ls.ID+"-00000000000000000000000000000000", 2, h264AAC...)
	if err := wrong.Wait(); err == nil {
		t.Fatalf("ffmpeg with a wrong key succeeded: %s", wrongErr)
	}

	// An unsupported codec is refused with a reason in the stream.
	flv1, _ := pushLive(t, ls.RTMPURL, 4, "-c:v", "flv1", "-c:a", "aac")
	_ = flv1.Wait()
	got := waitLive(t, base, ls.ID, "refusing flv1", 20*time.Second, func(l liveStream) bool { return l.Error != "" })
	if !strings.Contains(got.Error, "not supported") || got.Status == "live" {
		t.Fatalf("after flv1: status %q, error %q", got.Status, got.Error)
	}

	const seconds = 16
	enc, encErr := pushLive(t, ls.RTMPURL, seconds, h264AAC...)
	waitLive(t, base, ls.ID, "live", 30*time.Second, func(l liveStream) bool { return l.Status == "live" })

	// 10 s of the live HLS decode without an error. (No edge in front:
	// the origin package has none; the origin serves what edges pull.)
	ffmpeg := testenv.Require(t, "ffmpeg")
	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", ls.HLSURL, "-t", "10", "-f", "null", "-")
	var decErr bytes.Buffer
	dec.Stderr = &decErr
	if err := dec.Run(); err != nil || strings.TrimSpace(decErr.String()) != "" {
		t.Fatalf("decoding the live hls_url: %v\n%s", err, decErr.String())
	}
	// Playlists are short-lived and media immutable for the edges.
	resp, err = http.Get(ls.HLSURL)
	if err != nil {
		t.Fatal(err)
	}
	master, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=1" || !bytes.Contains(master, []byte("video1_stream.m3u8")) {
		t.Fatalf("master: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}

	media := base + "/videos/" + ls.ID + "/video1_stream.m3u8"
	resp, err = http.Get(media)
	if err != nil {
		t.Fatal(err)
	}
	pl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=1" {
		t.Fatalf("media playlist: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	segment := ""
	for line := range strings.Lines(string(pl)) {
		if line = strings.TrimSpace(line); strings.HasSuffix(line, ".mp4") && !strings.HasPrefix(line, "#") {
			segment = line
		}
	}
	if segment == "" {
		t.Fatalf("no segment in the media playlist:\n%s", pl)
	}
	resp, err = http.Get(base + "/videos/" + ls.ID + "/" + segment)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("segment %s: %d, Cache-Control %q", segment, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}

	if err := enc.Wait(); err != nil {
		t.Fatalf("ffmpeg broadcasting: %v\n%s", err, encErr)
	}
	ended := waitLive(t, base, ls.ID, "ended with a recording", 60*time.Second, func(l liveStream) bool {
		return l.Status == "ended" && l.VideoID != ""
	})
	v := testenv.WaitVideo(t, base, ended.VideoID, "ready or failed", 120*time.Second, func(v video) bool {
		return v.Status == "ready" || v.Status == "failed"
	})
	if v.Status != "ready" {
		t.Fatalf("recording %s: %s", v.ID, v.Error)
	}
	// The figure (no assertion: the machine is shared): from the
	// broadcast's end (its ended_at, this machine's clock) to the recording
	// seen ready, give or take the 100 ms poll.
	if ended.EndedAt != nil {
		t.Logf("recording %s: ready %v after the broadcast ended", v.ID, time.Since(*ended.EndedAt).Round(time.Millisecond))
	}
	t.Logf("recording %s: %.3f s for %d s streamed", v.ID, v.DurationS, seconds)
	if math.Abs(v.DurationS-seconds) > 1 {
		t.Errorf("recording lasts %.2f s, %d s were streamed", v.DurationS, seconds)
	}
	// Ready on the recorded segments themselves: a VOD playlist per track.
	checkRecordedHLS(t, v, seconds)
	// The pipeline's MP4 follows, and the master moves to its renditions.
	v = awaitRecordingMP4(t, base, v.ID)
	if d := testenv.Decode(t, v.MP4URL); math.Abs(d-seconds) > 1 {
		t.Errorf("the recording's MP4 decodes to %.2f s, %d s were streamed", d, seconds)
	}
	if _, master := httpGet(t, v.HLSURL); bytes.Contains(master, []byte("hls/rec/")) {
		t.Errorf("the master still offers the recording once the MP4 is made:\n%s", master)
	}
	if v.Title != "Launch" {
		t.Errorf("recording title %q", v.Title)
	}
	// The webhook receiver got each live event (retried once: it refuses
	// every first delivery), about this stream.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := rc.types()
		if got["live.connected"] >= 1 && got["live.disconnected"] >= 1 && got["live.recording_ready"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live events received: %v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	rc.mu.Lock()
	if d := rc.data["live.recording_ready"]; d["id"] != ls.ID || d["video_id"] != v.ID || d["stream_key"] != nil {
		t.Errorf("live.recording_ready carries %v, want the stream (without its key) and its recording", d)
	}
	rc.mu.Unlock()

	for _, kind := range []string{"status", "refused", "connected", "disconnected", "ended", "recording_ready"} {
		sse.await(t, kind)
	}

	// After the end the live HLS is gone.
	resp, err = http.Get(ls.HLSURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("hls_url after the end: %d, want 404", resp.StatusCode)
	}
}

// A reset key is refused; the new one works; PATCH, list and DELETE.
func TestLive_ResetKeyPatchListDelete(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t)).URL

	code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"latency": "standard", "record": false}`)
	if code != http.StatusCreated || ls.Latency != "standard" || ls.Record {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, _, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"latency": "ultra"}`); code != http.StatusBadRequest {
		t.Fatalf("bad latency: %d %s", code, body)
	}
	code, reset, body := liveCall(t, http.MethodPost, base+"/api/v1/live/"+ls.ID+"/reset-key", "")
	if code != http.StatusOK || reset.StreamKey == ls.StreamKey || reset.StreamKey == "" {
		t.Fatalf("reset-key: %d %s", code, body)
	}
	old, oldErr := pushLive(t, ls.RTMPURL, 2, h264AAC...)
	if err := old.Wait(); err == nil {
		t.Fatalf("ffmpeg with the reset key succeeded: %s", oldErr)
	}

	code, patched, body := liveCall(t, http.MethodPatch, base+"/api/v1/live/"+ls.ID, `{"title": "Renamed", "tags": ["A", "b"]}`)
	if code != http.StatusOK || patched.Title != "Renamed" {
		t.Fatalf("patch: %d %s", code, body)
	}
	resp, err := http.Get(base + "/api/v1/live")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Live []liveStream `json:"live"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Live) != 1 || list.Live[0].ID != ls.ID || list.Live[0].StreamKey != "" {
		t.Fatalf("list: %+v", list.Live)
	}
	if code, _, body := liveCall(t, http.MethodDelete, base+"/api/v1/live/"+ls.ID, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, _, _ := liveCall(t, http.MethodGet, base+"/api/v1/live/"+ls.ID, ""); code != http.StatusNotFound {
		t.Fatalf("get after delete: %d", code)
	}
}

// An origin that stops mid-broadcast ends it: the stream says ended, and
// what was recorded becomes a video, made by another origin from the
// queue.
func TestLive_ABroadcastCutByAShutdownIsRecordedByAnotherOrigin(t *testing.T) {
	b := startBackend(t)
	first := startOriginOn(t, b, 0, withLive(t))
	code, ls, body := liveCall(t, http.MethodPost, first.URL+"/api/v1/live", `{"title": "Cut"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	enc, _ := pushLive(t, ls.RTMPURL, 60, h264AAC...)
	var ingest struct {
		Status string `json:"status"`
		Ingest struct {
			Keyframes int `json:"keyframes"`
		} `json:"ingest"`
	}
	deadline := time.Now().Add(60 * time.Second) // a guard against hanging
	for ingest.Status != "live" || ingest.Ingest.Keyframes < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("no 5 keyframes broadcast: %+v", ingest)
		}
		time.Sleep(200 * time.Millisecond)
		apiCall(t, http.MethodGet, first.URL+"/api/v1/live/"+ls.ID, nil, &ingest)
	}
	first.stop()
	_ = enc.Wait() // disconnected by the shutdown

	second := startOriginOn(t, b, 0, withLive(t))
	ended := waitLive(t, second.URL, ls.ID, "ended with a recording", 60*time.Second, func(l liveStream) bool {
		return l.Status == "ended" && l.VideoID != ""
	})
	if ended.Error == "" {
		t.Errorf("the stream does not say why it ended")
	}
	v := testenv.WaitVideo(t, second.URL, ended.VideoID, "ready or failed", 120*time.Second, func(v video) bool {
		return v.Status == "ready" || v.Status == "failed"
	})
	if v.Status != "ready" || v.DurationS < 4 {
		t.Fatalf("recording %s: %s, %.2f s (at least 5 keyframes a second apart were sent)", v.ID, v.Error, v.DurationS)
	}
	// Its playlists were made from a listing (the host was gone): the
	// recording decodes as long as it says.
	if d := testenv.Decode(t, v.HLSURL); math.Abs(d-v.DurationS) > 1 {
		t.Errorf("the recording's HLS decodes to %.2f s; it says %.2f s", d, v.DurationS)
	}
	v = awaitRecordingMP4(t, second.URL, v.ID)
	testenv.Decode(t, v.MP4URL)
}

// checkRecordedHLS checks a recording ready as it was recorded: each
// recorded track is a VOD playlist over the recorded segments (mapped,
// dated, ended) that ffmpeg decodes with an empty error log, and so is
// the video's HLS, as long as was streamed. (The master offers the
// recorded tracks until the pipeline's first rendition is stored, which
// for a short broadcast may be before this looks.)
func checkRecordedHLS(t *testing.T, v video, seconds float64) {
	t.Helper()
	res, master := httpGet(t, v.HLSURL)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("master of a recording: HTTP %d\n%s", res.StatusCode, master)
	}
	if bytes.Contains(master, []byte("hls/rec/")) && (!bytes.Contains(master, []byte("\nhls/rec/video1.m3u8\n")) ||
		!bytes.Contains(master, []byte(`URI="hls/rec/audio2.m3u8"`))) {
		t.Errorf("master of a recording:\n%s", master)
	}
	base := strings.TrimSuffix(v.HLSURL, "master.m3u8")
	for _, track := range []string{"video1", "audio2"} {
		url := base + "hls/rec/" + track + ".m3u8"
		res, pl := httpGet(t, url)
		body := string(pl)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "#EXT-X-PLAYLIST-TYPE:VOD\n") ||
			!strings.HasSuffix(body, "#EXT-X-ENDLIST\n") || !strings.Contains(body, "#EXT-X-MAP:URI=") ||
			strings.Count(body, "#EXTINF:") != strings.Count(body, "#EXT-X-PROGRAM-DATE-TIME:") {
			t.Fatalf("%s playlist of a recording: HTTP %d\n%s", track, res.StatusCode, body)
		}
		if d := testenv.Decode(t, url); math.Abs(d-seconds) > 1 {
			t.Errorf("the recording's %s decodes to %.2f s, %.2f s were streamed", track, d, seconds)
		}
	}
	if d := testenv.Decode(t, v.HLSURL); math.Abs(d-seconds) > 1 {
		t.Errorf("the recording's HLS decodes to %.2f s, %.2f s were streamed", d, seconds)
	}
}

// awaitRecordingMP4 waits for a recording's MP4 (its package job).
func awaitRecordingMP4(t *testing.T, base, id string) video {
	t.Helper()
	return testenv.WaitVideo(t, base, id, "an MP4", 3*time.Minute, func(v video) bool {
		if v.Status == "failed" {
			t.Fatalf("recording %s failed: %s", id, v.Error)
		}
		return v.MP4URL != ""
	})
}

// liveFollower reads a live stream's Server-Sent Events.
type liveFollower struct {
	kinds chan string
}

func followLive(t *testing.T, base, id string) *liveFollower {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/live/"+id+"/events", nil)
	ctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(ctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("live events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f := &liveFollower{kinds: make(chan string, 1000)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if k, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				f.kinds <- k
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return f
}

// await reads events until one of kind; within guards against hanging.
func (f *liveFollower) await(t *testing.T, kind string) {
	t.Helper()
	deadline := time.After(time.Minute)
	var seen []string
	for {
		select {
		case k := <-f.kinds:
			if k == kind {
				return
			}
			seen = append(seen, k)
		case <-deadline:
			t.Fatalf("no %q live event; after the last awaited: %v", kind, seen)
		}
	}
}

// A stream deleted while it broadcasts leaves no recording behind: what
// was recorded under the video it was to become goes with it, and no
// video is made.
func TestLive_DeletedMidBroadcastLeavesNoRecording(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t)).URL
	code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"title": "Gone"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	enc, _ := pushLive(t, ls.RTMPURL, 30, h264AAC...)
	st, err := store.New(s3Config(b.S3))
	if err != nil {
		t.Fatal(err)
	}
	recorded := func() int {
		n := 0
		if err := st.Sizes(t.Context(), "videos/", func(key string, _ int64) {
			if strings.Contains(key, "/hls/rec/") {
				n++
			}
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(60 * time.Second) // a guard against hanging
	for recorded() < 4 {
		if time.Now().After(deadline) {
			t.Fatal("nothing recorded")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _, body := liveCall(t, http.MethodDelete, base+"/api/v1/live/"+ls.ID, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	_ = enc.Wait() // disconnected by the delete
	deadline = time.Now().Add(30 * time.Second)
	for n := recorded(); n > 0; n = recorded() {
		if time.Now().After(deadline) {
			t.Fatalf("%d recorded objects left after the stream was deleted", n)
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err := http.Get(base + "/api/v1/videos")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Videos []video `json:"videos"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Videos) != 0 {
		t.Errorf("a video was made of a deleted stream's broadcast: %+v", list.Videos)
	}
}
