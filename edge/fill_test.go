package edge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// gatedHandler sends the first half of body, flushes, and waits for gate
// before sending the rest: while it waits, the object is mid-fill.
func gatedHandler(body []byte, cacheControl string, gate <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Cache-Control", cacheControl)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		half := len(body) / 2
		w.Write(body[:half])
		w.(http.Flusher).Flush()
		<-gate
		w.Write(body[half:])
	}
}

func TestEdge_CollapsesMissesAndStreamsWhileFilling(t *testing.T) {
	o := newTestOrigin(t)
	body := pattern(256 << 10)
	gate := make(chan struct{})
	o.handle("/videos/v1/seg7.m4s", gatedHandler(body, "public, max-age=31536000, immutable", gate))
	_, base := startEdge(t, o.URL(), nil)
	c := testClient(t)

	const clients = 8
	half := len(body) / 2
	gotHalf := make(chan struct{}, clients)
	results := make([][]byte, clients)
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			resp, err := c.Get(base + "/videos/v1/seg7.m4s")
			if err != nil {
				errs[i] = err
				gotHalf <- struct{}{}
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, len(body))
			// The first half must arrive while the origin still holds back
			// the second: stream-while-filling, not wait-for-complete.
			_, err = io.ReadFull(resp.Body, buf[:half])
			gotHalf <- struct{}{}
			if err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = io.ReadFull(resp.Body, buf[half:])
			results[i] = buf
		})
	}
	for range clients {
		<-gotHalf
	}
	close(gate)
	wg.Wait()
	for i := range clients {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if !bytes.Equal(results[i], body) {
			t.Fatalf("client %d got a different body", i)
		}
	}
	if n := o.count("/videos/v1/seg7.m4s"); n != 1 {
		t.Fatalf("origin saw %d fetches for %d concurrent misses, want 1", n, clients)
	}
	r := get(t, c, base+"/videos/v1/seg7.m4s")
	wantXCache(t, r, "Hit")
	if !bytes.Equal(r.body, body) {
		t.Fatal("cached body differs")
	}
}

func TestEdge_BrokenFillIsNeverCachedAndFailsEveryClient(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(w http.ResponseWriter, body []byte)
	}{
		{"fewer bytes than Content-Length", func(w http.ResponseWriter, body []byte) {
			w.Write(body[:len(body)/2])
		}},
		{"connection reset mid-body", func(w http.ResponseWriter, body []byte) {
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.(interface{ SetLinger(int) error }).SetLinger(0)
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrigin(t)
			body := pattern(200 << 10)
			gate := make(chan struct{})
			var mu sync.Mutex
			broken := true
			o.handle("/videos/v1/seg9.m4s", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				b := broken
				mu.Unlock()
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				if !b {
					w.Write(body)
					return
				}
				<-gate
				tt.break_(w, body)
			})
			e, base := startEdge(t, o.URL(), nil)
			c := testClient(t)

			const clients = 4
			var wg sync.WaitGroup
			res := make([]result, clients)
			started := make(chan struct{}, clients)
			for i := range clients {
				wg.Go(func() {
					started <- struct{}{}
					res[i] = get(t, c, base+"/videos/v1/seg9.m4s")
				})
			}
			for range clients {
				<-started
			}
			waitFor(t, "the origin fetch", func() bool { return o.count("/videos/v1/seg9.m4s") == 1 })
			close(gate)
			wg.Wait()
			for i, r := range res {
				if r.err == nil && r.status == 200 && len(r.body) == len(body) {
					t.Fatalf("client %d got a complete 200 from a broken fill", i)
				}
				if r.err == nil && r.status == 200 {
					t.Fatalf("client %d got a short 200 (%d bytes) without a transfer error", i, len(r.body))
				}
			}

			waitIdle(t, e)
			mu.Lock()
			broken = false
			mu.Unlock()
			r := get(t, c, base+"/videos/v1/seg9.m4s")
			wantStatus(t, r, 200)
			wantXCache(t, r, "Miss")
			if !bytes.Equal(r.body, body) {
				t.Fatal("refetched body differs")
			}
		})
	}
}

func TestStreamBuffer_ReadersSeeBytesAsTheyArrive(t *testing.T) {
	b := newStreamBuffer(0)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := b.readFrom(pr, 1<<20, -1, nil)
		b.finish(err)
		done <- err
	}()
	pw.Write([]byte("hello "))
	p, err := b.next(context.Background(), 0)
	if err != nil || string(p) != "hello " {
		t.Fatalf("first chunk %q, %v", p, err)
	}
	pw.Write([]byte("world"))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p, err = b.next(context.Background(), 6)
	if err != nil || string(p) != "world" {
		t.Fatalf("second chunk %q, %v", p, err)
	}
	if _, err := b.next(context.Background(), 11); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v, want EOF", err)
	}
	all, ok := b.bytes()
	if !ok || string(all) != "hello world" {
		t.Fatalf("bytes %q %v", all, ok)
	}
}

func TestStreamBuffer_LimitStopsTheFill(t *testing.T) {
	b := newStreamBuffer(0)
	_, err := b.readFrom(bytes.NewReader(make([]byte, 1000)), 999, -1, nil)
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("err %v, want errTooLarge", err)
	}
	b2 := newStreamBuffer(0)
	if _, err := b2.readFrom(bytes.NewReader(make([]byte, 1000)), 1000, -1, nil); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
}

func TestStreamBuffer_WaitingReaderLeavesWithItsContext(t *testing.T) {
	b := newStreamBuffer(10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.next(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// TestEdge_FlightRechecksTheCache covers the race described in
// runWholeFill: a flight that starts after another stored the object must
// answer from the cache, not fetch again.
func TestEdge_FlightRechecksTheCache(t *testing.T) {
	o := newTestOrigin(t)
	e, _ := startEdge(t, o.URL(), nil)
	m := e.newEntry("/videos/v1/seg1.m4s", kindWhole, 200, http.Header{"Cache-Control": {"max-age=600"}}, time.Now())
	m.setSize(3)
	e.store(m, []byte("abc"))

	r := httptest.NewRequest(http.MethodGet, "/videos/v1/seg1.m4s", nil)
	f := e.joinWholeFill("/videos/v1/seg1.m4s", "/videos/v1/seg1.m4s", nil, r, m)
	if err := f.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.outcome != outcomeCached || string(f.hit.mem.body) != "abc" {
		t.Fatalf("outcome %d: the flight did not find the cached copy", f.outcome)
	}
	if n := o.count("/videos/v1/seg1.m4s"); n != 0 {
		t.Fatalf("the flight fetched from the origin %d times", n)
	}
}
