package fastpath

import (
	"errors"
	"net"
	"os"
	"time"
)

// A Handler is the cache's side of the fast path. The fast path asks it
// about every request its reader accepts and never looks at a cache
// itself.
type Handler interface {
	// NewAnswerer returns the Answerer of one connection: it may keep
	// state across that connection's requests (the previous cache key,
	// the answer being written), and is used by one goroutine.
	NewAnswerer() Answerer
	// HandedOver is called once for every connection handed to net/http,
	// with the reason.
	HandedOver(reason HandoverReason)
}

// An Answerer decides the answers of one connection.
type Answerer interface {
	// Answer decides whether the fast path answers req, whose head was
	// read at start (real clock). If it does, it appends the answer's
	// status line and header lines, each ending in CRLF, to a.Head
	// (empty, its capacity reused) and sets a.Body and, optionally,
	// a.File; the fast path adds what net/http adds on its own (Date,
	// Connection: close when the connection closes after it) and the
	// empty line. If not, it says why, and the connection goes to
	// net/http with the request.
	Answer(req *Request, start time.Time, a *Answer) (reason HandoverReason, ok bool)
	// Answered is called after the answer a to req has been written (err
	// nil) or writing it failed, with sent body bytes. end is when it
	// ended; remote is the client's address.
	Answered(req *Request, a *Answer, remote net.Addr, start, end time.Time, sent int64, err error)
}

// Answer is one answer, decided but not yet written.
type Answer struct {
	// Head: the status line and header lines (see Answerer.Answer).
	Head []byte
	// Body is sent after the head; nil for none (HEAD, 304, 416).
	Body []byte
	// File, when its Path is set, is a file that holds Body too: a large
	// Body then goes out from it with sendfile (sendfile.go).
	File File
	// HasDate: Head holds a Date line already (a stored answer's own,
	// which a shared cache keeps, RFC 9111 §3.1), so none is added, as
	// net/http adds none to a header that has one.
	HasDate bool

	// Set by the fast path for Answered: FromFile when the body went out
	// from File, FileErr when File was found corrupt (its owner should
	// drop it; the body then went out from memory, or the connection was
	// broken after a short file).
	FromFile bool
	FileErr  error
}

// File is where a copy of an answer's body lies on disk.
type File struct {
	// Path names the file; it is Size bytes long, and the body starts at
	// Offset in it.
	Path         string
	Size, Offset int64
	// Open, when not nil, is that file already open and checked, kept
	// open by the Answerer's owner across answers (nginx's
	// open_file_cache), so an answer costs no open, stat and close. The
	// fast path reads it only at explicit offsets (sendfile with an
	// offset, never its file position), so many connections may send
	// from it at once, and never closes it. The owner may close it at
	// any time: an answer already sending from it finishes first
	// (os.File releases the descriptor after its last user), and one
	// that finds it closed is written from memory.
	Open *os.File
}

// ErrCorruptFile: an Answer's File is not the size it was said to be.
var ErrCorruptFile = errors.New("fast path: file of a different size than said")

// HandoverReason says why a connection went to net/http.
type HandoverReason uint8

const (
	// HandoverTLS: a TLS connection (net/http does the handshake and h2).
	HandoverTLS HandoverReason = iota
	// HandoverRequest: the request is outside the reader's strict subset.
	HandoverRequest
	// HandoverRoute: not a request the Answerer takes (another path, a
	// token in the query, this edge in Via).
	HandoverRoute
	// HandoverNotHit: not an answer the Answerer can give here (miss,
	// stale, disk, sliced, signed, pass, no Content-Type).
	HandoverNotHit
	// HandoverReasons is the number of reasons.
	HandoverReasons
)

// String is the reason's metric label.
func (r HandoverReason) String() string {
	switch r {
	case HandoverTLS:
		return "tls"
	case HandoverRequest:
		return "request"
	case HandoverRoute:
		return "route"
	case HandoverNotHit:
		return "not_hit"
	}
	return "unknown"
}
