package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
)

// runUpload sends a file to the API as multipart, with a progress bar, then
// follows the video's events until it is ready or failed.
func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The defaults are `make run`'s (streamfront.yaml).
	api, key := "http://localhost:8080", "streamfront-dev-key"
	var title, description, tags string
	wait, resumable := true, true
	statePath := defaultStatePath()
	chunk := int64(8 << 20)
	retries := 5
	f := newFlags("upload", stderr, os.LookupEnv)
	f.string(&api, "api", "STREAMFRONT_API", "API base URL")
	f.secret(&key, "api-key", "STREAMFRONT_API_KEY", "API key")
	f.string(&title, "title", "STREAMFRONT_TITLE", "title (default: the file name)")
	f.string(&description, "description", "STREAMFRONT_DESCRIPTION", "description")
	f.string(&tags, "tags", "STREAMFRONT_TAGS", "comma-separated tags")
	f.bool(&wait, "wait", "STREAMFRONT_WAIT", "wait until the video is ready or failed")
	f.bool(&resumable, "resumable", "STREAMFRONT_RESUMABLE", "upload in chunks (tus) and resume after a dropped connection or a restart of this command; false sends one request")
	f.string(&statePath, "state", "STREAMFRONT_UPLOAD_STATE", "where uploads in progress are remembered, to resume them")
	f.size(&chunk, "chunk", "STREAMFRONT_CHUNK", "bytes per request of a resumable upload")
	f.int(&retries, "retries", "STREAMFRONT_RETRIES", "tries in a row after a failed chunk before giving up (resume later by running the command again)")
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("give exactly one file to upload: streamfront upload [flags] FILE")
	}
	path := f.Arg(0)
	if resumable {
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		bar := progressbar.DefaultBytes(info.Size(), "uploading "+filepath.Base(path))
		c := &tusClient{api: api, key: key, chunk: max(chunk, 1), retries: retries, http: http.DefaultClient,
			progress: func(done int64) { _ = bar.Set64(done) }}
		id, err := uploadResumable(ctx, c, statePath, path,
			map[string]string{"filename": filepath.Base(path), "title": title, "description": description, "tags": tags}, stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nuploaded: %s\n", id)
		if !wait {
			return nil
		}
		return followEvents(ctx, api, id, stdout)
	}
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return err
	}

	// The multipart body is produced while it is sent: nothing is buffered
	// whole, whatever the file's size.
	pr, pw := io.Pipe()
	form := multipart.NewWriter(pw)
	bar := progressbar.DefaultBytes(info.Size(), "uploading "+filepath.Base(path))
	go func() {
		err := writeForm(form, map[string]string{"title": title, "description": description, "tags": tags},
			filepath.Base(path), io.TeeReader(file, bar))
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(api, "/")+"/api/v1/videos", pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var v struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Error   string `json:"error"`
		PageURL string `json:"page_url"`
		HLSURL  string `json:"hls_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s", resp.Status, v.Error)
	}
	fmt.Fprintf(stdout, "\nuploaded: %s (%s)\n", v.ID, v.Status)
	if !wait {
		return nil
	}
	return followEvents(ctx, api, v.ID, stdout)
}

func writeForm(form *multipart.Writer, fields map[string]string, name string, file io.Reader) error {
	for k, v := range fields {
		if v != "" {
			if err := form.WriteField(k, v); err != nil {
				return err
			}
		}
	}
	part, err := form.CreateFormFile("file", name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, file); err != nil {
		return err
	}
	return form.Close()
}

// followEvents prints packaging progress from the SSE stream.
func followEvents(ctx context.Context, api, id string, stdout io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(api, "/")+"/api/v1/videos/"+id+"/events", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Status  string  `json:"status"`
			Stage   string  `json:"stage"`
			Percent float64 `json:"percent"`
			Error   string  `json:"error"`
			Queue   int     `json:"queue_position"`
			Video   struct {
				PageURL string `json:"page_url"`
				HLSURL  string `json:"hls_url"`
				MP4URL  string `json:"mp4_url"`
			} `json:"video"`
		}
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		switch ev.Status {
		case "ready":
			fmt.Fprintf(stdout, "ready\n  watch: %s\n  hls:   %s\n  mp4:   %s\n", ev.Video.PageURL, ev.Video.HLSURL, ev.Video.MP4URL)
			if ev.Stage != "" {
				fmt.Fprintf(stdout, "  (%s: other qualities join the master playlist as they finish)\n", ev.Stage)
			}
			return nil
		case "failed":
			return fmt.Errorf("packaging failed: %s", ev.Error)
		default:
			if ev.Queue > 0 {
				fmt.Fprintf(stdout, "%s %s (#%d in line)\n", ev.Status, ev.Stage, ev.Queue)
				continue
			}
			fmt.Fprintf(stdout, "%s %s %.0f%%\n", ev.Status, ev.Stage, ev.Percent)
		}
	}
	return fmt.Errorf("the event stream ended before the video was ready")
}
