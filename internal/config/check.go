package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/internal/urlsign"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/packager/transcode"
)

// Roles are the parts of a deployment Check can check.
func Roles() []string { return []string{"origin", "worker", "edge", "router", "web"} }

// validate checks what must hold whichever role reads the file.
func (l *Loaded) validate() error {
	var ps Problems
	add := func(key, format string, args ...any) { ps = append(ps, l.problem(key, format, args...)) }
	f := l.File

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, strings.ToLower(f.LogLevel)) {
		add("log_level", "%q is not a log level: debug, info, warn or error", f.LogLevel)
	}
	for key, u := range map[string]string{
		"site.web_url": f.Site.WebURL, "site.media_url": f.Site.MediaURL,
		"origin.url": f.Origin.URL, "s3.endpoint": f.S3.Endpoint, "router.internal_url": f.Router.InternalURL,
		"web.url": f.Web.URL,
	} {
		if u != "" && !httpURL(u) {
			add(key, "%q must be an absolute http(s) URL, e.g. http://localhost:8090", u)
		}
	}
	if f.S3.Bucket == "" {
		add("s3.bucket", "is required")
	}
	if (f.S3.AccessKey == "") != (f.S3.SecretKey == "") {
		add("s3.secret_key", "access_key and secret_key go together (both empty use the AWS default credential chain)")
	}

	l.validateSigning(add)
	l.validateEdges(add)
	l.validateLive(add)
	l.validateDistributions(add)
	if f.Web.URL != "" && len(f.Distributions) > 0 {
		add("web.url", "serves the site through the edges' one distribution, but distributions are listed: "+
			"leave web.url empty and give a distribution the site's origins and behaviours (README, Distributions)")
	}

	names := map[string]bool{}
	for i, r := range f.Worker.Ladder {
		key := fmt.Sprintf("worker.ladder[%d]", i)
		tr := transcode.Rung{Name: r.Name, ShortSide: r.ShortSide, VideoBitrate: int64(r.Bitrate)}
		if err := tr.Check(); err != nil {
			add(key, "%v", err)
		}
		if names[r.Name] {
			add(key+".name", "%q is used twice", r.Name)
		}
		names[r.Name] = true
	}
	for key, n := range map[string]int{
		"origin.package_slots": f.Origin.PackageSlots, "worker.max_encodes": f.Worker.MaxEncodes,
		"router.fail_after": f.Router.FailAfter, "router.recover_after": f.Router.RecoverAfter,
		"router.master_cache_entries": f.Router.MasterCacheEntries, "queue.replicas": f.Queue.Replicas,
		"queue.max_deliver": f.Queue.MaxDeliver, "s3.upload_concurrency": f.S3.UploadConcurrency,
	} {
		if n < 1 {
			add(key, "%d must be at least 1", n)
		}
	}
	if p := f.Worker.LivePreset; p != "" && !slices.Contains(x264Presets(), p) {
		add("worker.live_preset", "%q is not an x264 preset; use one of %s", p, strings.Join(x264Presets(), ", "))
	}
	for key, n := range map[string]int{"worker.threads": f.Worker.Threads, "local.workers": f.Local.Workers,
		"worker.live_ladders": f.Worker.LiveLadders} {
		if n < 0 {
			add(key, "%d must not be negative", n)
		}
	}
	if f.Router.RTTWeight <= 0 || f.Router.RTTWeight > 1 {
		add("router.rtt_weight", "%v must be above 0 and at most 1", f.Router.RTTWeight)
	}
	if f.S3.PartSize < 5<<20 {
		add("s3.part_size", "%v is below S3's smallest multipart part, 5MiB", f.S3.PartSize)
	}
	for key, d := range map[string]Duration{
		"media.segment_target": f.Media.SegmentTarget, "queue.ack_wait": f.Queue.AckWait,
		"origin.lease_ttl": f.Origin.LeaseTTL, "router.steering_ttl": f.Router.SteeringTTL,
		"origin.resumable_expiry": f.Origin.ResumableExpiry,
	} {
		if d <= 0 {
			add(key, "must be more than 0")
		}
	}
	p := f.Prices
	for key, v := range map[string]float64{"prices.per_10k_requests": p.Per10kRequests, "prices.per_invalidation_path": p.PerInvalidationPath,
		"prices.per_1k_minutes_stored": p.Per1kMinutesStored, "prices.per_1k_minutes_delivered": p.Per1kMinutesDelivered} {
		if v < 0 {
			add(key, "%v must not be negative", v)
		}
	}
	for i, t := range p.Transfer {
		key := fmt.Sprintf("prices.transfer[%d]", i)
		if t.PerGB < 0 || t.UpToGB < 0 {
			add(key, "prices and volumes must not be negative")
		}
		if i > 0 && t.UpToGB != 0 && t.UpToGB <= p.Transfer[i-1].UpToGB {
			add(key+".up_to_gb", "%v must be above the tier before it (%v); 0 means no end and comes last", t.UpToGB, p.Transfer[i-1].UpToGB)
		}
		if t.UpToGB == 0 && i != len(p.Transfer)-1 {
			add(key+".up_to_gb", "only the last tier may be without end (0)")
		}
	}
	if f.Edge.Usage.Enabled && f.Edge.Usage.Interval <= 0 {
		add("edge.usage.interval", "must be more than 0 (how often edges report usage)")
	}
	if f.Edge.Usage.Enabled {
		for i, n := range f.Edges {
			if !usage.ValidName(n.Name) {
				add(fmt.Sprintf("edges[%d].name", i), "%q must be 1-64 of A-Z a-z 0-9 . _ - to meter usage (or set edge.usage.enabled: false)", n.Name)
			}
		}
	}
	if f.Edge.MaxTTL < f.Edge.MinTTL {
		add("edge.max_ttl", "%v is below edge.min_ttl %v", f.Edge.MaxTTL.D(), f.Edge.MinTTL.D())
	}
	if f.Edge.SliceSize < 64<<10 || f.Edge.SliceSize > 64<<20 {
		add("edge.slice_size", "must be from 64KiB to 64MiB")
	}
	for i, p := range f.Edge.SlicedPaths {
		if !strings.HasPrefix(p, "/") {
			add(fmt.Sprintf("edge.sliced_paths[%d]", i), "pattern %q must start with /", p)
		}
	}
	for i, b := range f.Edge.Behaviors {
		key := fmt.Sprintf("edge.behaviors[%d]", i)
		if !strings.HasPrefix(b.Pattern, "/") {
			add(key+".pattern", "pattern %q must start with /", b.Pattern)
		}
		if b.MaxTTL != 0 && b.MaxTTL < b.MinTTL {
			add(key+".max_ttl", "%v is below min_ttl %v", b.MaxTTL.D(), b.MinTTL.D())
		}
		checkPolicy(add, key, b.Policy)
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

func (l *Loaded) validateLive(add func(string, string, ...any)) {
	lv := l.File.Live
	if !lv.Enabled {
		return
	}
	if lv.RTMPAddr == "" {
		add("live.rtmp_addr", "is required with live.enabled (e.g. :1935)")
	}
	if lv.RTMPURL != "" {
		if u, err := url.Parse(lv.RTMPURL); err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
			add("live.rtmp_url", "%q must be an rtmp:// URL, e.g. rtmp://live.example.com/live", lv.RTMPURL)
		}
	}
	if lv.LadderRTMPURL != "" {
		if u, err := url.Parse(lv.LadderRTMPURL); err != nil || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || u.Host == "" {
			add("live.ladder_rtmp_url", "%q must be an rtmp:// URL naming this origin as workers reach it, e.g. rtmp://origin-1.internal:1935/live", lv.LadderRTMPURL)
		}
	}
	if lv.RTMPSAddr != "" {
		if lv.TLSCertFile == "" || lv.TLSKeyFile == "" {
			add("live.rtmps_addr", "needs live.tls_cert_file and live.tls_key_file (the PEM certificate broadcasters see, and its key)")
		}
	} else if lv.TLSCertFile != "" || lv.TLSKeyFile != "" || lv.RTMPSURL != "" {
		add("live.rtmps_addr", "is not set, so live.tls_cert_file, live.tls_key_file and live.rtmps_url do nothing: set it (e.g. :1936) to take RTMPS")
	}
	if lv.RTMPSURL != "" {
		if u, err := url.Parse(lv.RTMPSURL); err != nil || u.Scheme != "rtmps" || u.Host == "" {
			add("live.rtmps_url", "%q must be an rtmps:// URL, e.g. rtmps://live.example.com/live", lv.RTMPSURL)
		}
	}
	for key, d := range map[string]Duration{
		"live.reconnect_window": lv.ReconnectWindow, "live.part_target": lv.PartTarget,
		"live.segment_target": lv.SegmentTarget, "live.standard_segment_target": lv.StandardSegmentTarget,
		"live.host_lease_ttl": lv.HostLeaseTTL,
	} {
		if d <= 0 {
			add(key, "must be more than 0")
		}
	}
	if lv.PartTarget > 0 && lv.PartTarget >= lv.SegmentTarget {
		add("live.part_target", "%v must be shorter than live.segment_target %v (a segment is made of parts)", lv.PartTarget.D(), lv.SegmentTarget.D())
	}
}

