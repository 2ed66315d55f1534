package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

// `make run` names the viewers' URL first, an edge's, and its upload
// example works there: the form the curl command sends, to the URL it
// names, makes a video whose page is on the viewers' URL.
func TestPrintRunning_NamesTheViewersURLAndItsUploadWorks(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: stack.Local(t.TempDir(), "run-key"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var out bytes.Buffer
	printRunning(&out, "streamfront.yaml", ".data", "run-key", st)
	text := out.String()
	if st.SiteURL != st.EdgeURLs[0] {
		t.Fatalf("viewers' URL %s, want the first edge %s", st.SiteURL, st.EdgeURLs[0])
	}
	if !strings.Contains(text, "Open        "+st.SiteURL+" ") {
		t.Errorf("the first line does not open the viewers' URL %s:\n%s", st.SiteURL, text)
	}
	m := regexp.MustCompile(`curl -H "Authorization: Bearer ([^"]+)" -F file=@video\.mp4 -F title="([^"]+)" (\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no upload example:\n%s", text)
	}
	key, title, target := m[1], m[2], m[3]
	if target != st.SiteURL+"/api/v1/videos" {
		t.Errorf("the upload example posts to %s, want the viewers' URL", target)
	}

	// What curl -F sends.
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, _ := form.CreateFormFile("file", "video.mp4")
	data, err := os.ReadFile(testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 2}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(data)
	_ = form.WriteField("title", title)
	_ = form.Close()
	req, _ := http.NewRequest(http.MethodPost, target, &body)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", form.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		PageURL string `json:"page_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("the upload example: %s, %v", resp.Status, err)
	}
	if via := resp.Header.Get("X-Edge"); via != "edge-1" {
		t.Errorf("the upload was answered by %q, want through edge-1", via)
	}
	if !strings.HasPrefix(v.PageURL, st.SiteURL+"/watch/") {
		t.Errorf("page_url %s is not on the viewers' URL", v.PageURL)
	}
}
