package live

import (
	"bytes"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager/transcode"
)

// A ladder at the manager: ffmpeg (as a worker runs it) reads the
// source's feed with the ladder key and publishes a 180p rung; the rung is
// listed in the multivariant playlist after the source, decodes without
// an error, and its program date-times are the source's.
func TestLadder_RungJoinsTheMultivariantAndDecodes(t *testing.T) {
	for _, lat := range []Latency{LatencyLow, LatencyStandard} {
		t.Run(string(lat), func(t *testing.T) { testLadderRung(t, lat) })
	}
}

func testLadderRung(t *testing.T, lat Latency) {
	l := startLive(t, lat, Config{})
	push(t, l.rtmpURL+"/"+testKey, 40, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	l.waitSegments(t, "/live/s1/video1_stream.m3u8", 1, lat == LatencyLow)

	src, ok := l.m.LadderSource("s1")
	if !ok || src.Width != 640 || src.Height != 360 || src.Broadcast != 1 {
		t.Fatalf("ladder source %+v, %v; want 640x360 of broadcast 1", src, ok)
	}
	if strings.Contains(src.Key, testKey) {
		t.Fatalf("the ladder key %q holds the stream key", src.Key)
	}
	// A wrong secret reads nothing.
	ffmpeg := testenv.Require(t, "ffmpeg")
	bad := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-rw_timeout", "5000000", "-i",
		l.rtmpURL+"/s1.00000000000000000000000000000000.source", "-t", "1", "-f", "null", "-")
	if out, err := bad.CombinedOutput(); err == nil {
		t.Fatalf("the feed opened with a wrong ladder key: %s", out)
	}

	rungs := transcode.PlanLiveLadder([]transcode.Rung{{Name: "180p", ShortSide: 180, VideoBitrate: 200_000}},
		src.Width, src.Height, func(name string) string { return l.rtmpURL + "/" + src.Key + "." + name })
	if len(rungs) != 1 || rungs[0].Width != 320 || rungs[0].Height != 180 {
		t.Fatalf("rungs %+v, want one of 320x180", rungs)
	}
	args := transcode.LiveLadderArgs(l.rtmpURL+"/"+src.Key+".source", rungs,
		transcode.LiveOptions{Preset: "ultrafast", Threads: 1})
	enc := exec.Command(ffmpeg, args...)
	var encErr bytes.Buffer
	enc.Stderr = &encErr
	if err := enc.Start(); err != nil {
		t.Fatal(err)
	}
	encStart := time.Now()
	t.Cleanup(func() {
		if enc.ProcessState == nil {
			_ = enc.Process.Kill()
			_ = enc.Wait()
		}
	})

	master := waitFor(t, 30*time.Second, "the rung in the multivariant playlist", func() (string, bool) {
		code, body := l.get(t, "/live/s1/index.m3u8")
		return string(body), code == http.StatusOK && strings.Contains(string(body), "180p/video1_stream.m3u8")
	})
	t.Logf("multivariant playlist:\n%s", master)
	parsed, err := playlist.Unmarshal([]byte(master))
	if err != nil {
		t.Fatalf("multivariant playlist: %v", err)
	}
	mv := parsed.(*playlist.Multivariant)
	if len(mv.Variants) != 2 || mv.Variants[0].URI != "video1_stream.m3u8" || mv.Variants[1].Resolution != "320x180" ||
		mv.Variants[1].Audio != mv.Variants[0].Audio || len(mv.Variants[1].Codecs) != 2 || mv.Variants[1].Bandwidth <= 0 {
		t.Fatalf("variants: want the source, then 320x180 with the source's audio:\n%s", master)
	}
	if st := l.m.Status("s1"); len(st.Rungs) != 1 || st.Rungs[0] != "180p" {
		t.Errorf("status rungs %v, want [180p]", st.Rungs)
	}

	logRungLag(t, l, "/live/s1/video1_stream.m3u8", "/live/s1/180p/video1_stream.m3u8")
	decode(t, l.http.URL+"/live/s1/180p/video1_stream.m3u8", 10)
	decode(t, l.http.URL+"/live/s1/index.m3u8", 4)

	// The broadcast's end ends the feed: the encoder exits, and the rung's
	// URLs answer 404.
	l.m.End("s1")
	done := make(chan error, 1)
	go func() { done <- enc.Wait() }()
	select {
	case err := <-done:
		// Its exit status is ffmpeg's view of a feed that ended; what
		// matters is that it ended.
		t.Logf("ladder encoder exited: %v %s", err, strings.TrimSpace(encErr.String()))
	case <-time.After(30 * time.Second):
		t.Fatal("the ladder encoder still runs 30 s after the broadcast ended")
	}
	// The other figure: the CPU of the rung's encode (decode 360p, scale,
	// x264 ultrafast at 180p), as a share of one core over its run.
	cpu := enc.ProcessState.UserTime() + enc.ProcessState.SystemTime()
	t.Logf("ladder encode: %v CPU over %v (%.0f%% of a core)", cpu.Round(time.Millisecond),
		time.Since(encStart).Round(time.Millisecond), 100*cpu.Seconds()/time.Since(encStart).Seconds())
	if code, _ := l.get(t, "/live/s1/180p/video1_stream.m3u8"); code != http.StatusNotFound {
		t.Errorf("rung playlist after the end: %d, want 404", code)
	}
}

