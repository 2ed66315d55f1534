package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The fast path: a lean HTTP/1.1 serving loop for memory hits, with
// net/http for everything else (see doc.go for what it covers and why).
//
// Serve's accept loop gives every connection to a fastConn. It reads
// requests with the strict reader (fastpath_reader.go) and answers those
// that are fresh public memory hits (fastpath_answer.go) itself: one
// writev of a mostly pre-serialised header and the cached body (large
// bodies the disk tier also holds go out from the disk copy with
// sendfile: fastpath_sendfile.go). At the
// first request it does not answer, it hands the connection — with every
// byte read so far, replayed first — to the edge's http.Server through a
// listener (fastpath_handoff.go), which serves it for the rest of its
// life exactly as before.
//
// Timeouts, with one deadline call per request in the steady state:
//
//   - At accept: read deadline now+ReadHeaderTimeout for the first
//     request, as net/http.
//   - When a request head is complete: SetDeadline(now+WriteTimeout),
//     read and write at once. It bounds writing the answer; bodies longer
//     than bodyWriteChunk push the write deadline forward before every
//     further piece, as bodyWriter does.
//   - The same read deadline then bounds the wait for the next request.
//     When it fires with nothing read, the connection is not idle for
//     IdleTimeout yet, so the deadline is moved to the end of the idle
//     time (one more call, only on connections idle for longer than
//     WriteTimeout).
//   - When a read leaves a head incomplete (a client that sends a request
//     in pieces), the read deadline becomes now+ReadHeaderTimeout for the
//     rest of that head, so a slowloris holds a goroutine for at most
//     ReadHeaderTimeout per request (one more call, only then).
//
// Shutdown: the accept loop stops, idle connections are woken by a read
// deadline in the past and close, a connection in the middle of an
// answer finishes it (with Connection: close, as net/http does while
// shutting down) and closes, and Serve waits for them within
// ShutdownTimeout before it shuts the http.Server down.

// fastServer runs the fast path of one Serve call.
type fastServer struct {
	e       *Edge
	handoff *handoffListener

	// idleShort: IdleTimeout ends before WriteTimeout (or there is no
	// WriteTimeout), so the deadline set for an answer cannot also bound
	// the idle time after it.
	idleShort bool

	shutting atomic.Bool
	mu       sync.Mutex
	conns    map[*fastConn]struct{}
	wg       sync.WaitGroup

	// Precomputed lines.
	status200, status206, status304, status416 []byte
	xcacheHit                                  []byte
	date                                       dateCache

	bufs sync.Pool // read buffers of fastMaxHead bytes
}

func newFastServer(e *Edge, handoff *handoffListener) *fastServer {
	idle, write := e.cfg.IdleTimeout, e.cfg.WriteTimeout
	return &fastServer{
		e: e, handoff: handoff,
		idleShort: idle > 0 && (write <= 0 || idle < write),
		conns:     map[*fastConn]struct{}{},
		status200: statusLine(http.StatusOK), status206: statusLine(http.StatusPartialContent),
		status304: statusLine(http.StatusNotModified), status416: statusLine(http.StatusRequestedRangeNotSatisfiable),
		xcacheHit: []byte("X-Cache: " + e.hdrs.xcache[xcacheHit][0] + "\r\n"),
		bufs:      sync.Pool{New: func() any { b := make([]byte, fastMaxHead); return &b }},
	}
}

// acceptLoop serves ln until it fails. Temporary errors (too many open
// files) are retried with net/http's backoff.
func (fs *fastServer) acceptLoop(ln net.Listener) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if fs.shutting.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Temporary() { //nolint:staticcheck // as net/http does
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				fs.e.log.Warn("accept failed; retrying", "err", err, "in", delay)
				t := time.NewTimer(delay)
				<-t.C
				continue
			}
			return err
		}
		delay = 0
		fc := &fastConn{fs: fs, e: fs.e, conn: c}
		if !fs.track(fc) {
			c.Close()
			continue
		}
		go fc.serve()
	}
}

// track registers a connection loop; it refuses once shutting down.
func (fs *fastServer) track(fc *fastConn) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.shutting.Load() {
		return false
	}
	fs.conns[fc] = struct{}{}
	fs.wg.Add(1)
	return true
}

func (fs *fastServer) untrack(fc *fastConn) {
	fs.mu.Lock()
	delete(fs.conns, fc)
	fs.mu.Unlock()
	fs.wg.Done()
}

