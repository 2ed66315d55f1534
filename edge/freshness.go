package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cacheControl is the part of a Cache-Control header the edge acts on.
type cacheControl struct {
	noStore, private, noCache, mustRevalidate, immutable bool
	maxAge, sMaxAge                                      time.Duration
	hasMaxAge, hasSMaxAge                                bool
	swr, sie                                             time.Duration
	hasSWR, hasSIE                                       bool
}

// parseCacheControl parses every Cache-Control line of h. Unknown
// directives are ignored, as RFC 9111 §5.2 asks.
func parseCacheControl(h http.Header) cacheControl {
	var cc cacheControl
	for _, line := range h.Values("Cache-Control") {
		for len(line) > 0 {
			var d string
			d, line, _ = strings.Cut(line, ",")
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch name {
			case "no-store":
				cc.noStore = true
			case "private":
				cc.private = true
			case "no-cache":
				// no-cache="field" only forbids reusing that field; the edge
				// treats both forms as "revalidate every time", which is safe.
				cc.noCache = true
			case "must-revalidate", "proxy-revalidate":
				cc.mustRevalidate = true
			case "immutable":
				cc.immutable = true
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

func parseSeconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// RFC 9111 §1.2.2: an invalid delta-seconds is treated as stale.
		return 0, true
	}
	n = max(0, min(n, int64(100*365*24*3600)))
	return time.Duration(n) * time.Second, true
}

// ttlPolicy is the TTL part of Config.
type ttlPolicy struct {
	defaultTTL, minTTL, maxTTL, negativeTTL time.Duration
	swr, sie                                time.Duration
}

// cacheableByDefault lists statuses a shared cache may store without an
// explicit lifetime (RFC 9110 §15.1) that the edge keeps.
func cacheableByDefault(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

func negative(status int) bool { return status == 404 || status == 410 }

// apply fills m's freshness fields from the origin answer's status and
// headers, received at m.date.
func (p ttlPolicy) apply(m *entry, h http.Header) {
	cc := parseCacheControl(h)
	m.initialAge = parseAge(h)
	m.storable = cacheableByDefault(m.status) && !cc.noStore && !cc.private && varyIsCacheable(h)

	var ttl time.Duration
	explicit := true
	switch {
	case cc.hasSMaxAge:
		ttl = cc.sMaxAge
	case cc.hasMaxAge:
		ttl = cc.maxAge
	case h.Get("Expires") != "":
		exp, err := http.ParseTime(h.Get("Expires"))
		date, derr := http.ParseTime(h.Get("Date"))
		if derr != nil {
			date = m.date
		}
		if err == nil {
			ttl = max(0, exp.Sub(date))
		}
	default:
		explicit = false
		ttl = p.defaultTTL
	}
	if explicit {
		ttl = max(ttl, p.minTTL)
	}
	ttl = min(ttl, p.maxTTL)
	if negative(m.status) {
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
	if cc.hasSWR {
		m.swr = cc.swr
	}
	if cc.hasSIE {
		m.sie = cc.sie
	}
	if cc.mustRevalidate || cc.noCache {
		// must-revalidate forbids serving stale, even on error (§5.2.2.2).
		m.swr, m.sie = 0, 0
	}
	if m.sie < 0 {
		m.sie = 0
	}
}

// varyIsCacheable: the edge keys on the URL only, and always fetches the
// identity encoding, so Vary is fine when it names Accept-Encoding alone.
func varyIsCacheable(h http.Header) bool {
	for _, line := range h.Values("Vary") {
		for _, f := range strings.Split(line, ",") {
			f = strings.TrimSpace(f)
			if f != "" && !strings.EqualFold(f, "Accept-Encoding") && !strings.EqualFold(f, "Origin") {
				return false
			}
		}
	}
	return true
}
