package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin/store"
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
	// At the viewers' URL: an edge passes the resumable upload and the
	// progress stream through to the origin.
	code := run(context.Background(), []string{"upload", "-api", st.SiteURL, "-api-key", "cli-key",
		"-title", "Holiday", "-tags", "sea,sun", file}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("upload exited %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"uploaded: ", "ready", "watch: " + st.SiteURL + "/watch/", "hls:   " + st.RouterURL} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A wrong key is a clear error and a non-zero exit.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"upload", "-api", st.SiteURL, "-api-key", "wrong", file}, &stdout, &stderr); code == 0 ||
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

// bigClip is a short clip made 200 MB by a trailing "free" box of random
// bytes: a valid MP4 the size of a real upload, without minutes of encoding.
func bigClip(t *testing.T) string {
	t.Helper()
	path := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "long.mp4", Seconds: 4, Faststart: true})
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const pad = 200 << 20
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], pad+8)
	copy(hdr[4:], "free")
	if _, err := f.Write(hdr[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{1}), pad); err != nil {
		t.Fatal(err)
	}
	return path
}

func sha256File(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

// A 200 MB resumable upload survives a dropped connection at 40 % (the
// client gives up; the same command run again resumes the same video) and
// another drop during the resume (retried in-process); what S3 holds is
// the file, byte for byte.
func TestUpload_ResumesAfterTheConnectionDropsAndAfterARestart(t *testing.T) {
	dep := stack.Local(t.TempDir(), "cli-key")
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: dep, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	file := bigClip(t)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	web, _ := url.Parse(st.WebURL)
	state := filepath.Join(t.TempDir(), "uploads.json")
	args := func(api string, retries string) []string {
		return []string{"upload", "-api", api, "-api-key", "cli-key", "-state", state, "-retries", retries, file}
	}

	// 1. The network fails at 40 %; the client gives up at once.
	cut := startCutProxy(t, web.Host)
	api := "http://" + cut.ln.Addr().String()
	cut.arm(info.Size() * 4 / 10)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args(api, "0"), &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Fatalf("a dropped upload: exit %d, stderr %q", code, stderr.String())
	}
	// 2. The same command again resumes the same video, through a network
	// that drops once more (retried in-process) before it ends.
	cut.arm(info.Size() / 4)
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
		t.Fatalf("the network dropped %d times, want 2", cut.cuts.Load())
	}
	id := strings.Fields(out[strings.Index(out, "uploaded: ")+len("uploaded: "):])[0]
	if d := testenv.Decode(t, st.RouterURL+"/videos/"+id+"/master.m3u8"); d < 3.9 || d > 4.1 {
		t.Fatalf("the resumed video decodes to %.3f s, want 4", d)
	}
	if b, _ := os.ReadFile(state); strings.Contains(string(b), id) {
		t.Fatalf("the finished upload is still remembered: %s", b)
	}
	// The stored source is the file.
	sc := dep.OriginConfig().S3
	sc.Endpoint, sc.AccessKey, sc.SecretKey, sc.PathStyle = st.S3.Endpoint(), st.S3.AccessKey(), st.S3.SecretKey(), true
	s3, err := store.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	body, err := s3.GetRange(context.Background(), "sources/"+id, 0, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	h := sha256.New()
	n, _ := io.Copy(h, body)
	if n != info.Size() || [32]byte(h.Sum(nil)) != sha256File(t, file) {
		t.Fatalf("S3 holds %d bytes that differ from the %d-byte file", n, info.Size())
	}
}
