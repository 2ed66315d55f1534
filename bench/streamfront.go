package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/s3server"
)

// apiKey authorises the bench's uploads to the origins it starts.
const apiKey = "streamfront-bench-key"

// startS3 starts versitygw on dir, its output logged beside the others.
func startS3(ctx context.Context, dir string) (*s3server.Server, error) {
	logf, err := os.Create(filepath.Join(dir, "versitygw.log"))
	if err != nil {
		return nil, fmt.Errorf("start S3 server: %w", err)
	}
	defer logf.Close()
	s3, err := s3server.Start(ctx, s3server.Config{DataDir: filepath.Join(dir, "s3"), Log: logf})
	if err != nil {
		return nil, fmt.Errorf("start S3 server: %w", err)
	}
	return s3, nil
}

// originProcess is `streamfront origin` run as its own process, so its
// memory can be read from /proc, with the `streamfront worker` that
// encodes for it (its own process too) and the NATS server between them.
type originProcess struct {
	*process
	URL          string
	worker       *process
	extraWorkers []*process
	nats         *natsserver.Server
}

// stop stops the origin, its worker and their queue.
func (o *originProcess) stop() {
	if o == nil {
		return
	}
	o.process.stop()
	o.worker.stop()
	for _, w := range o.extraWorkers {
		w.stop()
	}
	if o.nats != nil {
		o.nats.Close()
	}
}

// startOrigin runs the origin and one worker against s3 in bucket, with a
// NATS server of their own, unpinned (packaging may use every core, as
// ffmpeg does), with extraEnv added to the worker's environment (e.g.
// no ladder (a deployment file with `ladder: []`)). Configuration goes through the environment,
// so the S3 secret does not show in `ps`.
func startOrigin(ctx context.Context, name, dir, bin string, s3 *s3server.Server, bucket string, extraEnv ...string) (*originProcess, error) {
	return startOriginWorkers(ctx, name, dir, bin, s3, bucket, []placement{{}}, extraEnv...)
}

// startOriginWorkers is startOrigin with one worker per placement (the
// first is originProcess.worker, the others in extraWorkers).
func startOriginWorkers(ctx context.Context, name, dir, bin string, s3 *s3server.Server, bucket string, workers []placement, extraEnv ...string) (*originProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, name+"-work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	ns, err := natsserver.Start(natsserver.Config{StoreDir: filepath.Join(dir, name+"-nats")})
	if err != nil {
		return nil, err
	}
	shared := []string{
		"STREAMFRONT_NATS_URL=" + ns.URL(),
		"STREAMFRONT_S3_ENDPOINT=" + s3.Endpoint(),
		"STREAMFRONT_S3_BUCKET=" + bucket,
		"STREAMFRONT_S3_ACCESS_KEY=" + s3.AccessKey(),
		"STREAMFRONT_S3_SECRET_KEY=" + s3.SecretKey(),
		"STREAMFRONT_S3_PATH_STYLE=true",
		"STREAMFRONT_WORK_DIR=" + work,
		"STREAMFRONT_LOG_LEVEL=warn",
	}
	env := append(slices.Clone(shared),
		"STREAMFRONT_ADDR=127.0.0.1:"+strconv.Itoa(port),
		"STREAMFRONT_API_KEY="+apiKey,
		"STREAMFRONT_MEDIA_URL="+base, // only used in hls_url/mp4_url, which the bench does not follow
		"STREAMFRONT_WEB_URL="+base)
	p, err := startProcess(name, dir, placement{}, env, bin, "origin")
	if err != nil {
		ns.Close()
		return nil, err
	}
	o := &originProcess{process: p, URL: base, nats: ns}
	if err := p.waitHTTP(ctx, base+"/healthz", func(s int) bool { return s == http.StatusOK }); err != nil {
		o.stop()
		return nil, err
	}
	for i, pl := range workers {
		wport, err := freePort()
		if err != nil {
			o.stop()
			return nil, err
		}
		wenv := append(slices.Clone(shared), "STREAMFRONT_ADDR=127.0.0.1:"+strconv.Itoa(wport), fmt.Sprintf("STREAMFRONT_WORKER_NAME=%s-worker-%d", name, i+1))
		w, err := startProcess(fmt.Sprintf("%s-worker-%d", name, i+1), dir, pl, append(wenv, extraEnv...), bin, "worker")
		if err != nil {
			o.stop()
			return nil, err
		}
		if i == 0 {
			o.worker = w
		} else {
			o.extraWorkers = append(o.extraWorkers, w)
		}
		if err := w.waitHTTP(ctx, "http://127.0.0.1:"+strconv.Itoa(wport)+"/healthz", func(s int) bool { return s == http.StatusOK }); err != nil {
			o.stop()
			return nil, err
		}
	}
	return o, nil
}

// edgeProcess is `streamfront edge` run as its own process.
type edgeProcess struct {
	*process
	URL  string
	Name string
}

