package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"testing"
	"time"
)

// trickle writes n chunks of 1 KiB, every gap, then closes.
func trickle(n int, gap time.Duration) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		chunk := pattern(1024)
		for range n {
			time.Sleep(gap)
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	return pr
}

// A request body passed through may take longer than ReadTimeout as long
// as it keeps arriving (an upload through the site); one that stalls for
// ReadTimeout is cut.
func TestPassThrough_ABodyMayTakeLongerThanReadTimeoutWhileItArrives(t *testing.T) {
	o := newTestOrigin(t)
	o.handle("/api/v1/upload", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(strconv.FormatInt(n, 10)))
	})
	const idle = 300 * time.Millisecond
	_, base := startEdge(t, o.URL(), func(c *Config) { c.ReadTimeout = idle })
	c := testClient(t)

	// 12 chunks 100 ms apart: 1.2 s in all, four times ReadTimeout.
	resp, err := c.Post(base+"/api/v1/upload", "application/octet-stream", trickle(12, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != strconv.Itoa(12*1024) {
		t.Fatalf("a body arriving steadily for 4× ReadTimeout: %d %q, want 200 and %d bytes", resp.StatusCode, got, 12*1024)
	}

	// A first chunk, then a pause of three times ReadTimeout.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(pattern(1024))
		time.Sleep(3 * idle)
		_, _ = pw.Write(pattern(1024))
		_ = pw.Close()
	}()
	resp, err = c.Post(base+"/api/v1/upload", "application/octet-stream", pr)
	if err == nil {
		got, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && string(got) == strconv.Itoa(2*1024) {
			t.Fatalf("a body that stalled for 3× ReadTimeout went through whole")
		}
	}
}

// earlyHintsLink is what the origins of the Early Hints tests preload.
const earlyHintsLink = "</static/app.css>; rel=preload; as=style"

// hintingPage is an origin handler that sends a 103 with earlyHintsLink,
// then the page with cacheControl and X-Page: final, without the Link
// field.
func hintingPage(cacheControl string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", earlyHintsLink)
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Cache-Control", cacheControl)
		w.Header().Set("X-Page", "final")
		_, _ = w.Write([]byte("page"))
	}
}

// doHinted sends one request and returns the final answer (body read
// whole) and the informational answers before it, as "code Link".
func doHinted(t *testing.T, c *http.Client, method, url string) (*http.Response, string, []string) {
	t.Helper()
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, fmt.Sprintf("%d %s", code, h.Get("Link")))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), method, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body), hints
}

// 103 Early Hints from the origin reach the viewer of a request passed
// through (a behaviour with the pass policy, and a POST), before the final
// answer, and leave the final answer's own fields as they were.
func TestPassThrough_EarlyHintsReachTheViewer(t *testing.T) {
	o := newTestOrigin(t)
	o.handle("/app/page", hintingPage("no-store"))
	_, base := startEdge(t, o.URL(), func(c *Config) {
		c.Behaviors = []Behavior{{Pattern: "/app/**", Policy: PolicyPass}}
	})
	c := testClient(t)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		resp, body, hints := doHinted(t, c, method, base+"/app/page")
		if want := []string{"103 " + earlyHintsLink}; !slices.Equal(hints, want) {
			t.Errorf("%s: informational answers %q, want %q", method, hints, want)
		}
		if resp.StatusCode != http.StatusOK || body != "page" || resp.Header.Get("X-Page") != "final" || resp.Header.Get("Link") != "" || resp.Header.Get("X-Edge") == "" {
			t.Errorf("%s: final answer %d %q, X-Page %q, Link %q, X-Edge %q; want 200 \"page\", final, no Link, the edge's name",
				method, resp.StatusCode, body, resp.Header.Get("X-Page"), resp.Header.Get("Link"), resp.Header.Get("X-Edge"))
		}
	}
}

// On a cache miss the viewer whose request started the fill gets the
// origin's 103 Early Hints too; the hit after it has none (nothing was
// asked of the origin).
func TestMiss_EarlyHintsReachTheViewerThatStartedTheFill(t *testing.T) {
	o := newTestOrigin(t)
	o.handle("/page", hintingPage("public, max-age=60"))
	e, base := startEdge(t, o.URL(), nil)
	c := testClient(t)
	for i, want := range [][]string{{"103 " + earlyHintsLink}, nil} {
		resp, body, hints := doHinted(t, c, http.MethodGet, base+"/page")
		if !slices.Equal(hints, want) {
			t.Errorf("request %d (%s): informational answers %q, want %q", i+1, resp.Header.Get("X-Cache"), hints, want)
		}
		if resp.StatusCode != http.StatusOK || body != "page" || resp.Header.Get("X-Page") != "final" || resp.Header.Get("Link") != "" || resp.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("request %d: final answer %d %q, X-Page %q, Link %q, Access-Control-Allow-Origin %q; want 200 \"page\", final, no Link, the edge's CORS field",
				i+1, resp.StatusCode, body, resp.Header.Get("X-Page"), resp.Header.Get("Link"), resp.Header.Get("Access-Control-Allow-Origin"))
		}
		waitIdle(t, e) // the fill has stored the page
	}
	if n := o.count("/page"); n != 1 {
		t.Errorf("the origin was asked for the page %d times, want 1", n)
	}
}
