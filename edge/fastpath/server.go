package fastpath

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server's accept loop gives every connection to a conn. It reads
// requests with the strict reader (reader.go) and answers those its
// Handler's Answerer answers: one writev of the answer's head and body
// (a body with a copy on disk goes out from it with sendfile after the
// head: sendfile.go). At the first request it does not answer, it hands the
// connection — with every byte read so far, replayed first — to net/http
// through a listener (handoff.go), which serves it for the rest of its
// life.
//
// Timeouts, with one deadline call per request in the steady state:
//
//   - At accept: read deadline now+ReadHeaderTimeout for the first
//     request, as net/http.
//   - When a request head is complete: SetDeadline(now+WriteTimeout),
//     read and write at once. It bounds writing the answer; bodies longer
//     than writeChunk push the write deadline forward before every
//     further piece, as the edge's bodyWriter does on the net/http path.
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
// shutting down) and closes; Shutdown waits for them until its context
// ends (the edge gives it ShutdownTimeout, then shuts its http.Server
// down).

// Config configures a Server.
type Config struct {
	// Handler answers requests. Required.
	Handler Handler
	// Handoff receives the connections the fast path gives up on; an
	// http.Server serves it. Required.
	Handoff *HandoffListener
	// ReadHeaderTimeout, WriteTimeout and IdleTimeout are the
	// http.Server's, applied as described at the top of this file. Zero
	// or negative means none.
	ReadHeaderTimeout, WriteTimeout, IdleTimeout time.Duration
	// Logger receives accept errors. Required.
	Logger *slog.Logger
}

// Server runs the fast path on one listener.
type Server struct {
	cfg Config

	// idleShort: IdleTimeout ends before WriteTimeout (or there is no
	// WriteTimeout), so the deadline set for an answer cannot also bound
	// the idle time after it.
	idleShort bool

	shutting atomic.Bool
	mu       sync.Mutex
	conns    map[*conn]struct{}
	wg       sync.WaitGroup

	date dateCache
	bufs sync.Pool // read buffers of MaxHead bytes
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	idle, write := cfg.IdleTimeout, cfg.WriteTimeout
	return &Server{
		cfg:       cfg,
		idleShort: idle > 0 && (write <= 0 || idle < write),
		conns:     map[*conn]struct{}{},
		bufs:      sync.Pool{New: func() any { b := make([]byte, MaxHead); return &b }},
	}
}

// Serve serves ln until it fails, or returns nil once StopAccepting was
// called and ln closed. Temporary errors (too many open files) are
// retried with net/http's backoff.
func (fs *Server) Serve(ln net.Listener) error {
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
				fs.cfg.Logger.Warn("accept failed; retrying", "err", err, "in", delay)
				t := time.NewTimer(delay)
				<-t.C
				continue
			}
			return err
		}
		delay = 0
		fc := &conn{fs: fs, conn: c}
		if !fs.track(fc) {
			c.Close()
			continue
		}
		go fc.serve()
	}
}

// ServeConn serves one connection until it closes or is handed over.
func (fs *Server) ServeConn(c net.Conn) {
	fc := &conn{fs: fs, conn: c}
	if !fs.track(fc) {
		c.Close()
		return
	}
	fc.serve()
}

// StopAccepting makes Serve return nil once its listener is closed, and
// every connection loop close after its current answer.
func (fs *Server) StopAccepting() { fs.shutting.Store(true) }

// track registers a connection loop; it refuses once shutting down.
func (fs *Server) track(fc *conn) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.shutting.Load() {
		return false
	}
	fs.conns[fc] = struct{}{}
	fs.wg.Add(1)
	return true
}

func (fs *Server) untrack(fc *conn) {
	fs.mu.Lock()
	delete(fs.conns, fc)
	fs.mu.Unlock()
	fs.wg.Done()
}