func (l *Loaded) validateSigning(add func(string, string, ...any)) {
	s := l.Secrets
	ids := map[string]bool{}
	for i, k := range append([]SigningKey{s.SigningKey}, s.PreviousSigningKeys...) {
		key := "secrets.signing_key"
		if i > 0 {
			key = fmt.Sprintf("secrets.previous_signing_keys[%d]", i-1)
		}
		if i == 0 && k.ID == "" && k.Secret == "" {
			continue // private videos get unsigned URLs, which edges refuse
		}
		if err := urlsign.CheckKey(k.ID, []byte(k.Secret)); err != nil {
			add(key, "%v", err)
		}
		if ids[k.ID] {
			add(key+".id", "%q is used twice", k.ID)
		}
		ids[k.ID] = true
	}
}

func (l *Loaded) validateEdges(add func(string, string, ...any)) {
	names, urls := map[string]bool{}, map[string]bool{}
	for _, n := range l.Edges {
		names[n.Name] = true
	}
	seen := map[string]bool{}
	for i, n := range l.Edges {
		key := fmt.Sprintf("edges[%d]", i)
		if !pathwayID(n.Name) {
			add(key+".name", "%q must be 1 to 64 letters, digits, '.', '-' or '_' (it is the HLS pathway ID and X-Edge)", n.Name)
		} else if seen[n.Name] {
			add(key+".name", "%q is used twice", n.Name)
		}
		seen[n.Name] = true
		switch {
		case n.URL == "":
			add(key+".url", "is required: how viewers reach this edge")
		case !httpURL(n.URL):
			add(key+".url", "%q must be an absolute http(s) URL", n.URL)
		case urls[n.URL]:
			add(key+".url", "%q is used twice", n.URL)
		}
		urls[n.URL] = true
		if n.InternalURL != "" && !httpURL(n.InternalURL) {
			add(key+".internal_url", "%q must be an absolute http(s) URL", n.InternalURL)
		}
		for j, sh := range n.Shields {
			switch {
			case sh == n.Name:
				add(fmt.Sprintf("%s.shields[%d]", key, j), "an edge cannot be its own shield")
			case !names[sh]:
				add(fmt.Sprintf("%s.shields[%d]", key, j), "%q is not the name of an edge in edges", sh)
			}
		}
		if (n.TLSCert == "") != (n.TLSKey == "") {
			add(key+".tls_key", "tls_cert and tls_key go together")
		}
	}
}

