package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// WaitVideo polls GET {base}/api/v1/videos/{id} every 100 ms, decoding each
// answer into a T (the test's own view of the Video JSON), until done says
// so, and returns that answer. After within it fails the test, saying what
// was awaited and the last answer.
func WaitVideo[T any](t testing.TB, base, id, what string, within time.Duration, done func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for {
		resp, err := http.Get(base + "/api/v1/videos/" + id)
		if err != nil {
			t.Fatalf("video %s: %v", id, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("video %s: %v", id, err)
		}
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		var v T
		if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &v) == nil && done(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("video %s: %s did not happen within %s; last answer: %s", id, what, within, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitBody polls url every 300 ms until it answers 200 with a body ok
// accepts, and returns that body; within only guards against hanging.
func WaitBody(t testing.TB, url string, within time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if resp.StatusCode == http.StatusOK && ok(last) {
				return last
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("no %s within %v; last answer:\n%s", what, within, last)
	return ""
}

// MediaPlaylist fetches and parses an HLS media playlist (gohlslib's
// parser: an independent reader of what our side wrote).
func MediaPlaylist(t testing.TB, url string) *playlist.Media {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("%s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("%s is not a media playlist", url)
	}
	return m
}
