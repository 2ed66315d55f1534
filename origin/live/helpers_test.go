package live

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/streamfront/streamfront/internal/testenv"
)

// testKey and testStream are the one stream the test key lookup knows.
const testKey = "sk_test_0123456789"

// live is a Manager serving RTMP and HTTP on loopback for one test.
type live struct {
	m       *Manager
	rtmpURL string // rtmp://127.0.0.1:port/live
	http    *httptest.Server
	events  chan Event
}

// startLive runs a Manager knowing testKey (stream "s1", latency lat) on
// 127.0.0.1, with cfg's other fields as given.
func startLive(t *testing.T, lat Latency, cfg Config) *live {
	t.Helper()
	events := make(chan Event, 100)
	cfg.Keys = func(_ context.Context, key string) (Stream, error) {
		if key == testKey {
			return Stream{ID: "s1", Latency: lat}, nil
		}
		return Stream{}, ErrUnknownKey
	}
	cfg.OnEvent = func(e Event) { events <- e }
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, ln) }()
	srv := httptest.NewServer(m)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	return &live{m: m, rtmpURL: "rtmp://" + ln.Addr().String() + "/live", http: srv, events: events}
}

// testWriter sends logs to t.Log, so they show only for failing tests.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// encoder is an ffmpeg process publishing a test pattern.
type encoder struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

// h264AAC encodes H.264 (a keyframe a second) and AAC: what OBS sends.
func h264AAC() []string {
	return []string{"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"}
}

// push starts ffmpeg sending seconds of a 640x360 25 fps test pattern
// with a tone, in real time (-re), to url, encoded with codecArgs.
func push(t *testing.T, url string, seconds int, codecArgs []string) *encoder {
	t.Helper()
	return pushSized(t, url, seconds, "640x360", codecArgs)
}

// pushSized is push with another picture size.
func pushSized(t *testing.T, url string, seconds int, size string, codecArgs []string) *encoder {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	args := []string{"-nostdin", "-v", "error",
		"-re", "-f", "lavfi", "-i", "testsrc=size=" + size + ":rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", strconv.Itoa(seconds)}
	args = append(args, codecArgs...)
	args = append(args, "-f", "flv", url)
	cmd := exec.Command(ffmpeg, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &encoder{cmd: cmd, stderr: &stderr, done: make(chan error, 1)}
	go func() { e.done <- cmd.Wait() }()
	t.Cleanup(func() { _ = e.stop() })
	return e
}

// stop ends ffmpeg if it still runs and waits for it.
func (e *encoder) stop() error {
	select {
	case err := <-e.done:
		e.done <- err
		return err
	default:
	}
	_ = e.cmd.Process.Kill()
	err := <-e.done
	e.done <- err
	return err
}

// wait waits for ffmpeg to exit by itself.
func (e *encoder) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-e.done:
		e.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("ffmpeg still runs after %v", within)
		return nil
	}
}

// waitEvent returns the next event of kind, failing t on another kind
// than those in allowed or when none comes within the deadline (a guard
// against hanging, not a timing assertion).
func (l *live) waitEvent(t *testing.T, kind EventKind, within time.Duration) Event {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-l.events:
			t.Logf("event %+v", e)
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %v (status %+v)", kind, within, l.m.Status("s1"))
			return Event{}
		}
	}
}

// get fetches a URL path of the HLS handler.
func (l *live) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(l.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// mediaPlaylist fetches and parses a media playlist.
func (l *live) mediaPlaylist(t *testing.T, path string) *playlist.Media {
	t.Helper()
	code, body := l.get(t, path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("GET %s: not a media playlist:\n%s", path, body)
	}
	return m
}

// realSegments counts the segments of pl that hold media (gohlslib starts
// low-latency playlists with gap segments, which iOS requires).
func realSegments(pl *playlist.Media) int {
	n := 0
	for _, s := range pl.Segments {
		if !s.Gap {
			n++
		}
	}
	return n
}

// waitSegments returns the playlist at path once it lists n segments with
// media. Low-latency playlists are awaited with blocking reloads; standard
// ones are re-read every half a segment, as a player does.
func (l *live) waitSegments(t *testing.T, path string, n int, lowLatency bool) *playlist.Media {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	q := ""
	for time.Now().Before(deadline) {
		pl := l.mediaPlaylist(t, path+q)
		if realSegments(pl) >= n {
			return pl
		}
		if lowLatency {
			q = fmt.Sprintf("?_HLS_msn=%d", pl.MediaSequence+len(pl.Segments))
		} else {
			time.Sleep(time.Second)
		}
	}
	t.Fatalf("%s never listed %d segments", path, n)
	return nil
}

// decode has ffmpeg decode seconds of url, failing t on any error it logs.
func decode(t *testing.T, url string, seconds int) {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", url, "-t", strconv.Itoa(seconds), "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg cannot decode %s: %v\n%s", url, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Fatalf("ffmpeg reported errors decoding %s:\n%s", url, stderr.String())
	}
}

// collect keeps counts from callbacks that run on other goroutines.
type collect struct {
	mu           sync.Mutex
	video, audio int
	full         chan struct{}
	wantV, wantA int
}

func (c *collect) add(video bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if video {
		c.video++
	} else {
		c.audio++
	}
	if c.video >= c.wantV && c.audio >= c.wantA && c.full != nil {
		close(c.full)
		c.full = nil
	}
}

// waitMSN returns the low-latency playlist at path once segment msn is in
// progress, stepping with blocking reloads (a server refuses a reload more
// than one segment ahead).
func (l *live) waitMSN(t *testing.T, path string, msn int) *playlist.Media {
	t.Helper()
	pl := l.mediaPlaylist(t, path)
	for pl.MediaSequence+len(pl.Segments) < msn {
		pl = l.mediaPlaylist(t, fmt.Sprintf("%s?_HLS_msn=%d", path, pl.MediaSequence+len(pl.Segments)+1))
	}
	return pl
}
