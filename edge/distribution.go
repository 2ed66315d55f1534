package edge

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Distribution is one site this edge serves, as a CloudFront
// distribution: its origins, and ordered behaviours by path pattern, each
// naming its origin and caching policy. An edge serves the distribution
// whose Hosts hold the request's host, else its default one (see
// Config.Distributions).
type Distribution struct {
	// Name identifies the distribution in logs and cache keys: letters,
	// digits, '-', '_' and '.'. Required.
	Name string
	// Hosts are the host names (without port, matched without regard to
	// case) that select this distribution. Empty makes it the default one;
	// at most one distribution may have none.
	Hosts []string
	// Origins are where its objects come from, at least one; the first is
	// the origin of behaviours that name none and of paths no behaviour
	// matches.
	Origins []Origin
	// Behaviors set the origin and the caching of paths by pattern (first
	// match), as Config.Behaviors.
	Behaviors []Behavior
	// DisableCacheAll is Config.DisableCacheAll for this distribution:
	// by default every path is cached by RFC 9111.
	DisableCacheAll bool
}

// Origin is one upstream of a distribution: an HTTP(S) server (URL) or an
// S3 bucket read with SigV4 (S3), never both.
type Origin struct {
	// Name is what behaviours call it by. Required, unique within its
	// distribution.
	Name string
	// URL is an HTTP(S) origin's base URL; paths are appended to it.
	URL string
	// S3 reads objects of a bucket; the request path (after Prefix) is the
	// key.
	S3 *S3Origin
}

// distribution is a Distribution ready to serve.
type distribution struct {
	name string
	// keyPrefix starts every cache key of the distribution: empty for the
	// default one, so its keys are plain paths (as before distributions,
	// and as invalidations and the fast path name them), "@name" for the
	// others so equal paths of different sites never share an entry.
	keyPrefix string
	// host is the Host that selects it on a shield: its first host, or
	// empty for a default distribution without hosts.
	host      string
	origin    *upstream // the first origin
	behaviors []behavior
	cacheAll  bool
}

// distributions are an edge's distributions, by host.
type distributions struct {
	def    *distribution
	byHost map[string]*distribution
	byName map[string]*distribution // by keyPrefix, for keys
}

