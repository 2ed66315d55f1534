package edge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Behavior sets how paths matching Pattern are cached, as CloudFront's
// cache behaviors do: the caching policy, their TTL bounds and which query
// parameters are part of the cache key. The first behavior whose Pattern
// matches a path applies; paths that match none use the Config's own
// settings and the default policy of their path (see Policy).
type Behavior struct {
	// Pattern is a path glob, as in SlicedPaths: "*" within one path
	// segment, "**" across segments. Required.
	Pattern string
	// Policy is how GET and HEAD requests for these paths are cached:
	// PolicyVideos, PolicyRFC9111 or PolicyPass. Empty takes the default
	// of the path: PolicyVideos under /videos/, elsewhere PolicyRFC9111
	// (PolicyPass with Config.DisableCacheAll).
	Policy Policy
	// DefaultTTL, MinTTL, MaxTTL and NegativeTTL mean what the Config's
	// fields of the same names mean, for these paths; zero takes the
	// Config's value.
	DefaultTTL, MinTTL, MaxTTL, NegativeTTL time.Duration
	// Origin names the distribution's origin (Distribution.Origins) that
	// fills and passes these paths. Empty takes the distribution's first.
	Origin string
	// QueryKeys lists the query parameters that count in the cache key
	// (others are ignored, and the kept ones are put in order, so
	// "?b=2&a=1" and "?a=1&b=2&utm=x" share one entry when a and b count).
	// nil keeps the whole query as it is; an empty list ignores it. The
	// signed-URL token never counts.
	QueryKeys []string
}

// Policy names a way of caching a path (Behavior.Policy). It is the seam
// where per-path behaviours plug in: route asks policyFor which one a
// request's path has.
type Policy string

const (
	// PolicyVideos is Streamfront's video delivery: RFC 9111 as below,
	// plus a DefaultTTL for answers without a lifetime, NegativeTTL as a
	// ceiling for 404 and 410, slices (SlicedPaths), signed access and
	// playlist rewriting. It is the policy of /videos/.
	PolicyVideos Policy = "videos"
	// PolicyRFC9111 caches as a shared cache following RFC 9111 (and RFC
	// 9213's CDN-Cache-Control): lifetimes only from the origin's headers
	// or, where §4.2.2 allows, heuristically from Last-Modified. The
	// deliberate differences are listed in doc.go.
	PolicyRFC9111 Policy = "rfc9111"
	// PolicyPass sends every request to the origin uncached.
	PolicyPass Policy = "pass"
)

// behavior is a Behavior ready to match.
type behavior struct {
	re        *regexp.Regexp
	ttl       ttlPolicy
	policy    Policy    // empty: the path's default
	queryKeys []string  // nil: the whole query counts
	origin    *upstream // where fills and pass-through of these paths go
}

// compileBehaviors compiles a distribution's behaviours; where names the
// list in errors ("Behaviors", "Distributions[1].Behaviors"), origins are
// the distribution's by name and def is the origin of behaviours that name
// none.
func compileBehaviors(bs []Behavior, where string, base ttlPolicy, origins map[string]*upstream, def *upstream) ([]behavior, error) {
	var out []behavior
	for i, b := range bs {
		re, err := compileGlob(b.Pattern)
		if err != nil || !strings.HasPrefix(b.Pattern, "/") {
			return nil, fmt.Errorf("%s[%d] pattern %q must be a path glob starting with /", where, i, b.Pattern)
		}
		p := base
		for _, f := range []struct {
			dst *time.Duration
			v   time.Duration
		}{{&p.defaultTTL, b.DefaultTTL}, {&p.minTTL, b.MinTTL}, {&p.maxTTL, b.MaxTTL}, {&p.negativeTTL, b.NegativeTTL}} {
			if f.v < 0 {
				return nil, fmt.Errorf("%s[%d] (%s) has a negative TTL", where, i, b.Pattern)
			}
			if f.v > 0 {
				*f.dst = f.v
			}
		}
		if p.minTTL > p.maxTTL {
			return nil, fmt.Errorf("%s[%d] (%s): MinTTL %v is above MaxTTL %v", where, i, b.Pattern, p.minTTL, p.maxTTL)
		}
		switch b.Policy {
		case "", PolicyVideos, PolicyRFC9111, PolicyPass:
		default:
			return nil, fmt.Errorf("%s[%d] (%s): policy %q must be %q, %q or %q", where, i, b.Pattern, b.Policy, PolicyVideos, PolicyRFC9111, PolicyPass)
		}
		o := def
		if b.Origin != "" {
			if o = origins[b.Origin]; o == nil {
				return nil, fmt.Errorf("%s[%d] (%s): origin %q is not one of the distribution's origins", where, i, b.Pattern, b.Origin)
			}
		}
		var keys []string
		if b.QueryKeys != nil {
			keys = append([]string{}, b.QueryKeys...) // non-nil even when empty: "ignore the query"
			slices.Sort(keys)
		}
		out = append(out, behavior{re: re, ttl: p, policy: b.Policy, queryKeys: keys, origin: o})
	}
	return out, nil
}

