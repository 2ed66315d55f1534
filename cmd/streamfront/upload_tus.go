package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A resumable upload (tus 1.0, the origin's /api/v1/uploads) sends the
// file in chunks; a chunk cut by a dropped connection is resumed from the
// offset the server stored (HEAD), and the upload's URL is kept in a state
// file, so the same command run again after the client stopped (Ctrl-C, a
// reboot) continues where the server is.

// tusState maps a file (path, size, mtime, API) to its upload in progress.
type tusState struct {
	path    string
	Uploads map[string]tusEntry `json:"uploads"`
}

type tusEntry struct {
	URL     string    `json:"url"`
	VideoID string    `json:"video_id"`
	Started time.Time `json:"started"`
}

func defaultStatePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "streamfront", "uploads.json")
}

func loadTusState(path string) *tusState {
	st := &tusState{path: path, Uploads: map[string]tusEntry{}}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, st) // a damaged file only loses the resume
	}
	if st.Uploads == nil {
		st.Uploads = map[string]tusEntry{}
	}
	return st
}

func (st *tusState) save() error {
	if err := os.MkdirAll(filepath.Dir(st.path), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	tmp := st.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, st.path)
}

func fingerprint(api, path string, info os.FileInfo) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return fmt.Sprintf("%s|%s|%d|%d", strings.TrimRight(api, "/"), abs, info.Size(), info.ModTime().UnixNano())
}

// tusClient uploads one file.
type tusClient struct {
	api, key string
	chunk    int64
	retries  int
	http     *http.Client
	progress func(done int64)
}

func (c *tusClient) do(ctx context.Context, method, target string, body io.Reader, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+c.key)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return c.http.Do(req)
}

// apiError is the sentence of a refusal (JSON error, or tus's text).
func apiError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var e struct{ Error string }
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
}

// create starts an upload and returns its absolute URL and video ID.
func (c *tusClient) create(ctx context.Context, size int64, meta map[string]string) (string, string, error) {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var md []string
	for _, k := range keys {
		if meta[k] != "" {
			md = append(md, k+" "+base64.StdEncoding.EncodeToString([]byte(meta[k])))
		}
	}
	resp, err := c.do(ctx, http.MethodPost, strings.TrimRight(c.api, "/")+"/api/v1/uploads", nil,
		map[string]string{"Upload-Length": strconv.FormatInt(size, 10), "Upload-Metadata": strings.Join(md, ",")})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", "", apiError(resp)
	}
	base, err := url.Parse(strings.TrimRight(c.api, "/") + "/api/v1/uploads")
	if err != nil {
		return "", "", err
	}
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", "", errors.New("the server started the upload but did not say where (no Location)")
	}
	return loc.String(), resp.Header.Get("Streamfront-Video-Id"), nil
}

// errGone means the server no longer has the upload (expired, finished
// long ago, or cancelled): start again.
var errGone = errors.New("the upload is gone from the server")

func (c *tusClient) offset(ctx context.Context, target string) (int64, error) {
	resp, err := c.do(ctx, http.MethodHead, target, nil, nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return 0, errGone
	case resp.StatusCode != http.StatusOK:
		return 0, fmt.Errorf("asking where to resume: %s", resp.Status)
	}
	return strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
}

// send PATCHes the file from the server's offset to the end, a chunk per
// request; after a failure it asks the offset again and goes on, up to
// retries times in a row.
func (c *tusClient) send(ctx context.Context, target string, file io.ReaderAt, size int64) error {
	failures := 0
	for {
		off, err := c.offset(ctx, target)
		if err == nil && off >= size {
			return nil
		}
		if err == nil {
			c.progress(off)
			err = c.patch(ctx, target, file, off, min(c.chunk, size-off))
		}
		switch {
		case err == nil:
			failures = 0
			continue
		case ctx.Err() != nil || errors.Is(err, errGone):
			return err
		}
		var refused *refusedError
		if errors.As(err, &refused) || failures >= c.retries {
			return err
		}
		failures++
		wait := time.Duration(1<<min(failures-1, 5)) * time.Second
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// refusedError is a 4xx other than a conflict: retrying cannot help.
type refusedError struct{ error }

func (c *tusClient) patch(ctx context.Context, target string, file io.ReaderAt, off, n int64) error {
	body := io.NewSectionReader(file, off, n)
	resp, err := c.do(ctx, http.MethodPatch, target, body, map[string]string{
		"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.FormatInt(off, 10)})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return errGone
	case resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return apiError(resp) // the offset moved, or the server is in trouble: ask again
	default:
		return &refusedError{apiError(resp)}
	}
}

// uploadResumable uploads file (or resumes its upload) and returns the
// video ID.
func uploadResumable(ctx context.Context, c *tusClient, statePath, path string, meta map[string]string, stdout io.Writer) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return "", err
	}
	if info.Size() == 0 {
		return "", errors.New("the file is empty: choose a video file that has content")
	}
	st := loadTusState(statePath)
	fp := fingerprint(c.api, path, info)
	entry, resuming := st.Uploads[fp]
	if resuming {
		if _, err := c.offset(ctx, entry.URL); errors.Is(err, errGone) {
			resuming = false
		}
	}
	if resuming {
		fmt.Fprintf(stdout, "resuming the upload of video %s\n", entry.VideoID)
	} else {
		u, id, err := c.create(ctx, info.Size(), meta)
		if err != nil {
			return "", err
		}
		entry = tusEntry{URL: u, VideoID: id, Started: time.Now().UTC()}
		st.Uploads[fp] = entry
		if err := st.save(); err != nil {
			fmt.Fprintf(stdout, "(the upload cannot be resumed after this command ends: %v)\n", err)
		}
	}
	if err := c.send(ctx, entry.URL, file, info.Size()); err != nil {
		if errors.Is(err, errGone) {
			delete(st.Uploads, fp)
			_ = st.save()
			return "", fmt.Errorf("%w; run the same command to start it again", err)
		}
		return "", fmt.Errorf("%w\nthe upload stopped; run the same command again to resume it", err)
	}
	c.progress(info.Size())
	delete(st.Uploads, fp)
	_ = st.save()
	return entry.VideoID, nil
}