// aLongTimeAgo is a deadline in the past: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// Shutdown stops the connection loops: idle ones close at once, busy ones
// after their answer. It waits for them until ctx ends, then closes the
// rest. Serve must have returned.
func (fs *Server) Shutdown(ctx context.Context) error {
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

// conn is one connection on the fast path.
type conn struct {
	fs     *Server
	conn   net.Conn
	ans    Answerer
	remote net.Addr // the client's, read once

	reader
	bufp *[]byte // buf, from Server.bufs

	a   Answer // the current answer; its Head's capacity is reused
	iov [2][]byte
	out net.Buffers

	// raw is the socket for sendfile.go, once rawChecked; nil when it is
	// not one sendfile can write to.
	raw        syscall.RawConn
	rawChecked bool
}

// serve runs the connection until it closes or is handed over.
func (fc *conn) serve() {
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
	fc.fs.cfg.Handler.HandedOver(reason)
	c := fc.conn
	if fc.buffered() > 0 {
		c = &replayConn{Conn: fc.conn, pending: fc.buf[fc.r:fc.w]} // the buffer goes with it
	} else if fc.bufp != nil {
		fc.fs.bufs.Put(fc.bufp)
	}
	if fc.fs.cfg.Handoff.deliver(c) {
		handedOver = true
	}
}

// loop answers requests until the connection ends (ok false) or a request
// is not the fast path's (ok true: hand the connection over).
func (fc *conn) loop() (reason HandoverReason, ok bool) {
	if _, isTLS := fc.conn.(*tls.Conn); isTLS {
		return HandoverTLS, true
	}
	fc.bufp = fc.fs.bufs.Get().(*[]byte)
	fc.buf = *fc.bufp
	fc.ans = fc.fs.cfg.Handler.NewAnswerer()
	fc.remote = fc.conn.RemoteAddr()
	cfg := &fc.fs.cfg
	fc.conn.SetReadDeadline(deadlineAfter(time.Now(), cfg.ReadHeaderTimeout))
	headerTimed := true     // this request's ReadHeaderTimeout is running
	var idleSince time.Time // end of the last answer; zero before the first
	var req Request
	for {
		if fc.buffered() == 0 && fc.fs.shutting.Load() {
			return 0, false
		}
		switch fc.parse(&req) {
		case parseRefused:
			return HandoverRequest, true
		case parseOK:
			reason, answered, end, err := fc.answer(&req)
			if !answered {
				return reason, true
			}
			if err != nil || req.Close || fc.fs.shutting.Load() {
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

// answer answers req if the Answerer does (answered), and says why not
// otherwise. end is when the answer was written; err is set when writing
// failed.
func (fc *conn) answer(req *Request) (reason HandoverReason, answered bool, end time.Time, err error) {
	start := time.Now()
	a := &fc.a
	*a = Answer{Head: a.Head[:0]}
	if reason, ok := fc.ans.Answer(req, start, a); !ok {
		return reason, false, start, nil
	}
	if !a.HasDate {
		a.Head = append(a.Head, fc.fs.date.line(start)...)
	}
	if req.Close || fc.fs.shutting.Load() {
		a.Head = append(a.Head, "Connection: close\r\n"...)
	}
	a.Head = append(a.Head, "\r\n"...)

	// The one deadline of this request cycle (see the top of this file).
	fc.conn.SetDeadline(deadlineAfter(start, fc.fs.cfg.WriteTimeout))
	var sent int64
	var fromFile bool
	if sent, fromFile, err = fc.sendFile(a); !fromFile {
		sent, err = fc.write(a.Head, a.Body)
	}
	end = time.Now()
	fc.ans.Answered(req, a, fc.remote, start, end, sent, err)
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

// writeChunk is how much of a body goes out per write deadline, as the
// edge's bodyWriter writes on the net/http path.
const writeChunk = 256 << 10

// write sends head and body: one writev for the head and the body's first
// writeChunk bytes, then further pieces each with the write deadline
// pushed forward. It returns the body bytes sent.
func (fc *conn) write(head, body []byte) (int64, error) {
	first := body[:min(len(body), writeChunk)]
	fc.iov[0], fc.iov[1] = head, first
	fc.out = fc.iov[:]
	if len(first) == 0 {
		fc.out = fc.iov[:1]
	}
	n, err := fc.out.WriteTo(fc.conn)
	sent := max(0, n-int64(len(head)))
	fc.iov[0], fc.iov[1] = nil, nil
	for rest := body[len(first):]; err == nil && len(rest) > 0; {
		chunk := rest[:min(len(rest), writeChunk)]
		fc.conn.SetWriteDeadline(deadlineAfter(time.Now(), fc.fs.cfg.WriteTimeout))
		var m int
		m, err = fc.conn.Write(chunk)
		sent += int64(m)
		rest = rest[len(chunk):]
	}
	return sent, err
}

// dateCache holds the Date line of the current second.
type dateCache struct{ p atomic.Pointer[dateLine] }

type dateLine struct {
	sec  int64
	line []byte
}

// line is the Date header line for now, made once a second.
func (d *dateCache) line(now time.Time) []byte {
	sec := now.Unix()
	if l := d.p.Load(); l != nil && l.sec == sec {
		return l.line
	}
	b := make([]byte, 0, len("Date: \r\n")+len(http.TimeFormat))
	b = append(b, "Date: "...)
	b = now.UTC().AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	d.p.Store(&dateLine{sec: sec, line: b})
	return b
}