// behaviorFor is the behavior of path, or nil.
func (d *distribution) behaviorFor(path string) *behavior {
	for i := range d.behaviors {
		if d.behaviors[i].re.MatchString(path) {
			return &d.behaviors[i]
		}
	}
	return nil
}

// policyFor is the caching policy of a request path: its behavior's, or
// the path's default (see Behavior.Policy).
func (d *distribution) policyFor(path string) Policy {
	if len(d.behaviors) > 0 {
		if b := d.behaviorFor(path); b != nil && b.policy != "" {
			return b.policy
		}
	}
	switch {
	case strings.HasPrefix(path, "/videos/"):
		return PolicyVideos
	case d.cacheAll:
		return PolicyRFC9111
	}
	return PolicyPass
}

// originFor is the origin of a request path: its behavior's, or the
// distribution's first.
func (d *distribution) originFor(path string) *upstream {
	if len(d.behaviors) > 0 {
		if b := d.behaviorFor(path); b != nil {
			return b.origin
		}
	}
	return d.origin
}

// ttlFor is the TTL policy of a cache key's path.
func (e *Edge) ttlFor(key string) ttlPolicy {
	d, path := e.dists.ofKey(key)
	if i := strings.IndexAny(path, "?"+string(sliceKeySep)); i >= 0 {
		path = path[:i]
	}
	p := e.ttl
	if len(d.behaviors) > 0 {
		if b := d.behaviorFor(path); b != nil {
			p = b.ttl
		}
	}
	p.rfc = d.policyFor(path) == PolicyRFC9111
	return p
}

// keyOf is the cache key of a path and raw query in the default
// distribution.
func (e *Edge) keyOf(path, rawQuery string) string {
	return e.dists.def.keyOf(path, rawQuery)
}

// keyOf is the cache key of a path and raw query: the distribution's key
// prefix, the path, then the query parameters that count (see
// Behavior.QueryKeys), never the token.
func (d *distribution) keyOf(path, rawQuery string) string {
	if rawQuery == "" {
		return d.keyPrefix + path
	}
	q := withoutToken(rawQuery)
	if q != "" && len(d.behaviors) > 0 {
		if b := d.behaviorFor(path); b != nil && b.queryKeys != nil {
			q = keepParams(q, b.queryKeys)
		}
	}
	if q == "" {
		return d.keyPrefix + path
	}
	if strings.Contains(q, "_HLS_") && strings.HasSuffix(path, ".m3u8") {
		// A blocking reload names its part as players please
		// (_HLS_part=2&_HLS_msn=9 or the other way round): viewers
		// waiting for the same part share one fill either way.
		q = sortedParams(q)
	}
	return d.keyPrefix + path + "?" + q
}

// sortedParams orders the parameters of raw by name; parameters of one
// name keep their order.
func sortedParams(raw string) string {
	parts := strings.Split(raw, "&")
	slices.SortStableFunc(parts, func(a, b string) int {
		an, _, _ := strings.Cut(a, "=")
		bn, _, _ := strings.Cut(b, "=")
		return strings.Compare(an, bn)
	})
	return strings.Join(parts, "&")
}

// keepParams keeps the parameters of raw named in keys (sorted), in key
// order; parameters of one name keep their order.
func keepParams(raw string, keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	parts := strings.Split(raw, "&")
	kept := parts[:0]
	for _, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if _, found := slices.BinarySearch(keys, name); found {
			kept = append(kept, p)
		}
	}
	slices.SortStableFunc(kept, func(a, b string) int {
		an, _, _ := strings.Cut(a, "=")
		bn, _, _ := strings.Cut(b, "=")
		return strings.Compare(an, bn)
	})
	return strings.Join(kept, "&")
}
