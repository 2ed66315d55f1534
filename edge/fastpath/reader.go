package fastpath

import (
	"bytes"
	"errors"
	"io"
)

// The fast path's request reader: a strict HTTP/1.1 parser for the narrow
// subset of requests a cache hit needs, and nothing else.
//
// It accepts only
//
//	GET|HEAD SP origin-form SP "HTTP/1.1" CRLF *( field-line CRLF ) CRLF
//
// with every line ended by CRLF (no bare CR or LF, no obs-fold), field
// names of token characters directly followed by ':', field values of
// VCHAR, SP, HTAB and obs-text, at most maxHeaders field lines and
// MaxHead bytes in all, exactly one Host, no Transfer-Encoding,
// Expect, Upgrade or Trailer, Content-Length only "0" and only once,
// Connection only "keep-alive" or "close", and at most one of each header
// it interprets (Range, If-*). The path holds no percent-escapes (so
// URL.Path is the path as sent, and so is the cache key); the query may
// hold valid ones.
//
// Anything else is refused, and refused means handed to net/http with
// every byte read so far, which then answers as it always has: the reader
// never answers an error itself. Its only job is to say, for the bytes
// read so far, "this is a request I fully understand, and net/http would
// read it the same way" (FuzzReadRequest checks that claim against
// http.ReadRequest), "not enough bytes yet", or "not mine".

const (
	// MaxHead is the largest request head the fast path reads; a
	// longer one is handed over (net/http allows 64 KiB). It is also the
	// size of a fast connection's read buffer, so the reader can never
	// read past it.
	MaxHead = 8 << 10
	// maxHeaders bounds the field lines of one request.
	maxHeaders = 64
	// maxMultiLine bounds how many lines of a list header that may
	// repeat (Accept-Encoding, Via) are kept.
	maxMultiLine = 4
)

// reader is a connection's read buffer of MaxHead bytes; the
// bytes read and not yet consumed are buf[r:w].
type reader struct {
	buf  []byte
	r, w int
	// waited is how many unread bytes the last parse found incomplete
	// (0 after any other verdict). Until a line end arrives, more bytes
	// cannot change that verdict, so parse skips the work: a client that
	// sends its head a byte at a time costs one parse per line, not one
	// per byte.
	waited int
}

// errHeadTooLarge: fill was called on a full buffer that holds one
// unfinished head, which parse refuses first; it cannot happen.
var errHeadTooLarge = errors.New("fast path: request head larger than the read buffer")

// parse reads the request at the start of the unread bytes.
func (b *reader) parse(req *Request) parseResult {
	unread := b.buf[b.r:b.w]
	if b.waited >= len("HEAD ") && len(unread) < MaxHead {
		// Only bytes of an unfinished line came in (the method is known
		// by now). From the last byte seen before, for a CR there.
		fresh := unread[b.waited-1:]
		cr := bytes.IndexByte(fresh, '\r')
		if bytes.IndexByte(fresh, '\n') < 0 && (cr < 0 || cr == len(fresh)-1) {
			b.waited = len(unread)
			return parseIncomplete
		}
	}
	res := parseRequest(unread, req)
	b.waited = 0
	if res == parseIncomplete {
		b.waited = len(unread)
	}
	return res
}

// consume drops the first n unread bytes (a request head answered).
func (b *reader) consume(n int) {
	b.waited = 0
	if b.r += n; b.r == b.w {
		b.r, b.w = 0, 0
	}
}

// buffered is how many bytes are read and not consumed.
func (b *reader) buffered() int { return b.w - b.r }

