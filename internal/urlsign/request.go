package urlsign

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RequestHeader carries an edge's signature on its requests to the origin
// (fills, pass-through, and requests to shield edges).
const RequestHeader = "X-Streamfront-Edge-Auth"

// MaxRequestSkew is how far a request's signing time may lie from the
// verifier's clock, either way. It bounds both clock skew between edges
// and origin and how long a captured header can be replayed (for the
// same method and path only).
const MaxRequestSkew = 5 * time.Minute

// maxRequestHeaderLen bounds the header before it is parsed:
// "v1:" + 20 digits + ":" + 43 base64 characters fit well within it.
const maxRequestHeaderLen = 128

// ErrUnsignedRequest is returned by VerifyRequest for a request without a
// valid edge signature; the wrapped detail says what was wrong.
var ErrUnsignedRequest = errors.New("request not signed by an edge")

// requestDomain separates request signatures from token signatures, should
// an operator use one secret for both.
const requestDomain = "streamfront-edge-request-v1\n"

// SignRequest sets RequestHeader on r: a signature of r's method and path
// at now, made with secret.
func SignRequest(r *http.Request, secret []byte, now time.Time) {
	r.Header.Set(RequestHeader, RequestSignature(secret, r.Method, r.URL.EscapedPath(), now))
}

// RequestSignature is the RequestHeader value for a request with method
// and escapedPath (the path as sent on the wire) signed at now:
// "v1:<unix seconds>:<base64url HMAC-SHA256>".
func RequestSignature(secret []byte, method, escapedPath string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return "v1:" + ts + ":" + b64.EncodeToString(requestMAC(secret, method, escapedPath, ts))
}

// VerifyRequest checks r's RequestHeader against secret at now. Errors
// wrap ErrUnsignedRequest.
func VerifyRequest(r *http.Request, secret []byte, now time.Time) error {
	v := r.Header.Get(RequestHeader)
	if v == "" {
		return fmt.Errorf("%w: no %s header", ErrUnsignedRequest, RequestHeader)
	}
	if len(v) > maxRequestHeaderLen {
		return fmt.Errorf("%w: header too long", ErrUnsignedRequest)
	}
	rest, ok := strings.CutPrefix(v, "v1:")
	ts, encSig, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return fmt.Errorf("%w: header is not v1:<time>:<signature>", ErrUnsignedRequest)
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || t <= 0 || t > 1<<40 || ts != strconv.FormatInt(t, 10) {
		return fmt.Errorf("%w: bad time %q", ErrUnsignedRequest, ts)
	}
	if d := now.Unix() - t; d > int64(MaxRequestSkew/time.Second) || d < -int64(MaxRequestSkew/time.Second) {
		return fmt.Errorf("%w: signed %d s away from this clock (at most %s): check the clocks", ErrUnsignedRequest, d, MaxRequestSkew)
	}
	sig, err := decodeB64(encSig)
	if err != nil || len(sig) != sigLen {
		return fmt.Errorf("%w: bad signature encoding", ErrUnsignedRequest)
	}
	if !hmac.Equal(sig, requestMAC(secret, r.Method, r.URL.EscapedPath(), ts)) {
		return fmt.Errorf("%w: signature does not match (a different secret?)", ErrUnsignedRequest)
	}
	return nil
}

func requestMAC(secret []byte, method, escapedPath, ts string) []byte {
	return mac(secret, []byte(requestDomain+method+"\n"+escapedPath+"\n"+ts))
}
