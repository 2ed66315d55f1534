package fastpath

import (
	"io"
	"net"
	"sync"
)

// HandoffListener is the listener the edge's http.Server serves: the fast
// path's connection loops hand it the connections they give up on, and
// its Accept returns them. Closing it (http.Server.Shutdown does) makes
// Accept fail and refuses further hand-overs.
type HandoffListener struct {
	addr      net.Addr
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

var _ net.Listener = (*HandoffListener)(nil)

func NewHandoffListener(addr net.Addr) *HandoffListener {
	return &HandoffListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *HandoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *HandoffListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *HandoffListener) Addr() net.Addr { return l.addr }

// deliver hands c to the http.Server. It waits until the server's accept
// loop takes it (that loop only starts a goroutine per connection, so
// the wait is short) and reports false once the listener is closed; the
// caller then still owns c.
func (l *HandoffListener) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

// replayConn is a connection handed over after the fast path read from
// it: Read returns the bytes already read first, then reads the socket.
//
// net/http looks for two optional methods on the connections it serves,
// so they are forwarded to the socket: io.ReaderFrom (sendfile for disk
// hits) and CloseWrite (a clean close after some errors). It must not
// look like a TLS connection (it never is one: TLS connections are handed
// over before any byte is read, unwrapped).
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil // let the buffer go
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *replayConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides ReadFrom so io.Copy does not recurse.
type writerOnly struct{ io.Writer }

func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