// Check says what stops the given roles (all of Roles() when none) from
// starting with this deployment: every problem, each at its key. It runs
// each role's own check too, without connecting to anything.
func (l *Loaded) Check(roles ...string) error {
	if len(roles) == 0 {
		roles = Roles()
	}
	var ps Problems
	add := func(key, format string, args ...any) { ps = append(ps, l.problem(key, format, args...)) }
	var vps Problems
	if errors.As(l.validate(), &vps) {
		ps = append(ps, vps...)
	}
	f := l.File
	need := func(role, key, value, why string) {
		if value == "" {
			add(key, "is required by the %s: %s", role, why)
		}
	}
	for _, role := range roles {
		switch role {
		case "origin":
			need(role, "secrets.api_key", string(f.Secrets.APIKey), "it authorises uploads (or set STREAMFRONT_API_KEY)")
			need(role, "site.web_url", f.Site.WebURL, "the site's public URL, for page_url")
			need(role, "site.media_url", f.Site.MediaURL, "viewers' entry for media (the router), the base of hls_url")
			need(role, "queue.url", f.Queue.URL, "the NATS server that carries jobs")
			if len(f.Edges) > 0 {
				need(role, "secrets.admin_token", string(f.Secrets.AdminToken), "it invalidates the edges' caches (or set STREAMFRONT_ADMIN_TOKEN)")
			}
		case "worker":
			need(role, "queue.url", f.Queue.URL, "the NATS server it takes encodes from")
		case "edge":
			need(role, "origin.url", f.Origin.URL, "the origin the edges fill from")
			if f.Edge.Usage.Enabled {
				need(role, "queue.url", f.Queue.URL, "edges report usage through it (or set edge.usage.enabled: false)")
			}
		case "router":
			if len(f.Edges) == 0 {
				add("edges", "the router needs at least one edge to send viewers to")
			}
		case "web":
			need(role, "origin.url", f.Origin.URL, "the site reads the API there")
		default:
			ps = append(ps, Problem{File: l.Path, Msg: fmt.Sprintf("unknown role %q (roles: %s)", role, strings.Join(Roles(), ", "))})
		}
	}
	if len(ps) > 0 {
		return ps
	}
	// The roles' own checks, as a last net: the file's checks above say
	// where a mistake is, these only which role refuses.
	for _, role := range roles {
		var err error
		switch role {
		case "origin":
			err = f.OriginConfig().Check()
		case "edge":
			for _, n := range f.Edges {
				if err = f.EdgeConfig(n).Check(); err != nil {
					break
				}
			}
		case "router":
			err = f.RouterConfig().Check()
		}
		if err != nil {
			ps = append(ps, Problem{File: l.Path, Msg: fmt.Sprintf("the %s refuses it: %v", role, err)})
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

func (l *Loaded) validateDistributions(add func(string, string, ...any)) {
	names, hosts := map[string]bool{}, map[string]string{}
	def := ""
	for i, d := range l.Distributions {
		key := fmt.Sprintf("distributions[%d]", i)
		if !pathwayID(d.Name) {
			add(key+".name", "%q must be 1 to 64 letters, digits, '.', '-' or '_'", d.Name)
		} else if names[d.Name] {
			add(key+".name", "%q is used twice", d.Name)
		}
		names[d.Name] = true
		if len(d.Hosts) == 0 {
			if def != "" {
				add(key+".hosts", "is empty, as is %s's: only one distribution can be the default (the one without hosts)", def)
			}
			def = d.Name
		}
		for j, h := range d.Hosts {
			hk := fmt.Sprintf("%s.hosts[%d]", key, j)
			switch {
			case h == "" || strings.ContainsAny(h, ":/ "):
				add(hk, "%q must be a host name without scheme or port, e.g. www.example.com", h)
			case hosts[strings.ToLower(h)] != "":
				add(hk, "%q is already distribution %s's", h, hosts[strings.ToLower(h)])
			}
			hosts[strings.ToLower(h)] = d.Name
		}
		if len(d.Origins) == 0 {
			add(key+".origins", "needs at least one origin (url: an HTTP server, or s3: a bucket)")
		}
		origins := map[string]bool{}
		for j, o := range d.Origins {
			ok := fmt.Sprintf("%s.origins[%d]", key, j)
			if o.Name == "" {
				add(ok+".name", "is required: behaviours name their origin by it")
			} else if origins[o.Name] {
				add(ok+".name", "%q is used twice", o.Name)
			}
			origins[o.Name] = true
			switch {
			case o.URL != "" && o.S3.Bucket != "":
				add(ok, "has both url and s3: an origin is one or the other")
			case o.URL == "" && o.S3.Bucket == "":
				add(ok, "needs url (an HTTP server) or s3.bucket (a bucket read with SigV4)")
			case o.URL != "" && !httpURL(o.URL):
				add(ok+".url", "%q must be an absolute http(s) URL", o.URL)
			case o.S3.Endpoint != "" && !httpURL(o.S3.Endpoint):
				add(ok+".s3.endpoint", "%q must be an absolute http(s) URL", o.S3.Endpoint)
			case o.S3.Bucket != "" && (o.S3.AccessKey == "") != (o.S3.SecretKey == ""):
				add(ok+".s3.secret_key", "access_key and secret_key go together (both left out take s3's)")
			case o.S3.Bucket != "" && o.S3.AccessKey == "" && l.S3.AccessKey == "":
				add(ok+".s3.access_key", "is required, here or in s3.access_key: the edge signs its reads of the bucket with it")
			}
		}
		for j, b := range d.Behaviors {
			bk := fmt.Sprintf("%s.behaviors[%d]", key, j)
			if !strings.HasPrefix(b.Pattern, "/") {
				add(bk+".pattern", "pattern %q must start with /", b.Pattern)
			}
			if b.MaxTTL != 0 && b.MaxTTL < b.MinTTL {
				add(bk+".max_ttl", "%v is below min_ttl %v", b.MaxTTL.D(), b.MinTTL.D())
			}
			checkPolicy(add, bk, b.Policy)
			if b.Origin != "" && !origins[b.Origin] {
				add(bk+".origin", "%q is not one of this distribution's origins", b.Origin)
			}
		}
	}
}

// checkPolicy reports a behaviour's policy that the edge does not know.
func checkPolicy(add func(string, string, ...any), key, policy string) {
	switch edge.Policy(policy) {
	case "", edge.PolicyVideos, edge.PolicyRFC9111, edge.PolicyPass:
	default:
		add(key+".policy", "%q is not a caching policy: videos (Streamfront's video delivery), rfc9111 (cache by the origin's headers) or pass (never cache)", policy)
	}
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// pathwayID is the Content Steering specification's rule for pathway IDs.
func pathwayID(s string) bool {
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

// x264Presets are the presets libx264 knows, fastest first.
func x264Presets() []string {
	return []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}
}
