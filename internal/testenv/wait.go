package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
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