// compileDistributions builds what an edge serves: Config.Distributions,
// or without them one default distribution of Config.Origin, Behaviors
// and DisableCacheAll.
func compileDistributions(cfg Config, base ttlPolicy) (*distributions, error) {
	ds := cfg.Distributions
	if len(ds) == 0 {
		ds = []Distribution{{Name: "default", Origins: []Origin{{Name: "origin", URL: cfg.Origin}},
			Behaviors: cfg.Behaviors, DisableCacheAll: cfg.DisableCacheAll}}
	}
	out := &distributions{byHost: map[string]*distribution{}, byName: map[string]*distribution{}}
	var errs []error
	for i, dc := range ds {
		where := fmt.Sprintf("Distributions[%d]", i)
		if len(cfg.Distributions) == 0 {
			where = "" // the Config's own Origin and Behaviors
		}
		d, err := compileDistribution(dc, where, base)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(dc.Hosts) == 0 {
			if out.def != nil {
				errs = append(errs, fmt.Errorf("%s (%s) has no hosts, nor has %s: only one distribution can be the default", where, dc.Name, out.def.name))
				continue
			}
			out.def = d
		}
		if out.byName[d.name] != nil {
			errs = append(errs, fmt.Errorf("%s: the name %q is used twice", where, dc.Name))
		}
		out.byName[d.name] = d
		for _, h := range dc.Hosts {
			h = strings.ToLower(h)
			if h == "" || strings.ContainsAny(h, ":/ ") {
				errs = append(errs, fmt.Errorf("%s (%s): host %q must be a host name without port or scheme", where, dc.Name, h))
			} else if other := out.byHost[h]; other != nil {
				errs = append(errs, fmt.Errorf("%s (%s): host %q is also %s's", where, dc.Name, h, other.name))
			}
			out.byHost[h] = d
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if out.def == nil {
		out.def = out.byName[ds[0].Name] // every one has hosts: the first answers the others
	}
	out.def.keyPrefix = ""
	return out, nil
}

func compileDistribution(dc Distribution, where string, base ttlPolicy) (*distribution, error) {
	if !validDistributionName(dc.Name) {
		return nil, fmt.Errorf("%s: name %q must be 1 to 64 letters, digits, '-', '_' or '.'", where, dc.Name)
	}
	bwhere := "Behaviors"
	if where != "" {
		where += " (" + dc.Name + ")"
		bwhere = where + ".Behaviors"
	}
	if len(dc.Origins) == 0 {
		return nil, fmt.Errorf("%s needs at least one origin", where)
	}
	d := &distribution{name: dc.Name, keyPrefix: "@" + dc.Name, cacheAll: !dc.DisableCacheAll}
	if len(dc.Hosts) > 0 {
		d.host = strings.ToLower(dc.Hosts[0])
	}
	origins := map[string]*upstream{}
	for j, oc := range dc.Origins {
		u, err := newUpstream(oc)
		if err != nil {
			return nil, fmt.Errorf("%s.Origins[%d]: %w", where, j, err)
		}
		if origins[oc.Name] != nil {
			return nil, fmt.Errorf("%s.Origins[%d]: the name %q is used twice", where, j, oc.Name)
		}
		origins[oc.Name] = u
		if j == 0 {
			d.origin = u
		}
	}
	var err error
	if d.behaviors, err = compileBehaviors(dc.Behaviors, bwhere, base, origins, d.origin); err != nil {
		return nil, err
	}
	return d, nil
}

func validDistributionName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// forHost is the distribution of a request's Host (with or without port).
func (ds *distributions) forHost(host string) *distribution {
	if ds == nil {
		return &distribution{} // a bare Edge{} in tests: plain keys, no behaviours
	}
	if len(ds.byHost) == 0 {
		return ds.def
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if d := ds.byHost[host]; d != nil {
		return d
	}
	if d := ds.byHost[strings.ToLower(host)]; d != nil {
		return d
	}
	return ds.def
}

// forFastHost is forHost for a fast-path request's Host, without
// allocating; ok is false for a host it cannot judge so (capitals in a
// host it does not list, which forHost matches without regard to case).
func (ds *distributions) forFastHost(host []byte) (d *distribution, ok bool) {
	if ds == nil || len(ds.byHost) == 0 {
		return ds.forHost(""), true
	}
	if i := bytes.LastIndexByte(host, ':'); i >= 0 && !bytes.Contains(host[i:], []byte("]")) {
		host = host[:i]
	}
	if d, found := ds.byHost[string(host)]; found {
		return d, true
	}
	if bytes.IndexFunc(host, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0 {
		return nil, false
	}
	return ds.def, true
}

// forRequest is the distribution of r.
func (ds *distributions) forRequest(r *http.Request) *distribution {
	return ds.forHost(r.Host)
}

// ofKey is the distribution of a cache key and the key without its
// distribution's prefix (path, query, slice suffix).
func (ds *distributions) ofKey(key string) (*distribution, string) {
	if !strings.HasPrefix(key, "@") {
		return ds.def, key
	}
	i := strings.IndexByte(key, '/')
	if i < 0 {
		return ds.def, key
	}
	if d := ds.byName[key[1:i]]; d != nil {
		return d, key[i:]
	}
	return ds.def, key[i:]
}

// keyPath is a cache key without its distribution prefix: invalidations
// name paths, and purge them in every distribution.
func keyPath(key string) string {
	if strings.HasPrefix(key, "@") {
		if i := strings.IndexByte(key, '/'); i >= 0 {
			return key[i:]
		}
	}
	return key
}

// requestPolicy is the caching policy of r's path in r's distribution.
func (e *Edge) requestPolicy(r *http.Request) Policy {
	return e.dists.forRequest(r).policyFor(r.URL.Path)
}
