package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
)

// Signed access to private videos.
//
// The origin marks every content response of a private video with
// "X-Streamfront-Access: signed". The edge stores that header with the
// object (entry.signed is derived from it once, when the entry is made), so
// on a hit the requirement costs one bool test and public objects pay
// nothing more. An uncached object's requirement is unknown until the
// origin answers, so a miss is filled as usual (collapsed with every other
// request for the key) and the check runs once the answer's headers are
// in, before a byte goes to the client. Refusals are 403 JSON made here,
// never stored.
//
// A request proves access with a token (internal/urlsign) in the "token"
// query parameter or, failing that, the Streamfront-Token cookie. The
// token is not part of the cache key and is not sent upstream.
//
// A playlist (or storyboard WebVTT) served to a request authorised by a
// query token carries that token to every URI in it (access_rewrite.go),
// so players that know nothing of tokens fetch the children with it; the
// cached body stays as the origin sent it. A multivariant playlist also
// sets the token as a cookie for the video's path, for clients that keep
// cookies.
//
// Requests from other edges (this edge as a shield) carry an edge request
// signature made with Config.OriginSecret; they are served without a
// viewer token, and the downstream edge enforces the requirement, which it
// learns from the same header.

// Sentinels of refused access; errAccessDenied wraps every refusal, so
// statusFor maps them all to 403.
var (
	errAccessDenied = errors.New("access denied")
	// errNoToken: the object needs a token and the request carries none.
	errNoToken = errors.New("no token in the URL or cookie")
	// errSigningDisabled: the object needs a token and this edge has no
	// SigningKeys to check one with.
	errSigningDisabled = errors.New("signed access is not configured on this edge")
)

// grant is a request's verified access to a signed object.
type grant struct {
	token     string
	fromQuery bool // the token came in the URL, not in a cookie
	policy    urlsign.Policy
}

// authorize verifies the token a request carries for its path.
func (e *Edge) authorize(r *http.Request) (grant, error) {
	if len(e.cfg.SigningKeys) == 0 {
		return grant{}, e.denied(errSigningDisabled)
	}
	token, fromQuery := tokenFromQuery(r.URL.RawQuery)
	if !fromQuery {
		if c, err := r.Cookie(urlsign.CookieName); err == nil {
			token = c.Value
		}
	}
	if token == "" {
		return grant{}, e.denied(errNoToken)
	}
	p, err := urlsign.Verify(token, r.URL.Path, clientAddr(r), time.Now(), e.cfg.SigningKeys)
	if err != nil {
		return grant{}, e.denied(err)
	}
	return grant{token: token, fromQuery: fromQuery, policy: p}, nil
}

// denied counts a refusal by reason and wraps it in errAccessDenied.
func (e *Edge) denied(reason error) error {
	e.metrics.accessDenied.WithLabelValues(deniedLabel(reason)).Inc()
	return fmt.Errorf("%w: %w", errAccessDenied, reason)
}

// checkAccess enforces m's access requirement for r. It returns the grant
// when the body must be rewritten on the way out (a playlist or storyboard
// opened with a query token), nil when it is served as stored.
func (e *Edge) checkAccess(r *http.Request, m *entry, peer bool) (*grant, error) {
	if !m.signed || peer {
		return nil, nil
	}
	g, err := e.authorize(r)
	if err != nil {
		return nil, err
	}
	if g.fromQuery && m.rewrite != rewriteNone && m.status == http.StatusOK && m.size <= maxRewriteBody {
		return &g, nil
	}
	return nil, nil
}

// fromPeerEdge reports whether r was sent by another edge of this CDN (a
// fill or pass-through of an edge that uses this one as its shield): it
// carries a valid edge request signature made with OriginSecret.
func (e *Edge) fromPeerEdge(r *http.Request) bool {
	// A direct map lookup: RequestHeader is in canonical form, and this
	// runs on every cacheable request, hits included.
	if len(e.originSecret) == 0 || len(r.Header[urlsign.RequestHeader]) == 0 {
		return false
	}
	return urlsign.VerifyRequest(r, e.originSecret, time.Now()) == nil
}

// signUpstream signs a request this edge sends to the origin or a shield,
// replacing any signature a client sent along.
func (e *Edge) signUpstream(req *http.Request) {
	req.Header.Del(urlsign.RequestHeader)
	if len(e.originSecret) > 0 {
		urlsign.SignRequest(req, e.originSecret, time.Now())
	}
}

// writeRewritten answers with body, rewritten so every URI in it carries
// g's token. The rewritten answer holds a credential: it is marked
// private and no-store, and has no validators (it is not the stored
// representation).
func (e *Edge) writeRewritten(w http.ResponseWriter, r *http.Request, m *entry, body []byte, g *grant, x xcache) error {
	var out []byte
	master := false
	switch m.rewrite {
	case rewritePlaylist:
		out, master = addTokenToPlaylist(body, g.token)
	case rewriteVTT:
		out = addTokenToVTT(body, g.token)
	default:
		out = body
	}
	if master {
		setTokenCookie(w, r, g)
	}
	rm := *m
	rm.header = make(http.Header, len(m.header))
	for k, v := range m.header {
		switch k {
		case "Etag", "Last-Modified", "Cache-Control":
		default:
			rm.header[k] = v
		}
	}
	rm.header["Cache-Control"] = e.hdrs.privateNoStore
	rm.etag, rm.lastModified, rm.lastModTime = "", "", time.Time{}
	rm.setSize(int64(len(out)))
	return e.writeObject(w, r, &rm, bytesSource(out), x)
}

