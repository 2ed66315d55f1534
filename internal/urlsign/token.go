package urlsign

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"
)

// Sentinel errors of Verify; callers branch on them (an edge turns each
// into its own sentence). They are wrapped with detail.
var (
	// ErrMalformed: the token is not one this package makes (wrong shape,
	// too long, bad base64, bad JSON, missing fields).
	ErrMalformed = errors.New("malformed token")
	// ErrUnknownKey: the token names a key ID the verifier does not hold
	// (a retired key, or a key not rolled out to this edge yet).
	ErrUnknownKey = errors.New("token signed with an unknown key")
	// ErrBadSignature: the signature does not match the policy: the token
	// was altered, or signed with another secret under the same key ID.
	ErrBadSignature = errors.New("token signature does not match")
	// ErrExpired: the policy's expiry has passed.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: the policy's not-before time is still ahead.
	ErrNotYetValid = errors.New("token not valid yet")
	// ErrWrongPath: the token is valid but not for this path (another
	// video's token, or an unclean path such as one with "..").
	ErrWrongPath = errors.New("token not valid for this path")
	// ErrWrongClient: the policy is bound to a client address and the
	// request comes from another one.
	ErrWrongClient = errors.New("token not valid for this client address")
)

// Limits against hostile input, checked before anything is decoded.
const (
	// MaxTokenLen is the longest token Verify decodes. A policy with a
	// long resource and an IPv6 CIDR signs to about 300 bytes; anything
	// near this limit is junk, refused before base64 or JSON work.
	MaxTokenLen = 1024
	// MaxKeyIDLen bounds key IDs.
	MaxKeyIDLen = 64
	// MinKeyLen is the shortest secret accepted: 128 bits.
	MinKeyLen = 16
	// maxResourceLen bounds Policy.Resource.
	maxResourceLen = 512
)

// sigLen is the length of an HMAC-SHA256.
const sigLen = sha256.Size

// b64 is unpadded base64url, decoded strictly: non-zero padding bits are
// refused, so every byte string has exactly one token spelling.
var b64 = base64.RawURLEncoding.Strict()

// Policy says what a token opens and when.
type Policy struct {
	// Resource is the path the token opens: a prefix ending in "/"
	// ("/videos/abc/" opens everything below it), a prefix ending in "*"
	// ("/videos/abc/r/*"), or an exact path. Required; it must start
	// with "/".
	Resource string
	// Expires is when the token stops working (exclusive). Required.
	Expires time.Time
	// NotBefore, when set, is when the token starts working.
	NotBefore time.Time
	// Client, when valid, restricts the token to client addresses in
	// this prefix (a single address is a /32 or /128).
	Client netip.Prefix
	// KeyID names the key that signed the token. Sign sets it from the
	// key; Verify returns it.
	KeyID string
}

// Key is one signing secret and the ID tokens name it by.
type Key struct {
	ID     string
	Secret []byte
}

// wirePolicy is the signed JSON. Short names keep URLs short; times are
// unix seconds.
type wirePolicy struct {
	KeyID     string `json:"kid"`
	Resource  string `json:"res"`
	Expires   int64  `json:"exp"`
	NotBefore int64  `json:"nbf,omitempty"`
	Client    string `json:"ip,omitempty"`
}

// CheckKey reports whether id and secret may sign and verify tokens: an ID
// of 1 to MaxKeyIDLen characters from [A-Za-z0-9._-], and a secret of at
// least MinKeyLen bytes. Configurations call it before anything listens.
func CheckKey(id string, secret []byte) error {
	if id == "" || len(id) > MaxKeyIDLen {
		return fmt.Errorf("key ID %q must be 1 to %d characters", id, MaxKeyIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("key ID %q may only hold letters, digits, '.', '_' and '-'", id)
		}
	}
	if len(secret) < MinKeyLen {
		return fmt.Errorf("key %q: the secret must be at least %d bytes, has %d", id, MinKeyLen, len(secret))
	}
	return nil
}

// Sign returns the token of p signed with k; p.KeyID is taken from k.
// It refuses (rather than sign) what Verify would never accept: a bad key,
// a resource that is not an absolute path, a missing expiry, a not-before
// after the expiry. The same policy and key always give the same token.
func Sign(p Policy, k Key) (string, error) {
	if err := CheckKey(k.ID, k.Secret); err != nil {
		return "", fmt.Errorf("urlsign: %w", err)
	}
	w := wirePolicy{KeyID: k.ID, Resource: p.Resource, Expires: p.Expires.Unix()}
	if !p.NotBefore.IsZero() {
		w.NotBefore = p.NotBefore.Unix()
	}
	if p.Client.IsValid() {
		w.Client = p.Client.Masked().String()
	}
	if p.Expires.IsZero() {
		return "", errors.New("urlsign: the policy needs an expiry")
	}
	if err := w.check(); err != nil {
		return "", fmt.Errorf("urlsign: %w", err)
	}
	raw, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("urlsign: %w", err)
	}
	token := b64.EncodeToString(raw) + "." + b64.EncodeToString(mac(k.Secret, raw))
	if len(token) > MaxTokenLen {
		return "", fmt.Errorf("urlsign: the token would be %d bytes, more than %d", len(token), MaxTokenLen)
	}
	return token, nil
}

