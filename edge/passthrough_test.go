package edge

import (
	"io"
	"net/http"
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
