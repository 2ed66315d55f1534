package httperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

var errGone = errors.New("gone")

func serve(t *testing.T, rs Responder, err error) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(rs.Handle(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=3600") // set for a success that did not happen
		return err
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestResponder_AnswersOneJSONShape(t *testing.T) {
	rs := Responder{
		Map: func(err error) (int, string, bool) {
			if errors.Is(err, errGone) {
				return http.StatusGone, "This video was deleted.", true
			}
			return 0, "", false
		},
		Header: func(h http.Header, status int) { h.Set("X-Role", fmt.Sprint(status)) },
	}
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
	}{
		{"an *Error answers itself", fmt.Errorf("upload: %w", New(http.StatusBadRequest, "Send a video file.")), http.StatusBadRequest, "Send a video file."},
		{"mapped", fmt.Errorf("catalog: %w", errGone), http.StatusGone, "This video was deleted."},
		{"unknown is a 500 that shows nothing of it", errors.New("disk on fire"), http.StatusInternalServerError, Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(serve(t, rs, tt.err).URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var got struct{ Error string }
			if err := json.Unmarshal(body, &got); err != nil || got.Error != tt.msg || resp.StatusCode != tt.status {
				t.Fatalf("%d %s, want %d {\"error\": %q}", resp.StatusCode, body, tt.status, tt.msg)
			}
			for k, want := range map[string]string{
				"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store",
				"X-Content-Type-Options": "nosniff", "X-Role": fmt.Sprint(tt.status),
			} {
				if v := resp.Header.Get(k); v != want {
					t.Errorf("%s: %q, want %q", k, v, want)
				}
			}
		})
	}
}

func TestResponder_HEADGetsNoBody(t *testing.T) {
	resp, err := http.Head(serve(t, Responder{}, New(http.StatusNotFound, "No video has this ID.")).URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("HEAD got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