// fill reads once from rd into the free end of the buffer, first moving
// the unread bytes to the front if the buffer is full. It never reads
// more than the buffer holds.
func (b *reader) fill(rd io.Reader) (int, error) {
	if b.w == len(b.buf) {
		if b.r == 0 {
			return 0, errHeadTooLarge
		}
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	n, err := rd.Read(b.buf[b.w:])
	b.w += n
	return n, err
}

// parseResult is what the reader makes of the bytes buffered so far.
type parseResult uint8

const (
	// parseIncomplete: no complete head yet and nothing outside the subset
	// so far; read more.
	parseIncomplete parseResult = iota
	// parseOK: a complete request head within the subset.
	parseOK
	// parseRefused: outside the subset (or too long); hand the connection
	// over.
	parseRefused
)

// Request is one request head within the subset. Its byte slices
// point into the connection's read buffer and are valid until the next
// read.
type Request struct {
	size   int  // bytes of the head, request line to the empty line
	IsHead bool // HEAD; otherwise GET
	Path   []byte
	Query  []byte // without '?'; nil without one
	Host   []byte
	Close  bool // Connection: close

	// The interpreted headers, the only value each; empty when missing,
	// which is how the net/http path reads an empty one too.
	Range, IfRange, IfNoneMatch, IfModifiedSince []byte

	acceptEncoding [maxMultiLine][]byte
	nAcceptEnc     int
	via            [maxMultiLine][]byte
	nVia           int

	// Kept for the access log only.
	Referer, UserAgent, ForwardedFor []byte
}

// AcceptEncoding is the request's Accept-Encoding lines (at most
// maxMultiLine of them).
func (req *Request) AcceptEncoding() [][]byte { return req.acceptEncoding[:req.nAcceptEnc] }

// Via is the request's Via lines (at most maxMultiLine of them).
func (req *Request) Via() [][]byte { return req.via[:req.nVia] }

// parseRequest reads the request at the start of b. b may hold less
// than a request (parseIncomplete) or more (pipelined requests: only the
// first is read; req.size says where the next begins).
//
// Every complete line is checked as soon as it is in, so a request that
// is already outside the subset is handed over at once rather than when
// its head is complete: net/http, which reads line by line too, may have
// an answer (400) for it before then.
func parseRequest(b []byte, req *Request) parseResult {
	*req = Request{}
	if !methodPrefixOK(b) {
		return parseRefused
	}
	if len(b) > MaxHead {
		b = b[:MaxHead] // a head must end within the limit
	}
	line, rest, res := cutLine(b)
	if res != parseOK {
		return lineResult(res, b)
	}
	if !parseRequestLine(line, req) {
		return parseRefused
	}

	var hosts, lengths, conns, ranges, ifRanges, inms, imss int
	for n := 0; ; n++ {
		line, rest, res = cutLine(rest)
		if res != parseOK {
			return lineResult(res, b)
		}
		if len(line) == 0 {
			break // the end of the head
		}
		if n == maxHeaders {
			return parseRefused
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return parseRefused // no name, or no colon
		}
		name, value := line[:colon], line[colon+1:]
		for _, c := range name {
			if !isTokenChar(c) {
				return parseRefused // includes a space before the colon
			}
		}
		for _, c := range value {
			if !isFieldValueChar(c) {
				return parseRefused // NUL and other controls
			}
		}
		value = trimOWS(value)

		switch len(name) {
		case 3:
			if asciiEqualFold(name, "via") {
				if req.nVia == maxMultiLine {
					return parseRefused
				}
				req.via[req.nVia] = value
				req.nVia++
			}
		case 4:
			if asciiEqualFold(name, "host") {
				if hosts++; hosts > 1 || !validHost(value) {
					return parseRefused
				}
				req.Host = value
			}
		case 5:
			if asciiEqualFold(name, "range") {
				ranges++
				req.Range = value
			}
		case 6:
			if asciiEqualFold(name, "expect") {
				return parseRefused
			}
		case 7:
			switch {
			case asciiEqualFold(name, "upgrade"), asciiEqualFold(name, "trailer"):
				return parseRefused
			case asciiEqualFold(name, "referer"):
				if req.Referer == nil {
					req.Referer = value
				}
			}
		case 8:
			if asciiEqualFold(name, "if-range") {
				ifRanges++
				req.IfRange = value
			}
		case 10:
			switch {
			case asciiEqualFold(name, "connection"):
				conns++
				switch {
				case asciiEqualFold(value, "close"):
					req.Close = true
				case asciiEqualFold(value, "keep-alive"):
				default:
					return parseRefused
				}
			case asciiEqualFold(name, "user-agent"):
				if req.UserAgent == nil {
					req.UserAgent = value
				}
			}
		case 13:
			if asciiEqualFold(name, "if-none-match") {
				inms++
				req.IfNoneMatch = value
			}
		case 14:
			if asciiEqualFold(name, "content-length") {
				if lengths++; string(value) != "0" {
					return parseRefused
				}
			}
		case 15:
			switch {
			case asciiEqualFold(name, "accept-encoding"):
				if req.nAcceptEnc == maxMultiLine {
					return parseRefused
				}
				req.acceptEncoding[req.nAcceptEnc] = value
				req.nAcceptEnc++
			case asciiEqualFold(name, "x-forwarded-for"):
				if req.ForwardedFor == nil {
					req.ForwardedFor = value
				}
			}
		case 17:
			switch {
			case asciiEqualFold(name, "transfer-encoding"):
				return parseRefused
			case asciiEqualFold(name, "if-modified-since"):
				imss++
				req.IfModifiedSince = value
			}
		}
		if lengths > 1 || conns > 1 || ranges > 1 || ifRanges > 1 || inms > 1 || imss > 1 {
			return parseRefused
		}
	}
	if hosts != 1 {
		return parseRefused
	}
	req.size = len(b) - len(rest)
	return parseOK
}

// lineResult is the verdict on a head whose next line is incomplete
// (read on, unless the buffer is full) or malformed.
func lineResult(res parseResult, b []byte) parseResult {
	if res == parseIncomplete && len(b) < MaxHead {
		return parseIncomplete
	}
	return parseRefused
}

// methodPrefixOK reports whether b starts with "GET " or "HEAD ", or with
// a part of one (more bytes may follow), so anything else is handed over
// as soon as its first bytes arrive.
func methodPrefixOK(b []byte) bool {
	for _, m := range [...]string{"GET ", "HEAD "} {
		n := min(len(b), len(m))
		if string(b[:n]) == m[:n] {
			return true
		}
	}
	return false
}

// parseRequestLine reads "GET|HEAD SP origin-form SP HTTP/1.1".
func parseRequestLine(line []byte, req *Request) bool {
	var target []byte
	switch {
	case bytes.HasPrefix(line, []byte("GET /")):
		target = line[len("GET "):]
	case bytes.HasPrefix(line, []byte("HEAD /")):
		req.IsHead = true
		target = line[len("HEAD "):]
	default:
		return false
	}
	target, ok := bytes.CutSuffix(target, []byte(" HTTP/1.1"))
	if !ok {
		return false
	}
	path, query, hasQuery := bytes.Cut(target, []byte("?"))
	for _, c := range path {
		if !isPathChar(c) {
			return false
		}
	}
	if hasQuery {
		if !validQuery(query) {
			return false
		}
		req.Query = query[:len(query):len(query)]
		if req.Query == nil {
			req.Query = []byte{}
		}
	}
	req.Path = path
	return true
}

// validQuery accepts query characters and well-formed percent-escapes.
func validQuery(q []byte) bool {
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return false
			}
			i += 2
		case c == '?' || isPathChar(c):
		default:
			return false
		}
	}
	return true
}

