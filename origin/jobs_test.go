package origin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
)

// runningOrigin is an origin process with its encoding worker, that a
// test can stop like a crash (their jobs are cut off mid-way).
type runningOrigin struct {
	URL  string
	stop func()
}

// option adjusts the origin's and its worker's configuration.
type option func(*origin.Config, *origin.WorkerConfig)

func withWorker(f func(*origin.WorkerConfig)) option {
	return func(_ *origin.Config, w *origin.WorkerConfig) { f(w) }
}

func startOriginOn(t *testing.T, b *backend, leaseTTL time.Duration, options ...option) *runningOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := origin.Config{
		S3:       s3Config(b.S3),
		Queue:    queue.Config{URL: b.NATS},
		APIKey:   apiKey,
		MediaURL: base,
		WebURL:   "http://localhost:8080",
		LeaseTTL: leaseTTL,
		Logger:   quiet,
	}
	wc := origin.WorkerConfig{Addr: "-", S3: s3Config(b.S3), Queue: queue.Config{URL: b.NATS}, Logger: quiet}
	for _, option := range options {
		option(&cfg, &wc)
	}
	o, err := origin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	running := 1
	go func() {
		_ = o.Serve(ctx, ln)
		done <- struct{}{}
	}()
	if wc.MaxEncodes >= 0 { // noWorker sets -1
		w, err := origin.NewWorker(wc)
		if err != nil {
			t.Fatal(err)
		}
		running++
		go func() {
			_ = w.Run(ctx)
			done <- struct{}{}
		}()
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			for range running {
				<-done
			}
		}
	}
	t.Cleanup(stop)
	return &runningOrigin{URL: base, stop: stop}
}

func s3Config(s3 *testenv.S3) store.Config {
	return store.Config{Endpoint: s3.Endpoint, Bucket: "streamfront", AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, PathStyle: true}
}

type progressVideo struct {
	video
	Stage         string  `json:"stage"`
	Percent       float64 `json:"percent"`
	QueuePosition int     `json:"queue_position"`
	Renditions    []struct {
		Name string `json:"name"`
	} `json:"renditions"`
}

func getVideo(t *testing.T, base, id string) (progressVideo, int) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/videos/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v progressVideo
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return v, resp.StatusCode
}

// waitFor polls the video until cond holds (bounded).
func waitFor(t *testing.T, base, id, what string, cond func(progressVideo) bool) progressVideo {
	t.Helper()
	return testenv.WaitVideo(t, base, id, what, 3*time.Minute, cond)
}

// slowSource is a clip ffmpeg needs several seconds to transcode.
func slowSource(t *testing.T) string {
	return testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "slow.webm", Seconds: 20, Width: 1280, Height: 720,
		VCodec: "libvpx-vp9", ACodec: "libopus", Extra: []string{"-deadline", "realtime", "-cpu-used", "8"}})
}

func TestJobs_ResumeAfterTheOriginDies(t *testing.T) {
	s3 := startBackend(t)
	first := startOriginOn(t, s3, 2*time.Second)
	code, v, body := upload(t, first.URL, slowSource(t), "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	growing := func(base string) int { // segments in the growing playlist players follow
		resp, err := http.Get(base + "/videos/" + v.ID + "/hls/encoding/stream.m3u8")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return -1 // the encode is done: the master lists the renditions
		}
		return strings.Count(string(b), "#EXTINF")
	}

	// Playing while it encodes (the growing HLS), then the process dies
	// mid-transcode; its lease stays behind.
	waitFor(t, first.URL, v.ID, "playing while transcoding", func(p progressVideo) bool {
		return p.Status == "ready" && growing(first.URL) >= 3
	})
	first.stop()

	second := startOriginOn(t, s3, 2*time.Second)
	given := growing(second.URL)
	if given < 3 {
		t.Fatalf("the dead origin left %d growing segments, want 3 or more", given)
	}
	// The resumed encode starts over, but the EVENT playlist players are
	// on only ever grows (RFC 8216 6.2.1) until the encode is stored.
	done := waitFor(t, second.URL, v.ID, "final or failed", func(p progressVideo) bool {
		if n := growing(second.URL); n >= 0 && n < given {
			t.Fatalf("the growing playlist shrank from %d to %d segments", given, n)
		} else if n > given {
			given = n
		}
		return p.Status == "ready" && p.Stage == "" || p.Status == "failed"
	})
	if done.Status != "ready" {
		t.Fatalf("the job resumed by another origin ended %s: %s", done.Status, done.Error)
	}
	if d := testenv.Decode(t, done.HLSURL); d < 19.9 || d > 20.1 {
		t.Fatalf("resumed video decodes to %.3f s, want 20", d)
	}
}

func TestJobs_UploadCutOffByACrashEndsFailed(t *testing.T) {
	s3 := startBackend(t)
	st, err := store.New(s3Config(s3.S3))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	// What a process killed mid-upload leaves behind: the record still
	// "uploading", part of the source, and an upload lease nobody renews.
	id := catalog.NewID(time.Now())
	if err := catalog.New(st).Create(ctx, &catalog.Video{ID: id, Title: "cut", Status: catalog.Uploading,
		Source: catalog.Source{Key: catalog.SourceKey(id)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, catalog.SourceKey(id), make([]byte, 1000), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	lease, _ := json.Marshal(map[string]any{"kind": "upload", "owner": "crashed", "heartbeat": time.Now().Add(-time.Hour)})
	if err := st.Put(ctx, "jobs/"+id+".json", lease, "application/json"); err != nil {
		t.Fatal(err)
	}

	o := startOriginOn(t, s3, 2*time.Second)
	v := waitFor(t, o.URL, id, "failed", func(p progressVideo) bool { return p.Status == "failed" })
	if !strings.Contains(v.Error, "upload the file again") {
		t.Fatalf("error %q should tell the person to upload again", v.Error)
	}
	if _, err := st.Head(ctx, catalog.SourceKey(id)); err == nil {
		t.Fatal("the partial source is still stored")
	}
	if _, err := st.Head(ctx, "jobs/"+id+".json"); err == nil {
		t.Fatal("the stale lease is still there")
	}
}

func TestJobs_DeleteCancelsTheJobAndRemovesEverything(t *testing.T) {
	s3 := startBackend(t)
	o := startOriginOn(t, s3, 90*time.Second)
	code, v, body := upload(t, o.URL, slowSource(t), "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}
	waitFor(t, o.URL, v.ID, "transcoding to start", func(p progressVideo) bool { return p.Stage == "transcoding" })
	req, _ := http.NewRequest(http.MethodDelete, o.URL+"/api/v1/videos/"+v.ID, nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %s", resp.Status)
	}
	if _, code := getVideo(t, o.URL, v.ID); code != http.StatusNotFound {
		t.Fatalf("deleted video answers %d", code)
	}
	// The cancelled job must not write anything back after the delete.
	st, err := store.New(s3Config(s3.S3))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		for _, prefix := range []string{"videos/" + v.ID + "/", "sources/" + v.ID, "jobs/" + v.ID} {
			keys, _, err := st.ListPage(context.Background(), prefix, "", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			left = append(left, keys...)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("objects left after delete: %v", left)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