// aLongTimeAgo is a deadline in the past: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// shutdown stops the connection loops: idle ones close at once, busy ones
// after their answer. It waits for them until ctx ends, then closes the
// rest. The accept loop must have stopped.
func (fs *fastServer) shutdown(ctx context.Context) error {
	fs.mu.Lock()
	fs.shutting.Store(true)
	for fc := range fs.conns {
		// A loop checks shutting after each deadline it sets, so either it
		// sees the flag or this deadline comes after its own.
		fc.conn.SetReadDeadline(aLongTimeAgo)
	}
	fs.mu.Unlock()

	done := make(chan struct{})
	go func() { fs.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	fs.mu.Lock()
	for fc := range fs.conns {
		fc.conn.Close()
	}
	fs.mu.Unlock()
	<-done
	return ctx.Err()
}

// fastConn is one connection on the fast path.
type fastConn struct {
	fs   *fastServer
	e    *Edge
	conn net.Conn

	fastReader
	bufp *[]byte // buf, from fastServer.bufs

	head    []byte // the answer's status line and header, reused
	iov     [2][]byte
	out     net.Buffers
	lr      io.LimitedReader // sendfile pieces, reused
	lastKey string           // the cache key of the previous request, reused when equal
}

// serve runs the connection until it closes or is handed over.
func (fc *fastConn) serve() {
	handedOver := false
	defer func() {
		fc.fs.untrack(fc)
		if !handedOver {
			fc.conn.Close()
			if fc.bufp != nil {
				fc.fs.bufs.Put(fc.bufp)
			}
		}
	}()
	reason, ok := fc.loop()
	if !ok {
		return
	}
	fc.e.metrics.handovers[reason].Inc()
	var c net.Conn = fc.conn
	if fc.buffered() > 0 {
		c = &replayConn{Conn: fc.conn, pending: fc.buf[fc.r:fc.w]} // the buffer goes with it
	} else if fc.bufp != nil {
		fc.fs.bufs.Put(fc.bufp)
	}
	if fc.fs.handoff.deliver(c) {
		handedOver = true
	}
}

// loop answers requests until the connection ends (ok false) or a request
// is not the fast path's (ok true: hand the connection over).
func (fc *fastConn) loop() (reason handoverReason, ok bool) {
	if _, isTLS := fc.conn.(*tls.Conn); isTLS {
		return handoverTLS, true
	}
	fc.bufp = fc.fs.bufs.Get().(*[]byte)
	fc.buf = *fc.bufp
	cfg := &fc.e.cfg
	fc.conn.SetReadDeadline(deadlineAfter(time.Now(), cfg.ReadHeaderTimeout))
	headerTimed := true     // this request's ReadHeaderTimeout is running
	var idleSince time.Time // end of the last answer; zero before the first
	var req fastRequest
	for {
		if fc.buffered() == 0 && fc.fs.shutting.Load() {
			return 0, false
		}
		switch fc.parse(&req) {
		case parseRefused:
			return handoverRequest, true
		case parseOK:
			reason, answered, end, err := fc.answer(&req)
			if !answered {
				return reason, true
			}
			if err != nil || req.close || fc.fs.shutting.Load() {
				return 0, false
			}
			fc.consume(req.size)
			idleSince, headerTimed = end, false
			if fc.fs.idleShort {
				// The answer's deadline would outlast the idle time.
				fc.conn.SetReadDeadline(deadlineAfter(end, cfg.IdleTimeout))
			}
			continue
		}

		// Incomplete: read more.
		if fc.buffered() > 0 && !headerTimed {
			// Part of a head is here: the rest must follow within
			// ReadHeaderTimeout.
			fc.conn.SetReadDeadline(deadlineAfter(time.Now(), cfg.ReadHeaderTimeout))
			headerTimed = true
			if fc.fs.shutting.Load() {
				return 0, false
			}
		}
		n, err := fc.fill(fc.conn)
		if n > 0 || err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && fc.buffered() == 0 && !idleSince.IsZero() && cfg.IdleTimeout > 0 {
			// The deadline of the last answer fired while idle: wait out
			// the rest of the idle time.
			if until := idleSince.Add(cfg.IdleTimeout); time.Now().Before(until) {
				fc.conn.SetReadDeadline(until)
				continue // the loop checks shutting before reading again
			}
		}
		// EOF, reset, idle or header timeout: close without a word, as
		// net/http does.
		return 0, false
	}
}

// answer answers req if it is the fast path's to answer (answered), and
// says why not otherwise. end is when the answer was written; err is set
// when writing failed.
func (fc *fastConn) answer(req *fastRequest) (reason handoverReason, answered bool, end time.Time, err error) {
	start := time.Now()
	now := start // the cache's clock
	if fc.e.ownClock {
		now = fc.e.cfg.Now()
	}
	a, reason, ok := fc.e.fastAnswerFor(req, func() string { return fc.cacheKey(req) }, now)
	if !ok {
		return reason, false, start, nil
	}
	closing := req.close || fc.fs.shutting.Load()
	fc.head = fc.fs.appendHead(fc.head[:0], &a, now, start, closing)

	// The one deadline of this request cycle (see the top of this file).
	fc.conn.SetDeadline(deadlineAfter(start, fc.e.cfg.WriteTimeout))
	var sent int64
	if f := fc.openDiskCopy(&a); f != nil {
		sent, err = fc.sendFromFile(f, &a)
		f.Close()
	} else {
		sent, err = fc.write(a.body)
	}
	end = fc.record(req, &a, start, sent)
	return 0, true, end, err
}

// deadlineAfter is now+d, or no deadline for d <= 0 (as net/http reads
// its timeouts).
func deadlineAfter(now time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// write sends the prepared head and body: one writev for the head and the
// body's first bodyWriteChunk bytes, then further pieces each with the
// write deadline pushed forward, as bodyWriter does on the net/http path.
// It returns the body bytes sent.
func (fc *fastConn) write(body []byte) (int64, error) {
	first := body[:min(len(body), bodyWriteChunk)]
	fc.iov[0], fc.iov[1] = fc.head, first
	fc.out = fc.iov[:]
	if len(first) == 0 {
		fc.out = fc.iov[:1]
	}
	n, err := fc.out.WriteTo(fc.conn)
	sent := max(0, n-int64(len(fc.head)))
	fc.iov[0], fc.iov[1] = nil, nil
	for rest := body[len(first):]; err == nil && len(rest) > 0; {
		chunk := rest[:min(len(rest), bodyWriteChunk)]
		fc.conn.SetWriteDeadline(deadlineAfter(time.Now(), fc.e.cfg.WriteTimeout))
		var m int
		m, err = fc.conn.Write(chunk)
		sent += int64(m)
		rest = rest[len(chunk):]
	}
	return sent, err
}

// cacheKey is the cache key of a fast request (which has no token
// parameter; see Edge.keyOf). The previous request's key string is reused
// for a query-less path that repeats, which spares an allocation per
// request for a client that polls one playlist.
func (fc *fastConn) cacheKey(req *fastRequest) string {
	if len(req.query) > 0 {
		return fc.e.keyOf(string(req.path), string(req.query))
	}
	if fc.lastKey != string(req.path) {
		fc.lastKey = string(req.path)
	}
	return fc.lastKey
}

// record counts an answer in the metrics and the access log as the
// accessLog middleware does, and returns the time it ended.
func (fc *fastConn) record(req *fastRequest, a *fastAnswer, start time.Time, sent int64) time.Time {
	end := time.Now()
	elapsed := end.Sub(start)
	m := fc.e.metrics
	m.fastAnswered.Inc()
	m.requests[xcacheHit].Inc()
	m.duration[xcacheHit].Observe(elapsed.Seconds())
	m.bytesServed.Add(float64(sent))
	if fc.e.cfg.AccessLog == nil {
		return end
	}
	method := "GET"
	if req.isHead {
		method = "HEAD"
	}
	contentLength, contentRange := a.accessValues()
	fc.e.writeAccessLog(&accessRecord{
		start: start, elapsed: elapsed, result: resultLabels[xcacheHit],
		remoteAddr: fc.conn.RemoteAddr().String(),
		method:     method, host: string(req.host), path: string(req.path), rawQuery: string(req.query),
		referer: string(req.referer), userAgent: string(req.userAgent), forwardedFor: string(req.forwardedFor),
		proto:  "HTTP/1.1",
		status: a.status, bytes: sent,
		contentType: a.fb.contentTypeValue, contentLength: contentLength, contentRange: contentRange,
	})
	return end
}
