package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

func TestUpload_SendsTheFileAndFollowsItToReady(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: stack.Local(t.TempDir(), "cli-key"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	file := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "holiday.mp4", Seconds: 4})

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"upload", "-api", st.WebURL, "-api-key", "cli-key",
		"-title", "Holiday", "-tags", "sea,sun", file}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("upload exited %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"uploaded: ", "ready", "watch: " + st.WebURL + "/watch/", "hls:   " + st.RouterURL} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A wrong key is a clear error and a non-zero exit.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"upload", "-api", st.WebURL, "-api-key", "wrong", file}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "not valid") {
		t.Fatalf("wrong key: exit %d, stderr %q", code, stderr.String())
	}
}

// cutProxy forwards TCP to target and, when armed, drops the connection
// that carries the limit-th byte upstream: a network that fails mid-upload.
type cutProxy struct {
	ln    net.Listener
	limit atomic.Int64 // bytes until the cut; 0 is disarmed
	cuts  atomic.Int32
}

func (p *cutProxy) arm(limit int64) { p.limit.Store(limit) }

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, target)
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn, target string) {
	defer c.Close()
	u, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer u.Close()
	go func() { _, _ = io.Copy(c, u) }()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if p.limit.Load() > 0 && p.limit.Add(-int64(n)) <= 0 {
				p.limit.Store(0)
				p.cuts.Add(1)
				return // the connection drops mid-request
			}
			if _, err := u.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// A resumable upload survives a dropped connection (the client resumes
// from the server's offset) and a client that gave up (the same command
// run again continues the same video).
func TestUpload_ResumesAfterTheConnectionDropsAndAfterARestart(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: stack.Local(t.TempDir(), "cli-key"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	file := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "long.mp4", Seconds: 12})
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	web, _ := url.Parse(st.WebURL)
	state := filepath.Join(t.TempDir(), "uploads.json")
	args := func(api string, retries string) []string {
		return []string{"upload", "-api", api, "-api-key", "cli-key", "-state", state, "-chunk", "256KiB", "-retries", retries, file}
	}

	// 1. The network fails a third of the way; the client gives up at once.
	cut := startCutProxy(t, web.Host)
	api := "http://" + cut.ln.Addr().String()
	cut.arm(info.Size() / 3)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args(api, "0"), &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Fatalf("a dropped upload: exit %d, stderr %q", code, stderr.String())
	}
	// 2. The same command again resumes the same video, here through a
	// network that drops once more (retried in-process) before it ends.
	cut.arm(info.Size() / 3)
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), args(api, "3"), &stdout, &stderr); code != 0 {
		t.Fatalf("resume: exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "resuming the upload of video ") || !strings.Contains(out, "ready") {
		t.Fatalf("the second run did not resume:\n%s", out)
	}
	if cut.cuts.Load() != 2 {
		t.Fatal("the second network never dropped: the in-process retry was not tested")
	}
	id := strings.Fields(out[strings.Index(out, "uploaded: ")+len("uploaded: "):])[0]
	hls := st.RouterURL + "/videos/" + id + "/master.m3u8"
	if d := testenv.Decode(t, hls); d < 11.9 || d > 12.1 {
		t.Fatalf("the resumed video decodes to %.3f s, want 12", d)
	}
	if b, _ := os.ReadFile(state); strings.Contains(string(b), id) {
		t.Fatalf("the finished upload is still remembered: %s", b)
	}
}
