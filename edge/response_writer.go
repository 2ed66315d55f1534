package edge

import (
	"io"
	"net/http"
)

// responseWriter records what was sent, for error handling (were headers
// sent?), metrics and the access log. It forwards ReadFrom, so disk hits
// still use sendfile, and Unwrap, so http.ResponseController reaches the
// connection (deadlines, Flush).
type responseWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	pass        bool // proxied without caching
}

func (rw *responseWriter) WriteHeader(code int) {
	if !rw.wroteHeader && code >= 200 {
		rw.status, rw.wroteHeader = code, true
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.ResponseWriter.Write(p)
	rw.bytes += int64(n)
	return n, err
}

func (rw *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !rw.wroteHeader {
		rw.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := rw.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{rw.ResponseWriter}, r)
	}
	rw.bytes += n
	return n, err
}

func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// writerOnly hides ReadFrom so io.Copy does not recurse.
type writerOnly struct{ io.Writer }

// headersSent reports whether the status line has gone out on w.
func headersSent(w http.ResponseWriter) bool {
	rw, ok := w.(*responseWriter)
	return ok && rw.wroteHeader
}
