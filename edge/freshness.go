package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cacheControl is the part of a Cache-Control header the edge acts on.
type cacheControl struct {
	noStore, private, noCache, mustRevalidate, immutable, public bool
	mustUnderstand                                               bool
	maxAge, sMaxAge                                              time.Duration
	hasMaxAge, hasSMaxAge                                        bool
	swr, sie                                                     time.Duration
	hasSWR, hasSIE                                               bool
	// valid: at least one directive was read (RFC 9213 §2.1 takes a
	// targeted field only when it has a valid, non-empty value).
	valid bool
}

// targetedFields are the targeted cache-control fields the edge obeys,
// in precedence order (RFC 9213 §2.1): its own, then the one for every
// CDN, then Surrogate-Control (the older Edge Architecture field, read
// with the same directives). The first with a valid value replaces
// Cache-Control and Expires for this cache's decisions.
var targetedFields = [...]string{"Streamfront-Cache-Control", "Cdn-Cache-Control", "Surrogate-Control"}

// cacheDirectives are the cache directives that rule this cache for an
// answer with header h: the first targeted field with a valid value, or
// else Cache-Control. targeted tells which: Expires counts only then.
func cacheDirectives(h http.Header) (cc cacheControl, targeted bool) {
	for _, name := range targetedFields {
		if lines, ok := h[name]; ok {
			if cc = parseDirectives(lines); cc.valid {
				return cc, true
			}
		}
	}
	return parseCacheControl(h), false
}

// parseCacheControl parses every Cache-Control line of h. Unknown
// directives are ignored, as RFC 9111 §5.2 asks.
func parseCacheControl(h http.Header) cacheControl {
	return parseDirectives(h["Cache-Control"])
}

// parseDirectives parses the lines of a Cache-Control-like field.
func parseDirectives(lines []string) cacheControl {
	var cc cacheControl
	for _, line := range lines {
		for len(line) > 0 {
			var d string
			d, line, _ = strings.Cut(line, ",")
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			if name != "" && isToken(name) {
				cc.valid = true
			}
			switch name {
			case "no-store":
				cc.noStore = true
			case "private":
				cc.private = true
			case "public":
				cc.public = true
			case "no-cache":
				// no-cache="field" only forbids reusing that field; the edge
				// treats both forms as "revalidate every time", which is safe.
				cc.noCache = true
			case "must-revalidate", "proxy-revalidate":
				cc.mustRevalidate = true
			case "immutable":
				cc.immutable = true
			case "must-understand":
				cc.mustUnderstand = true
			case "max-age":
				cc.maxAge, cc.hasMaxAge = parseSeconds(value)
			case "s-maxage":
				cc.sMaxAge, cc.hasSMaxAge = parseSeconds(value)
			case "stale-while-revalidate":
				cc.swr, cc.hasSWR = parseSeconds(value)
			case "stale-if-error":
				cc.sie, cc.hasSIE = parseSeconds(value)
			}
		}
	}
	return cc
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

func parseSeconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// RFC 9111 §1.2.2: an invalid delta-seconds is treated as stale.
		return 0, true
	}
	n = max(0, min(n, int64(100*365*24*3600)))
	return time.Duration(n) * time.Second, true
}

// ttlPolicy is the TTL part of Config, and the policy of a path.
type ttlPolicy struct {
	defaultTTL, minTTL, maxTTL, negativeTTL time.Duration
	swr, sie                                time.Duration
	// rfc: the path's policy is PolicyRFC9111: no DefaultTTL and no
	// NegativeTTL ceiling; a lifetime the origin did not give is
	// heuristic (§4.2.2) or none.
	rfc bool
}