// logRungLag logs how far the rung's playlist ends behind the source's,
// by their program date-times and the parts listed after the last
// segment (the figure of the issue; no assertion: the machine is shared).
func logRungLag(t *testing.T, l *live, source, rung string) {
	t.Helper()
	get := func(path string) *playlist.Media { return l.mediaPlaylist(t, path) }
	for range 5 {
		t.Logf("rung lag: %v behind the source", PlaylistLag(get(source), get(rung)).Round(time.Millisecond))
		time.Sleep(time.Second)
	}
}

// waitFor polls f until it says done; within only guards against hanging.
func waitFor(t *testing.T, within time.Duration, what string, f func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, ok := f()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; last: %s", what, within, v)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A feed reader of a broadcast whose encoder went away (the source is
// quiet, in its reconnect window) does not hold the manager's shutdown:
// Serve returns (startLive's cleanup waits for it; a hang fails the test
// by its timeout).
func TestLadder_QuietFeedDoesNotHoldShutdown(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	enc := push(t, l.rtmpURL+"/"+testKey, 30, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	src, ok := l.m.LadderSource("s1")
	if !ok {
		t.Fatal("no ladder source while live")
	}
	ffmpeg := testenv.Require(t, "ffmpeg")
	reader := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", l.rtmpURL+"/"+src.Key+".source", "-f", "null", "-")
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Process.Kill(); _ = reader.Wait() })
	time.Sleep(2 * time.Second)
	_ = enc.stop()
	l.waitEvent(t, EventDisconnected, 20*time.Second)
}

// FuzzLadderKey holds ladderKey (which reads the key of any RTMP
// connection) to its promise: what it accepts is a plain stream ID, a
// 32-character secret and the feed or a rung's name, which rebuild the key.
func FuzzLadderKey(f *testing.F) {
	for _, k := range []string{"s1.0123456789abcdef0123456789abcdef.source", "s1.0123456789abcdef0123456789abcdef.480p",
		"s1-abc", "a.b.c", "..", "s1.0123456789abcdef0123456789abcdef.480p.x"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		id, secret, name, ok := ladderKey(key)
		if !ok {
			return
		}
		if id+"."+secret+"."+name != key || !plainName(id) || len(secret) != 32 || (name != feedRung && !rungName(name)) {
			t.Fatalf("ladderKey(%q) = %q, %q, %q", key, id, secret, name)
		}
		if strings.ContainsAny(key, "/?#%") {
			t.Fatalf("ladderKey(%q) accepted a key with a path or query character", key)
		}
	})
}

func TestLadderKey(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		key  string
		ok   bool
		rung string
	}{
		{"s1." + secret + ".source", true, "source"},
		{"s1." + secret + ".480p", true, "480p"},
		{"s1." + secret + ".480", false, ""},
		{"s1." + secret + ".p", false, ""},
		{"s1.short.480p", false, ""},
		{"s1-" + secret, false, ""},
		{".." + secret + ".480p", false, ""},
		{"s1." + secret + ".480p.x", false, ""},
	} {
		_, _, rung, ok := ladderKey(tt.key)
		if ok != tt.ok || rung != tt.rung {
			t.Errorf("ladderKey(%q) = %q, %v; want %q, %v", tt.key, rung, ok, tt.rung, tt.ok)
		}
	}
}