// Verify checks that token was signed by one of keys (key ID → secret),
// is valid at now, opens path, and may be used from clientIP (checked only
// when the policy names a client; pass the zero Addr when unknown). path
// is the request's decoded URL path; a path that is not clean ("..", "//")
// is refused with ErrWrongPath whatever the policy.
//
// Errors wrap one of the sentinels above. The policy's JSON is decoded
// before the signature is checked (the key ID is inside it), but only its
// key ID is used until the signature matches.
func Verify(token, path string, clientIP netip.Addr, now time.Time, keys map[string][]byte) (Policy, error) {
	if len(token) > MaxTokenLen {
		return Policy{}, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(token), MaxTokenLen)
	}
	encPolicy, encSig, ok := strings.Cut(token, ".")
	if !ok || encPolicy == "" || encSig == "" {
		return Policy{}, fmt.Errorf("%w: want <policy>.<signature>", ErrMalformed)
	}
	if b64.DecodedLen(len(encSig)) != sigLen {
		return Policy{}, fmt.Errorf("%w: signature length", ErrMalformed)
	}
	sig, err := decodeB64(encSig)
	if err != nil || len(sig) != sigLen {
		return Policy{}, fmt.Errorf("%w: signature encoding", ErrMalformed)
	}
	raw, err := decodeB64(encPolicy)
	if err != nil {
		return Policy{}, fmt.Errorf("%w: policy encoding", ErrMalformed)
	}
	var w wirePolicy
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil || dec.InputOffset() != int64(len(raw)) {
		return Policy{}, fmt.Errorf("%w: policy JSON", ErrMalformed)
	}
	secret, ok := keys[w.KeyID]
	if !ok || len(secret) == 0 {
		return Policy{}, fmt.Errorf("%w: %q", ErrUnknownKey, w.KeyID)
	}
	if !hmac.Equal(sig, mac(secret, raw)) {
		return Policy{}, ErrBadSignature
	}

	// From here on the policy is ours.
	if err := w.check(); err != nil {
		return Policy{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	p := Policy{Resource: w.Resource, Expires: time.Unix(w.Expires, 0), KeyID: w.KeyID}
	if w.NotBefore != 0 {
		p.NotBefore = time.Unix(w.NotBefore, 0)
	}
	if w.Client != "" {
		p.Client, err = netip.ParsePrefix(w.Client)
		if err != nil {
			return Policy{}, fmt.Errorf("%w: client prefix %q", ErrMalformed, w.Client)
		}
	}
	if now.Unix() >= w.Expires {
		return p, fmt.Errorf("%w at %s", ErrExpired, p.Expires.UTC().Format(time.RFC3339))
	}
	if w.NotBefore != 0 && now.Unix() < w.NotBefore {
		return p, fmt.Errorf("%w until %s", ErrNotYetValid, p.NotBefore.UTC().Format(time.RFC3339))
	}
	if !Matches(p.Resource, path) {
		return p, fmt.Errorf("%w: %q is not under %q", ErrWrongPath, path, p.Resource)
	}
	if p.Client.IsValid() && !p.Client.Contains(clientIP.Unmap()) {
		return p, fmt.Errorf("%w: %s is not in %s", ErrWrongClient, clientIP, p.Client)
	}
	return p, nil
}

// check validates a policy's fields (before signing, and after a
// signature matched).
func (w *wirePolicy) check() error {
	switch {
	case w.Resource == "" || w.Resource[0] != '/':
		return fmt.Errorf("resource %q must be an absolute path", w.Resource)
	case len(w.Resource) > maxResourceLen:
		return fmt.Errorf("resource is %d bytes, at most %d", len(w.Resource), maxResourceLen)
	case w.Expires <= 0:
		return errors.New("the expiry must be after 1970")
	case w.NotBefore < 0 || w.NotBefore != 0 && w.NotBefore >= w.Expires:
		return errors.New("not-before must come before the expiry")
	}
	if w.Client != "" {
		if _, err := netip.ParsePrefix(w.Client); err != nil {
			return fmt.Errorf("client %q must be a CIDR prefix", w.Client)
		}
	}
	return nil
}

// Matches reports whether a resource opens path. A resource ending in "/"
// or "*" is a prefix; any other is an exact path. path must be clean (no
// "." or ".." segments, no empty segments): "/videos/a/../b/x" is under
// "/videos/a/" as text but not as a path, so it never matches.
func Matches(resource, p string) bool {
	if !isClean(p) {
		return false
	}
	if prefix, ok := strings.CutSuffix(resource, "*"); ok {
		return strings.HasPrefix(p, prefix)
	}
	if strings.HasSuffix(resource, "/") {
		return strings.HasPrefix(p, resource)
	}
	return p == resource
}

// isClean reports whether p is an absolute path that path.Clean leaves as
// it is (a trailing slash allowed).
func isClean(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	trimmed := p
	if len(p) > 1 {
		trimmed = strings.TrimSuffix(p, "/")
	}
	return path.Clean(trimmed) == trimmed
}

func mac(secret, msg []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(msg)
	return h.Sum(nil)
}

// decodeB64 decodes unpadded base64url and nothing else: the decoder
// itself skips CR and LF, which would give one signed token many
// spellings (found by FuzzVerify).
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("byte %d is outside base64url", i)
		}
	}
	return b64.DecodeString(s)
}