// cutLine splits off the first line of b, which must end in CRLF. It
// refuses a bare LF or CR (net/http would take a bare LF as a line end),
// and says parseIncomplete when no line end is in b yet.
func cutLine(b []byte) (line, rest []byte, res parseResult) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if cr := bytes.IndexByte(b, '\r'); cr >= 0 && cr < len(b)-1 {
			return nil, nil, parseRefused // a CR not followed by LF
		}
		return nil, nil, parseIncomplete
	}
	if i == 0 || b[i-1] != '\r' {
		return nil, nil, parseRefused
	}
	line = b[: i-1 : i-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, nil, parseRefused
	}
	return line, b[i+1:], parseOK
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b[:len(b):len(b)]
}

// asciiEqualFold compares b with lower, which must be lower case ASCII.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// validHost accepts a non-empty host[:port] of letters, digits and
// "-._:[]" — a subset of what net/http's Host check allows.
func validHost(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isAlnum(c) && c != '-' && c != '.' && c != '_' && c != ':' && c != '[' && c != ']' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isTokenChar: RFC 9110 tchar.
func isTokenChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// isFieldValueChar: VCHAR, SP, HTAB or obs-text (RFC 9110 §5.5).
func isFieldValueChar(c byte) bool {
	return c == '\t' || c == ' ' || 0x21 <= c && c != 0x7f
}

// isPathChar: RFC 3986 pchar without pct-encoded, plus '/'.
func isPathChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}
