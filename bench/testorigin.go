package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// testOrigin is a loopback HTTP server with a catalog of n distinct
// objects of size bytes each at /videos/hr/{i}.m4s, cacheable for a day.
// It counts the requests it answers, so edge misses can be cross-checked.
type testOrigin struct {
	URL      string
	n, size  int
	requests atomic.Int64
	srv      *http.Server
	done     chan struct{}
}

func startTestOrigin(n, size int) (*testOrigin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &testOrigin{URL: "http://" + ln.Addr().String(), n: n, size: size, done: make(chan struct{})}
	o.srv = &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go func() {
		defer close(o.done)
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the bench sees failures as edge errors
		}
	}()
	return o, nil
}

func (o *testOrigin) path(i int) string { return "/videos/hr/" + strconv.Itoa(i) + ".m4s" }

func (o *testOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	num, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/videos/hr/"), ".m4s")
	i, err := strconv.Atoi(num)
	if !ok || err != nil || i < 0 || i >= o.n {
		http.NotFound(w, r)
		return
	}
	o.requests.Add(1)
	body := make([]byte, o.size)
	binary.BigEndian.PutUint64(body, uint64(i)) // distinct bytes per object
	h := w.Header()
	h.Set("Content-Type", "video/iso.segment")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("ETag", `"hr-`+num+`"`)
	h.Set("Content-Length", strconv.Itoa(o.size))
	_, _ = w.Write(body)
}

func (o *testOrigin) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = o.srv.Shutdown(ctx)
	<-o.done
}