// setTokenCookie sets the token as a signed cookie for the path the token
// opens. Browsers refuse SameSite=None without Secure, so on plain http
// the cookie is SameSite=Lax (sent to this edge from pages of the same
// site, e.g. another port of localhost).
func setTokenCookie(w http.ResponseWriter, r *http.Request, g *grant) {
	c := &http.Cookie{
		Name:     urlsign.CookieName,
		Value:    g.token,
		Path:     cookiePath(g.policy.Resource),
		Expires:  g.policy.Expires,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	w.Header().Add("Set-Cookie", c.String())
}

// cookiePath is the cookie Path for a token's resource: a "/" prefix as it
// is, a "*" prefix cut back to its last "/", an exact path as it is.
func cookiePath(resource string) string {
	if prefix, ok := strings.CutSuffix(resource, "*"); ok {
		return prefix[:strings.LastIndexByte(prefix, '/')+1]
	}
	return resource
}

// clientAddr is the address a request came from (for tokens bound to a
// client prefix): the TCP peer. Behind a load balancer that is the
// balancer; such deployments should not bind tokens to addresses.
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// tokenFromQuery returns the first token parameter of a raw query.
func tokenFromQuery(raw string) (string, bool) {
	if !strings.Contains(raw, urlsign.QueryParam+"=") {
		return "", false
	}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if v, ok := strings.CutPrefix(part, urlsign.QueryParam+"="); ok {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
			return v, true
		}
	}
	return "", false
}

// withoutToken removes every token parameter from a raw query: tokens are
// neither part of the cache key nor sent upstream.
func withoutToken(raw string) string {
	if !strings.Contains(raw, urlsign.QueryParam) {
		return raw
	}
	var b strings.Builder
	for rest := raw; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if name, _, _ := strings.Cut(part, "="); name == urlsign.QueryParam {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(part)
	}
	return b.String()
}

// redactToken hides the signature of a token in a raw query, for logs: the
// policy part (which says what the token opened and until when) stays
// readable, and without its signature the token opens nothing.
func redactToken(raw string) string {
	if !strings.Contains(raw, urlsign.QueryParam+"=") {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, part := range parts {
		if v, ok := strings.CutPrefix(part, urlsign.QueryParam+"="); ok {
			policy, _, _ := strings.Cut(v, ".")
			parts[i] = urlsign.QueryParam + "=" + policy + ".REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// denial is one reason a viewer is refused: its metrics label and the
// sentence the viewer reads.
type denial struct {
	err             error
	label, sentence string
}

// denials lists the reasons in the order they are tested; anything else
// is a malformed token.
var denials = []denial{
	{errNoToken, "no_token", "This video is private: open it from its page, which gives a signed link."},
	{errSigningDisabled, "not_configured", "This video is private and this edge is not configured for private videos (it has no signing keys); ask the operator to give this edge the signing key (secrets.signing_key in the deployment file), or use another edge."},
	{urlsign.ErrExpired, "expired", "This link has expired; reload the page to get a new one."},
	{urlsign.ErrNotYetValid, "not_yet_valid", "This link is not valid yet; check your device's clock, or try again in a moment."},
	{urlsign.ErrWrongPath, "wrong_path", "This link is for another video; open this video from its own page."},
	{urlsign.ErrWrongClient, "wrong_client", "This link was issued to another network address; reload the page to get one for yours."},
	{urlsign.ErrUnknownKey, "unknown_key", "This link was signed with a key this edge does not know (it may have been retired); reload the page to get a new one."},
	{urlsign.ErrBadSignature, "bad_signature", malformedSentence},
}

const malformedSentence = "This link is damaged or was altered; open the video from its page again."

func denialFor(err error) denial {
	for _, d := range denials {
		if errors.Is(err, d.err) {
			return d
		}
	}
	return denial{err: err, label: "malformed", sentence: malformedSentence}
}

// deniedLabel is the metrics label of a refusal.
func deniedLabel(reason error) string { return denialFor(reason).label }

// accessSentence is what a refused viewer reads.
func accessSentence(err error) string { return denialFor(err).sentence }

// inboundKey carries a pass-through request's incoming request to
// ModifyResponse, which checks access on it.
type inboundKey struct{}

func withInbound(ctx context.Context, in *http.Request) context.Context {
	return context.WithValue(ctx, inboundKey{}, in)
}

func inboundOf(out *http.Request) *http.Request {
	in, _ := out.Context().Value(inboundKey{}).(*http.Request)
	return in
}
