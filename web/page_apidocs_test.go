package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The API reference lists every operation of the OpenAPI document.
func TestAPIDocs_ListsEveryOperation(t *testing.T) {
	site := startSite(t, newTestSite(t, startAPI(t, nil, nil)))
	resp, err := http.Get(site + "/docs/api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /docs/api: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"<code>GET /api/v1/videos</code>", "<code>POST /api/v1/videos</code>", "<code>PATCH /api/v1/videos/{id}</code>",
		"<code>POST /api/v1/videos/{id}/views</code>", "<code>POST /api/v1/invalidations</code>",
		`id="schema-Video"`, "<code>hls_url</code>", `href="/api/v1/openapi.json"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the API reference does not show %s", want)
		}
	}
}