// startEdge runs an edge in front of originURL with a memory tier of
// memBytes, and a disk tier when cacheDir is set, placed as pl says.
func startEdge(ctx context.Context, name, dir, bin, originURL string, memBytes int64, cacheDir string, pl placement, extraEnv ...string) (*edgeProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	env := []string{
		"STREAMFRONT_EDGE_NAME=" + name,
		"STREAMFRONT_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"STREAMFRONT_ORIGIN_URL=" + originURL,
		"STREAMFRONT_CACHE_DIR=" + cacheDir,
		"STREAMFRONT_MEMORY_SIZE=" + strconv.FormatInt(memBytes, 10),
		"STREAMFRONT_LOG_LEVEL=warn",
		// Every path cached by RFC 9111, as http-cache-tests expects at the
		// root; /videos/ keeps the video policy either way.
	}
	env = append(env, extraEnv...)
	p, err := startProcess(name, dir, pl, env, bin, "edge")
	if err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, base+"/healthz", func(s int) bool { return s == http.StatusOK }); err != nil {
		p.stop()
		return nil, err
	}
	return &edgeProcess{process: p, URL: base, Name: name}, nil
}

// video is the part of the API's Video JSON the bench reads.
type video struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	Stage      string  `json:"stage"` // set while a ready video's renditions are still being made
	Percent    float64 `json:"percent"`
	Error      string  `json:"error"`
	DurationS  float64 `json:"duration_s"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Renditions []struct {
		Name string `json:"name"`
	} `json:"renditions"`
}

// playlistPath is the path of the video track's media playlist of the
// first rendition, e.g. /videos/{id}/hls/src/video.m3u8.
func (v video) playlistPath() string {
	name := "src"
	if len(v.Renditions) > 0 {
		name = v.Renditions[0].Name
	}
	return "/videos/" + v.ID + "/hls/" + name + "/video.m3u8"
}

// uploadRaw POSTs body (size bytes) as a raw video/mp4 upload and returns
// the 201's Video.
func uploadRaw(ctx context.Context, apiURL string, body io.Reader, size int64, title string) (video, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL+"/api/v1/videos?title="+url.QueryEscape(title), body)
	if err != nil {
		return video{}, err
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "video/mp4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return video{}, fmt.Errorf("upload %q: %w", title, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return video{}, fmt.Errorf("upload %q: status %d: %s", title, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var v video
	if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
		return video{}, fmt.Errorf("upload %q: unreadable 201 body %q: %v", title, b, err)
	}
	return v, nil
}

// uploadFile uploads a local file.
func uploadFile(ctx context.Context, apiURL, path, title string) (video, error) {
	f, err := os.Open(path)
	if err != nil {
		return video{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return video{}, err
	}
	return uploadRaw(ctx, apiURL, f, fi.Size(), title)
}

// waitReady polls GET /api/v1/videos/{id} every poll until the video is
// ready (returning when that was first seen) or failed.
func waitReady(ctx context.Context, apiURL, id string, poll, timeout time.Duration) (video, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		v, err := getVideo(ctx, apiURL, id)
		now := time.Now()
		switch {
		case err != nil:
			return v, now, err
		case v.Status == "ready":
			return v, now, nil
		case v.Status == "failed":
			return v, now, fmt.Errorf("video %s failed to package: %s", id, v.Error)
		}
		select {
		case <-ctx.Done():
			return v, now, fmt.Errorf("video %s not ready after %s (status %s)", id, timeout, v.Status)
		case <-tick.C:
		}
	}
}

func getVideo(ctx context.Context, apiURL, id string) (video, error) {
	b, _, err := httpGet(ctx, apiURL+"/api/v1/videos/"+id, nil)
	if err != nil {
		return video{}, err
	}
	var v video
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("video %s: %w", id, err)
	}
	return v, nil
}

// httpGet fetches url whole; a non-2xx status is an error.
func httpGet(ctx context.Context, rawURL string, header http.Header) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.Header, fmt.Errorf("GET %s: body: %w", rawURL, err)
	}
	if resp.StatusCode/100 != 2 {
		return b, resp.Header, fmt.Errorf("GET %s: status %d: %.200s", rawURL, resp.StatusCode, b)
	}
	return b, resp.Header, nil
}

// segmentPaths lists the media segment paths a media playlist names,
// resolved against the playlist's path.
func segmentPaths(playlistPath string, body []byte) ([]string, error) {
	base, err := url.Parse(playlistPath)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ref, err := url.Parse(line)
		if err != nil {
			return nil, fmt.Errorf("playlist %s: segment URI %q: %w", playlistPath, line, err)
		}
		out = append(out, base.ResolveReference(ref).Path)
	}
	if len(out) == 0 {
		return nil, errors.New("playlist " + playlistPath + " names no segments")
	}
	return out, nil
}
