package fastpath

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestParseFastRequest(t *testing.T) {
	const hit = "GET /videos/v1/master.m3u8 HTTP/1.1\r\nHost: edge.example:8081\r\n\r\n"
	tests := []struct {
		name string
		in   string
		want parseResult
	}{
		{"plain GET", hit, parseOK},
		{"HEAD", "HEAD /videos/a HTTP/1.1\r\nHost: a\r\n\r\n", parseOK},
		{"query", "GET /videos/a?x=1&y=%41 HTTP/1.1\r\nHost: a\r\n\r\n", parseOK},
		{"empty query", "GET /videos/a? HTTP/1.1\r\nHost: a\r\n\r\n", parseOK},
		{"conditional and range headers", "GET /videos/a HTTP/1.1\r\nhost: a\r\nRANGE: bytes=0-9\r\nIf-Range: \"x\"\r\nIf-None-Match: \"x\"\r\nIf-Modified-Since: Thu, 02 Jan 2025 03:04:05 GMT\r\nAccept-Encoding: gzip\r\nAccept-Encoding: br\r\n\r\n", parseOK},
		{"connection keep-alive", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n", parseOK},
		{"connection close", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", parseOK},
		{"content-length 0", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", parseOK},
		{"OWS and obs-text in a value", "GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: \t caf\xc3\xa9 \t\r\n\r\n", parseOK},

		{"nothing yet", "", parseIncomplete},
		{"part of the method", "HE", parseIncomplete},
		{"request line only", "GET /a HTTP/1.1\r\n", parseIncomplete},
		{"no empty line yet", "GET /a HTTP/1.1\r\nHost: a\r\n", parseIncomplete},
		{"CR at the end", "GET /a HTTP/1.1\r\nHost: a\r\n\r", parseIncomplete},

		{"POST", "POST /videos/a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", parseRefused},
		{"POST, first bytes", "POS", parseRefused},
		{"OPTIONS", "OPTIONS /videos/a HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"lower-case method", "get /a HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"h2c preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", parseRefused},
		{"HTTP/1.0", "GET /a HTTP/1.0\r\nHost: a\r\n\r\n", parseRefused},
		{"absolute-form", "GET http://a/videos/a HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"asterisk", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"percent-escape in the path", "GET /videos/%61 HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"bad escape in the query", "GET /a?x=%zz HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"fragment", "GET /a#x HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"two spaces", "GET  /a HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"space in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", parseRefused},
		{"no Host", "GET /a HTTP/1.1\r\n\r\n", parseRefused},
		{"empty Host", "GET /a HTTP/1.1\r\nHost:\r\n\r\n", parseRefused},
		{"two Hosts", "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", parseRefused},
		{"odd Host", "GET /a HTTP/1.1\r\nHost: a@b\r\n\r\n", parseRefused},
		{"bare LF", "GET /a HTTP/1.1\nHost: a\n\n", parseRefused},
		{"bare LF, incomplete", "GET /a HTTP/1.1\nHost", parseRefused},
		{"bare LF ends the head", "GET /a HTTP/1.1\r\nHost: a\r\n\n", parseRefused},
		{"bare CR", "GET /a HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", parseRefused},
		{"obs-fold", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", parseRefused},
		{"leading space on the first header", "GET /a HTTP/1.1\r\n Host: a\r\n\r\n", parseRefused},
		{"space before the colon", "GET /a HTTP/1.1\r\nHost : a\r\n\r\n", parseRefused},
		{"no colon", "GET /a HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n", parseRefused},
		{"empty name", "GET /a HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", parseRefused},
		{"NUL in a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n", parseRefused},
		{"DEL in a value", "GET /a HTTP/1.1\r\nHost: a\r\nX-A: a\x7fb\r\n\r\n", parseRefused},
		{"Transfer-Encoding", "GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", parseRefused},
		{"CL and TE", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", parseRefused},
		{"Content-Length 5", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", parseRefused},
		{"Content-Length 00", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 00\r\n\r\n", parseRefused},
		{"duplicate Content-Length", "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", parseRefused},
		{"Expect", "GET /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", parseRefused},
		{"Upgrade", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n", parseRefused},
		{"Connection list", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", parseRefused},
		{"Connection other", "GET /a HTTP/1.1\r\nHost: a\r\nConnection: X-Foo\r\n\r\n", parseRefused},
		{"two Ranges", "GET /a HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n", parseRefused},
		{"Trailer", "GET /a HTTP/1.1\r\nHost: a\r\nTrailer: X\r\n\r\n", parseRefused},
		{"head over the limit", "GET /a HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", MaxHead) + "\r\n\r\n", parseRefused},
		{"unfinished head at the limit", "GET /a HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", MaxHead), parseRefused},
		{"too many header lines", "GET /a HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-A: b\r\n", maxHeaders) + "\r\n", parseRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req Request
			if got := parseRequest([]byte(tt.in), &req); got != tt.want {
				t.Fatalf("parseRequest(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if tt.want == parseOK {
				checkAgainstNetHTTP(t, []byte(tt.in), &req)
			}
		})
	}
}

func TestParseFastRequest_Pipelined(t *testing.T) {
	first := "GET /videos/a HTTP/1.1\r\nHost: a\r\n\r\n"
	second := "POST /api/v1/videos HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
	var req Request
	in := []byte(first + second)
	if got := parseRequest(in, &req); got != parseOK || req.size != len(first) {
		t.Fatalf("first request: %v, size %d; want OK, %d", got, req.size, len(first))
	}
	if got := parseRequest(in[req.size:], &req); got != parseRefused {
		t.Fatalf("second request: %v, want refused", got)
	}
}

func TestParseFastRequest_Fields(t *testing.T) {
	in := "HEAD /videos/a/b.m3u8?x=1 HTTP/1.1\r\nHost: h\r\nRange:  bytes=1-2 \r\nIf-Range: \"e\"\r\nIf-None-Match: W/\"e\"\r\n" +
		"If-Modified-Since: Thu, 02 Jan 2025 03:04:05 GMT\r\nAccept-Encoding: br;q=1, gzip;q=0.5\r\nConnection: close\r\n" +
		"Via: 1.1 shield-1\r\nReferer: https://site/\r\nUser-Agent: hls.js\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
	var req Request
	if got := parseRequest([]byte(in), &req); got != parseOK {
		t.Fatalf("parseRequest = %v", got)
	}
	for _, c := range []struct{ name, got, want string }{
		{"path", string(req.Path), "/videos/a/b.m3u8"},
		{"query", string(req.Query), "x=1"},
		{"host", string(req.Host), "h"},
		{"range", string(req.Range), "bytes=1-2"},
		{"if-range", string(req.IfRange), `"e"`},
		{"if-none-match", string(req.IfNoneMatch), `W/"e"`},
		{"if-modified-since", string(req.IfModifiedSince), "Thu, 02 Jan 2025 03:04:05 GMT"},
		{"via", string(req.Via()[0]), "1.1 shield-1"},
		{"accept-encoding", string(req.AcceptEncoding()[0]), "br;q=1, gzip;q=0.5"},
		{"referer", string(req.Referer), "https://site/"},
		{"user-agent", string(req.UserAgent), "hls.js"},
		{"x-forwarded-for", string(req.ForwardedFor), "10.0.0.1"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !req.IsHead || !req.Close || len(req.Via()) != 1 || len(req.AcceptEncoding()) != 1 || req.size != len(in) {
		t.Errorf("isHead %v close %v via %q accept-encoding %q size %d", req.IsHead, req.Close, req.Via(), req.AcceptEncoding(), req.size)
	}
}

// FuzzReadRequest feeds arbitrary bytes, in pieces of a fuzzed size,
// through the fast path's read buffer and parser, as a connection does.
// It checks that the reader never takes more than its buffer, that a
// refusal keeps every byte read for net/http, and, differentially, that
// whatever it accepts net/http's server reads the same way: same method,
// path, query, Host, Range and If-* headers, Accept-Encoding and
// Connection semantics, Via, and the same head length (so pipelined
// bytes after it are the same request for both). Bytes it is still
// waiting on must not be a complete (or already broken) request for
// net/http either.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET /videos/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /videos/v1/seg.m4s?x=1 HTTP/1.1\r\nHost: a:8081\r\nRange: bytes=0-99\r\nIf-Range: \"e\"\r\n\r\n",
		"GET /videos/a HTTP/1.1\r\nHost: a\r\nIf-None-Match: W/\"e\", \"f\"\r\nIf-Modified-Since: Thu, 02 Jan 2025 03:04:05 GMT\r\n\r\n",
		"GET /videos/a HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip;q=0\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
		"GET /videos/a HTTP/1.1\r\nHost: a\r\nVia: 1.1 e1, 1.1 e2\r\nContent-Length: 0\r\n\r\nGET /b HTTP/1.1\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
		"GET /a HTTP/1.1\nHost: a\n\n",
		"GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
		"GET /a HTTP/1.1\r\nHost: a\r\nUser-Agent: \xff\xfe\r\n\r\n",
	} {
		f.Add([]byte(s), uint16(0))
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, piece uint16) {
		src := &countingReader{data: data, piece: int(piece)}
		fr := reader{buf: make([]byte, MaxHead)}
		var req Request
		var res parseResult
		for {
			res = fr.parse(&req)
			if res != parseIncomplete {
				break
			}
			if _, err := fr.fill(src); err != nil {
				break // EOF: the bytes end inside a head
			}
		}
		if src.read > MaxHead {
			t.Fatalf("read %d bytes for one head; the limit is %d", src.read, MaxHead)
		}
		if fr.buffered() != src.read || !bytes.Equal(fr.buf[fr.r:fr.w], data[:src.read]) {
			t.Fatal("the buffer does not hold exactly the bytes read")
		}
		var whole Request
		if got := parseRequest(fr.buf[fr.r:fr.w], &whole); got != res {
			t.Fatalf("read in pieces of %d: %v; read at once: %v (%q)", piece, res, got, data)
		}
		switch res {
		case parseOK:
			if req.size <= 0 || req.size > fr.buffered() {
				t.Fatalf("head size %d of %d bytes read", req.size, fr.buffered())
			}
			checkAgainstNetHTTP(t, data, &req)
		case parseIncomplete:
			// Everything was read and the head is not finished: net/http,
			// on a connection that stays open, must be waiting for more
			// too, not holding a request or an error it could answer
			// already. It reads line by line, so give it the complete
			// lines (it would wait for the rest of a partial one).
			complete := data[:bytes.LastIndexByte(data, '\n')+1]
			if len(complete) == 0 {
				break
			}
			_, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(complete)))
			if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				t.Fatalf("the fast reader waits for more, but net/http reads %q as: %v", complete, err)
			}
		}
	})
}

// countingReader returns data in pieces of piece bytes (all at once when
// 0) and counts what was read.
type countingReader struct {
	data  []byte
	piece int
	read  int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read == len(c.data) {
		return 0, io.EOF
	}
	n := len(p)
	if c.piece > 0 {
		n = min(n, c.piece)
	}
	n = copy(p[:n], c.data[c.read:])
	c.read += n
	return n, nil
}

// checkAgainstNetHTTP reads data with net/http as its server would
// (http.ReadRequest plus the server's own checks of Host and header
// fields) and compares what it makes of the request with req.
func checkAgainstNetHTTP(t *testing.T, data []byte, req *Request) {
	t.Helper()
	src := bytes.NewReader(data)
	br := bufio.NewReader(src)
	r, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("the fast reader accepts %q; net/http refuses it: %v", data, err)
	}
	if err := serverChecks(r); err != nil {
		t.Fatalf("the fast reader accepts %q; net/http's server refuses it: %v", data, err)
	}
	if consumed := len(data) - src.Len() - br.Buffered(); consumed != req.size {
		t.Fatalf("head of %d bytes for net/http, %d for the fast reader (%q)", consumed, req.size, data)
	}
	method := "GET"
	if req.IsHead {
		method = "HEAD"
	}
	for _, c := range []struct{ what, net, fast string }{
		{"method", r.Method, method},
		{"proto", r.Proto, "HTTP/1.1"},
		{"path", r.URL.Path, string(req.Path)},
		{"query", r.URL.RawQuery, string(req.Query)},
		{"host", r.Host, string(req.Host)},
		{"Range", r.Header.Get("Range"), string(req.Range)},
		{"If-Range", r.Header.Get("If-Range"), string(req.IfRange)},
		{"If-None-Match", r.Header.Get("If-None-Match"), string(req.IfNoneMatch)},
		{"If-Modified-Since", r.Header.Get("If-Modified-Since"), string(req.IfModifiedSince)},
		{"Referer", r.Referer(), string(req.Referer)},
		{"User-Agent", r.UserAgent(), string(req.UserAgent)},
		{"X-Forwarded-For", r.Header.Get("X-Forwarded-For"), string(req.ForwardedFor)},
		{"Via", strings.Join(r.Header["Via"], "\n"), string(bytes.Join(req.Via(), []byte("\n")))},
		// The lines the edge picks a coding from (its preferredCoding reads
		// the same lines on both paths).
		{"Accept-Encoding", strings.Join(r.Header["Accept-Encoding"], "\n"), string(bytes.Join(req.AcceptEncoding(), []byte("\n")))},
	} {
		if c.net != c.fast {
			t.Fatalf("%s: net/http %q, fast reader %q (request %q)", c.what, c.net, c.fast, data)
		}
	}
	if r.Close != req.Close {
		t.Fatalf("Connection close: net/http %v, fast reader %v (request %q)", r.Close, req.Close, data)
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 || r.Header.Get("Expect") != "" || r.Header.Get("Upgrade") != "" {
		t.Fatalf("net/http sees a body or an upgrade in %q", data)
	}
}

// serverChecks are the checks http.Server makes after http.ReadRequest
// (net/http's conn.readRequest), on the rules of golang.org/x/net's
// httpguts, which the standard library vendors and does not export.
//
// http.ReadRequest has already refused a repeated Host and moved the one
// Host line to r.Host (an empty r.Host is a missing Host line, or an empty
// one, which the fast reader refuses).
func serverChecks(r *http.Request) error {
	if r.Host == "" {
		return errors.New("missing required Host header")
	}
	const hostBytes = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!$%&'()*+,-.:;=[]_~"
	for _, c := range []byte(r.Host) {
		if strings.IndexByte(hostBytes, c) < 0 {
			return errors.New("malformed Host header")
		}
	}
	const tokenBytes = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-.^_`|~"
	for k, vv := range r.Header {
		if k == "" {
			return errors.New("invalid header name")
		}
		for _, c := range []byte(k) {
			if strings.IndexByte(tokenBytes, c) < 0 {
				return errors.New("invalid header name")
			}
		}
		for _, v := range vv {
			for _, c := range []byte(v) {
				if (c < ' ' || c == 0x7f) && c != ' ' && c != '\t' {
					return errors.New("invalid header value")
				}
			}
		}
	}
	return nil
}
