package origin_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func callWith(t *testing.T, key, method, url string, body any) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Keys made through the API carry scopes and a rate limit, are stored
// hashed, and stop working when revoked; the deployment's key stays admin.
func TestAPIKeys_ScopesRateLimitsAndRevocation(t *testing.T) {
	base, _ := startOrigin(t)
	create := func(key string, in map[string]any) (int, struct{ ID, Key, Prefix string }) {
		t.Helper()
		code, _, body := callWith(t, key, http.MethodPost, base+"/api/v1/keys", in)
		var out struct{ ID, Key, Prefix string }
		_ = json.Unmarshal([]byte(body), &out)
		return code, out
	}
	code, uploader := create(apiKey, map[string]any{"name": "ci uploads", "scopes": []string{"upload"}})
	if code != http.StatusCreated || !strings.HasPrefix(uploader.Key, uploader.Prefix) {
		t.Fatalf("create an upload key: %d %+v", code, uploader)
	}
	_, reader := create(apiKey, map[string]any{"name": "reports", "scopes": []string{"read"}, "rate_per_minute": 3})
	for name, in := range map[string]map[string]any{
		"no scopes":     {"name": "x"},
		"unknown scope": {"name": "x", "scopes": []string{"root"}},
		"no name":       {"scopes": []string{"read"}},
		"negative rate": {"name": "x", "scopes": []string{"read"}, "rate_per_minute": -1},
	} {
		if code, _ := create(apiKey, in); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}

	// Scopes decide.
	for _, c := range []struct {
		key, method, path string
		want              int
	}{
		{uploader.Key, http.MethodGet, "/api/v1/usage", http.StatusForbidden},
		{uploader.Key, http.MethodGet, "/api/v1/webhooks", http.StatusForbidden},
		{uploader.Key, http.MethodPost, "/api/v1/keys", http.StatusForbidden},
		{uploader.Key, http.MethodGet, "/api/v1/queue", http.StatusForbidden},
		{uploader.Key + "x", http.MethodGet, "/api/v1/queue", http.StatusUnauthorized},
		{reader.Key, http.MethodGet, "/api/v1/usage?from=2026-01-01&to=2026-01-02", http.StatusOK},
		{reader.Key, http.MethodDelete, "/api/v1/videos/0000000000000000", http.StatusForbidden},
		{uploader.Key, http.MethodDelete, "/api/v1/videos/0000000000000000", http.StatusNotFound},
		{uploader.Key + "x", http.MethodDelete, "/api/v1/videos/0000000000000000", http.StatusUnauthorized},
		{"sf_000000000000_" + strings.Repeat("A", 43), http.MethodGet, "/api/v1/usage", http.StatusUnauthorized},
	} {
		if code, _, body := callWith(t, c.key, c.method, base+c.path, nil); code != c.want {
			t.Errorf("%s %s with %.15s…: %d %s, want %d", c.method, c.path, c.key, code, body, c.want)
		}
	}

	// The read key has 3 a minute (a burst of 1): the second call at once
	// is refused with a time to wait. (reader already made one call.)
	code, h, body := callWith(t, reader.Key, http.MethodGet, base+"/api/v1/usage", nil)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("past the rate limit: %d %q %s, want 429 with Retry-After", code, h.Get("Retry-After"), body)
	}

	// The list shows no secret and no hash.
	code, _, body = callWith(t, apiKey, http.MethodGet, base+"/api/v1/keys", nil)
	if code != http.StatusOK || strings.Contains(body, uploader.Key) || strings.Contains(body, "hash") || !strings.Contains(body, uploader.Prefix) {
		t.Fatalf("list: %d %s", code, body)
	}

	// Revoked: refused at once.
	if code, _, body := callWith(t, apiKey, http.MethodDelete, base+"/api/v1/keys/"+uploader.ID, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _, _ := callWith(t, uploader.Key, http.MethodDelete, base+"/api/v1/videos/0000000000000000", nil); code != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d, want 401", code)
	}
	if code, _, _ := callWith(t, apiKey, http.MethodDelete, base+"/api/v1/keys/"+uploader.ID, nil); code != http.StatusNotFound {
		t.Fatalf("revoked twice: %d, want 404", code)
	}
}