// cacheableByDefault lists statuses a shared cache may store without an
// explicit lifetime (RFC 9110 §15.1, "heuristically cacheable") that the
// edge keeps (206 is not: whole fills never ask for a range).
func cacheableByDefault(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// storableStatus lists the statuses the edge stores when the answer
// carries an explicit lifetime: every final status but 206 (whole fills
// never ask for a range) and 304 (only a revalidation makes sense of it).
func storableStatus(status int) bool {
	return status >= 200 && status != http.StatusPartialContent && status != http.StatusNotModified
}

// understoodStatus lists the statuses whose caching rules the edge knows
// (those RFC 9110 defines), for must-understand.
func understoodStatus(status int) bool {
	switch {
	case status >= 200 && status <= 206, status >= 300 && status <= 308 && status != 306:
		return true
	case status >= 400 && status <= 417, status == 421, status == 422, status == 426:
		return true
	case status >= 500 && status <= 505:
		return true
	}
	return false
}

func negative(status int) bool { return status == 404 || status == 410 }

// heuristicFraction is the share of the time since Last-Modified that an
// answer without an explicit lifetime stays fresh, as RFC 9111 §4.2.2
// suggests ("no more than some fraction", typically 10 %).
const heuristicFraction = 10

// apply fills m's freshness fields from the origin answer's status and
// headers, received at m.date.
func (p ttlPolicy) apply(m *entry, h http.Header) {
	cc, targeted := cacheDirectives(h)
	m.rfc = p.rfc
	m.initialAge = parseAge(h)
	if p.rfc {
		m.initialAge = correctedInitialAge(h, m.date)
	}
	// §3.5: a shared cache reuses an answer to a request with
	// Authorization only when one of these says it may.
	m.sharedAuthOK = cc.public || cc.hasSMaxAge || cc.mustRevalidate

	var ttl time.Duration
	explicit := true
	switch {
	case cc.hasSMaxAge:
		ttl = cc.sMaxAge
	case cc.hasMaxAge:
		ttl = cc.maxAge
	case !targeted && len(h["Expires"]) > 0:
		// An invalid date ("0", garbage) means already expired (§5.3).
		if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
			date, derr := http.ParseTime(h.Get("Date"))
			if derr != nil {
				date = m.date
			}
			ttl = max(0, exp.Sub(date))
		}
	case p.rfc:
		explicit = false
		ttl = heuristicTTL(m.status, h, m.date)
	default:
		explicit = false
		ttl = p.defaultTTL
	}
	if p.rfc {
		noStore := cc.noStore
		if cc.mustUnderstand {
			// §5.2.2.3: store only statuses the cache understands, and
			// then no-store (sent for caches that do not know
			// must-understand) does not apply.
			noStore = !understoodStatus(m.status)
		}
		m.storable = (explicit && storableStatus(m.status) || cacheableByDefault(m.status) || cc.public) &&
			!noStore && !cc.private && len(h["Set-Cookie"]) == 0
	} else {
		m.storable = cacheableByDefault(m.status) && !cc.noStore && !cc.private && len(h["Set-Cookie"]) == 0
	}
	if _, star := varyNames(h); star {
		m.storable = false // it could never be used (§4.1)
	}
	if explicit {
		ttl = max(ttl, p.minTTL)
	}
	ttl = min(ttl, p.maxTTL)
	if negative(m.status) && !p.rfc {
		if !explicit {
			ttl = p.negativeTTL
		}
		ttl = min(ttl, p.negativeTTL)
	}
	if cc.noCache {
		ttl = 0
	}
	m.freshFor = ttl

	m.swr, m.sie = p.swr, p.sie
	if p.rfc {
		// Stale answers only where the origin allows them (RFC 5861):
		// the edge's own stale windows are part of the video policy.
		m.swr, m.sie = 0, 0
	}
	if cc.hasSWR {
		m.swr = cc.swr
	}
	if cc.hasSIE {
		m.sie = cc.sie
	}
	if cc.mustRevalidate || cc.noCache || p.rfc && cc.hasSMaxAge {
		// must-revalidate forbids serving stale, even on error (§5.2.2.2);
		// s-maxage carries proxy-revalidate for shared caches (§5.2.2.10).
		m.swr, m.sie = 0, 0
	}
	if m.sie < 0 {
		m.sie = 0
	}
}

// heuristicTTL is the heuristic freshness lifetime of an answer without
// an explicit one (RFC 9111 §4.2.2): a tenth of the time since its
// Last-Modified, for heuristically cacheable statuses only; none
// otherwise (the answer is stored stale and revalidated on use).
func heuristicTTL(status int, h http.Header, received time.Time) time.Duration {
	if !cacheableByDefault(status) {
		return 0
	}
	lm, err := http.ParseTime(h.Get("Last-Modified"))
	if err != nil {
		return 0
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		date = received
	}
	if !lm.Before(date) {
		return 0
	}
	return date.Sub(lm) / heuristicFraction
}

// ageUnusable is the age given to an answer whose Age field is invalid:
// older than any lifetime, so it is stale at once (RFC 9111 §5.1 asks to
// ignore such a field; the suite and the safer reading treat the answer
// as stale rather than as new).
const ageUnusable = 200 * 365 * 24 * time.Hour

// parseAge reads the Age field (RFC 9111 §5.1): one line of
// delta-seconds. A missing field is 0; anything else (a list, several
// lines, a sign, a fraction, parameters) makes the answer unusable fresh.
func parseAge(h http.Header) time.Duration {
	lines := h["Age"]
	if len(lines) == 0 {
		return 0
	}
	if len(lines) > 1 {
		return ageUnusable
	}
	v := strings.TrimSpace(lines[0])
	if v == "" {
		return ageUnusable
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return ageUnusable
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return ageUnusable // too many digits: older than anything
	}
	return time.Duration(min(n, int64(100*365*24*3600))) * time.Second
}

// correctedInitialAge is the age of an answer when it arrived (RFC 9111
// §4.2.3): the larger of its Age field and how far its Date lies before
// the arrival. The delay of the request itself is not known here and is
// left out.
func correctedInitialAge(h http.Header, received time.Time) time.Duration {
	age := parseAge(h)
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		age = max(age, received.Sub(date))
	}
	return age
}
