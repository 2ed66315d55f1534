package config

import (
	"fmt"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/edge/steering"
	"github.com/streamfront/streamfront/internal/invalidation"
	"github.com/streamfront/streamfront/internal/queue"
	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/packager/transcode"
	"github.com/streamfront/streamfront/web"
)

// These turn the deployment into each role's Config: the only place where
// a key of the file meets a field of a role. Loggers and writers are the
// caller's (cmd/streamfront, internal/stack).

func (f *File) store() store.Config {
	return store.Config{
		Endpoint: f.S3.Endpoint, Region: f.S3.Region, Bucket: f.S3.Bucket,
		AccessKey: string(f.S3.AccessKey), SecretKey: string(f.S3.SecretKey), PathStyle: f.S3.PathStyle,
		PartSize: int64(f.S3.PartSize), UploadConcurrency: f.S3.UploadConcurrency,
	}
}

func (f *File) queue(name string) queue.Config {
	return queue.Config{
		URL: f.Queue.URL, Name: name, Stream: f.Queue.Stream, Replicas: f.Queue.Replicas,
		AckWait: f.Queue.AckWait.D(), MaxDeliver: f.Queue.MaxDeliver,
	}
}

// QueueConfig is the queue as the process called name uses it.
func (f *File) QueueConfig(name string) queue.Config { return f.queue(name) }

// edgeBase is how the deployment's own processes reach an edge.
func (n EdgeNode) edgeBase() string {
	if n.InternalURL != "" {
		return n.InternalURL
	}
	return n.URL
}

// OriginConfig is the origin's part.
func (f *File) OriginConfig() origin.Config {
	o := f.Origin
	cfg := origin.Config{
		Addr: o.Addr, PeerURL: o.PeerURL, S3: f.store(), APIKey: string(f.Secrets.APIKey),
		MediaURL: f.Site.MediaURL, WebURL: f.Site.WebURL,
		MaxUploadBytes: int64(o.MaxUploadSize), ResumableExpiry: o.ResumableExpiry.D(), Queue: f.queue("origin"), PackageSlots: o.PackageSlots,
		SegmentTarget: f.Media.SegmentTarget.D(), WorkDir: f.Media.WorkDir,
		FFmpeg: f.Media.FFmpeg, FFprobe: f.Media.FFprobe, TranscodeTimeout: f.Media.TranscodeTimeout.D(),
		LeaseTTL: o.LeaseTTL.D(), IndexCacheBytes: int64(f.Media.IndexCacheSize),
		EdgeSecret:   string(f.Secrets.EdgeSecret),
		SigningKeyID: f.Secrets.SigningKey.ID, SigningKey: []byte(f.Secrets.SigningKey.Secret),
		SignedURLTTL:        o.SignedURLTTL.D(),
		EdgeAdminToken:      string(f.Secrets.AdminToken),
		InvalidationTimeout: o.InvalidationTimeout.D(), InvalidationRetryFor: o.InvalidationRetryFor.D(),
		Prices: f.Prices,
	}
	for _, n := range f.Edges {
		cfg.Edges = append(cfg.Edges, n.edgeBase())
	}
	if l := f.Live; l.Enabled {
		cfg.Live = &origin.LiveConfig{
			RTMPAddr: l.RTMPAddr, RTMPURL: l.RTMPURL, ReconnectWindow: l.ReconnectWindow.D(),
			RTMPSAddr: l.RTMPSAddr, RTMPSURL: l.RTMPSURL, TLSCertFile: l.TLSCertFile, TLSKeyFile: l.TLSKeyFile,
			LadderRTMPURL: l.LadderRTMPURL,
			PartTarget:    l.PartTarget.D(), SegmentTarget: l.SegmentTarget.D(),
			StandardSegmentTarget: l.StandardSegmentTarget.D(), HostLeaseTTL: l.HostLeaseTTL.D(),
		}
	}
	return cfg
}

// WorkerConfig is a worker's part; name identifies it (empty: host name and
// process ID).
func (f *File) WorkerConfig(name string) origin.WorkerConfig {
	w := f.Worker
	cfg := origin.WorkerConfig{
		Name: name, Addr: w.Addr, S3: f.store(), Queue: f.queue(name),
		MaxEncodes: w.MaxEncodes, Threads: w.Threads, Ladder: []transcode.Rung{},
		SegmentTarget: f.Media.SegmentTarget.D(), WriteAhead: w.WriteAhead, WorkDir: f.Media.WorkDir,
		FFmpeg: f.Media.FFmpeg, FFprobe: f.Media.FFprobe, TranscodeTimeout: f.Media.TranscodeTimeout.D(),
		LiveLadders: w.LiveLadders, LivePreset: w.LivePreset,
	}
	if w.LiveLadders == 0 {
		cfg.LiveLadders = -1 // the file's 0 is none; the Config's 0 is the default
	}
	for _, r := range w.Ladder {
		cfg.Ladder = append(cfg.Ladder, transcode.Rung{Name: r.Name, ShortSide: r.ShortSide, VideoBitrate: int64(r.Bitrate)})
	}
	return cfg
}

// EdgeNode finds an edge of the fleet by name. With no name and a single
// edge, that edge.
func (f *File) EdgeNode(name string) (EdgeNode, error) {
	if name == "" && len(f.Edges) == 1 {
		return f.Edges[0], nil
	}
	names := make([]string, 0, len(f.Edges))
	for _, n := range f.Edges {
		if n.Name == name {
			return n, nil
		}
		names = append(names, n.Name)
	}
	if name == "" {
		return EdgeNode{}, fmt.Errorf("the file lists %d edges %v: say which this is (-name or STREAMFRONT_EDGE_NAME)", len(f.Edges), names)
	}
	return EdgeNode{}, fmt.Errorf("edge %q is not in the file's edges %v", name, names)
}

// EdgeConfig is the part of the edge named name (EdgeNode). An edge not in
// the file gets the shared settings and name alone, as `streamfront edge
// -origin URL` without a file does.
func (f *File) EdgeConfig(n EdgeNode) edge.Config {
	e := f.Edge
	cfg := edge.Config{
		Name: n.Name, Addr: n.Addr, Origin: f.Origin.URL,
		CacheDir: n.CacheDir, MemoryBytes: int64(e.MemorySize), DiskBytes: int64(e.DiskSize),
		SliceSize: int64(e.SliceSize), SlicedPaths: e.SlicedPaths, MaxObjectBytes: int64(e.MaxObjectSize),
		OriginConnectTimeout: e.OriginConnectTimeout.D(), OriginFirstByteTimeout: e.OriginFirstByteTimeout.D(),
		OriginReadTimeout: e.OriginReadTimeout.D(), BlockingReloadTimeout: e.BlockingReloadTimeout.D(),
		DefaultTTL: e.DefaultTTL.D(), MinTTL: e.MinTTL.D(), MaxTTL: e.MaxTTL.D(), NegativeTTL: e.NegativeTTL.D(),
		StaleWhileRevalidate: e.StaleWhileRevalidate.D(), StaleIfError: e.StaleIfError.D(),
		CORSOrigin: e.CORSOrigin, AdminToken: string(f.Secrets.AdminToken),
		OriginSecret:      string(f.Secrets.EdgeSecret),
		ReadHeaderTimeout: e.ReadHeaderTimeout.D(), ReadTimeout: e.ReadTimeout.D(), WriteTimeout: e.WriteTimeout.D(),
		IdleTimeout: e.IdleTimeout.D(), ShutdownTimeout: e.ShutdownTimeout.D(),
		DisableFastPath: !e.FastPath, DisableCacheAll: !e.CacheAll,
		TLSCertFile: n.TLSCert, TLSKeyFile: n.TLSKey,
	}
	if f.Queue.URL != "" {
		// Invalidations missed while down are applied before the disk tier
		// answers again.
		cfg.Invalidations = &invalidation.Follower{Queue: f.queue(n.Name), Edge: n.Name}
	}
	if e.Usage.Enabled && f.Queue.URL != "" { // Check says when queue.url is missing
		// Connects at its first report: an edge serves while NATS is down.
		cfg.UsageSink = &usage.DialQueueSink{Queue: f.queue(n.Name)}
		cfg.UsageInterval = e.Usage.Interval.D()
	}
	for _, sh := range n.Shields {
		if other, err := f.EdgeNode(sh); err == nil {
			cfg.Shields = append(cfg.Shields, other.edgeBase())
		}
	}
	for _, k := range append([]SigningKey{f.Secrets.SigningKey}, f.Secrets.PreviousSigningKeys...) {
		if k.ID == "" && k.Secret == "" {
			continue
		}
		if cfg.SigningKeys == nil {
			cfg.SigningKeys = map[string][]byte{}
		}
		cfg.SigningKeys[k.ID] = []byte(k.Secret)
	}
	if d, ok := f.SiteDistribution(f.Origin.URL); ok {
		cfg.Origin, cfg.DisableCacheAll = "", false
		cfg.Distributions = []edge.Distribution{d}
		return cfg
	}
	if len(f.Distributions) == 0 {
		cfg.Behaviors = behaviors(e.Behaviors)
		return cfg
	}
	cfg.Origin, cfg.DisableCacheAll = "", false
	for _, d := range f.Distributions {
		dist := edge.Distribution{Name: d.Name, Hosts: d.Hosts, DisableCacheAll: d.CacheAll != nil && !*d.CacheAll, Behaviors: behaviors(d.Behaviors)}
		for _, o := range d.Origins {
			eo := edge.Origin{Name: o.Name, URL: o.URL}
			if s := o.S3; s.Bucket != "" {
				eo.S3 = &edge.S3Origin{Bucket: s.Bucket, Region: s.Region, Endpoint: s.Endpoint, Prefix: s.Prefix,
					AccessKey: string(s.AccessKey), SecretKey: string(s.SecretKey)}
				if s.AccessKey == "" {
					eo.S3.AccessKey, eo.S3.SecretKey = string(f.S3.AccessKey), string(f.S3.SecretKey)
				}
				if s.Region == "" {
					eo.S3.Region = f.S3.Region
				}
			}
			dist.Origins = append(dist.Origins, eo)
		}
		cfg.Distributions = append(cfg.Distributions, dist)
	}
	return cfg
}

// SiteDistribution is what every edge serves when web.url is set and no
// distributions are listed: the site and the media as one default
// distribution, so viewers enter at an edge (site.web_url) for both. ok is
// false otherwise. originURL is origin.url (or the edge's -origin flag).
//
// Paths, first match: edge.behaviors (filled from the origin, as without
// web.url); /api/** passed through to the origin on the edge's pooled
// connections (uploads, progress streams, edits: dynamic, never cached);
// /videos/** the video policy from the origin; /admin and /admin/**
// passed through to the site (signed-in pages, whose fills must never
// be shared); every other path cached by RFC 9111 from the site, which
// says how long: fingerprinted static files and the player immutable,
// library and public watch pages s-maxage=10 with
// stale-while-revalidate, purged by the origin when a video changes.
func (f *File) SiteDistribution(originURL string) (edge.Distribution, bool) {
	if f.Web.URL == "" || len(f.Distributions) > 0 {
		return edge.Distribution{}, false
	}
	bs := append(behaviors(f.Edge.Behaviors),
		edge.Behavior{Pattern: "/api/**", Policy: edge.PolicyPass, Origin: "origin"},
		edge.Behavior{Pattern: "/videos/**", Origin: "origin"},
		edge.Behavior{Pattern: "/admin", Policy: edge.PolicyPass, Origin: "web"},
		edge.Behavior{Pattern: "/admin/**", Policy: edge.PolicyPass, Origin: "web"},
		edge.Behavior{Pattern: "/**", Policy: edge.PolicyRFC9111, Origin: "web"},
	)
	return edge.Distribution{
		Name: "site",
		// The origin first: edge.behaviors name no origin and mean it.
		Origins:   []edge.Origin{{Name: "origin", URL: originURL}, {Name: "web", URL: f.Web.URL}},
		Behaviors: bs,
	}, true
}

func behaviors(bs []Behavior) []edge.Behavior {
	var out []edge.Behavior
	for _, b := range bs {
		bh := edge.Behavior{Pattern: b.Pattern, Policy: edge.Policy(b.Policy), Origin: b.Origin,
			DefaultTTL: b.DefaultTTL.D(), MinTTL: b.MinTTL.D(), MaxTTL: b.MaxTTL.D(), NegativeTTL: b.NegativeTTL.D()}
		if b.QueryKeys != nil {
			bh.QueryKeys = append([]string{}, *b.QueryKeys...)
		}
		out = append(out, bh)
	}
	return out
}

// RouterConfig is the router's part: it steers viewers to every edge of
// the file.
func (f *File) RouterConfig() steering.Config {
	r := f.Router
	cfg := steering.Config{
		Addr: r.Addr, HealthCheckInterval: r.HealthCheckInterval.D(), HealthCheckTimeout: r.HealthCheckTimeout.D(),
		FailAfter: r.FailAfter, RecoverAfter: r.RecoverAfter, LatencyProbeInterval: r.LatencyProbeInterval.D(),
		RTTWeight: r.RTTWeight, SteeringTTL: r.SteeringTTL.D(), SwitchMargin: r.SwitchMargin.D(),
		MasterCacheTTL: r.MasterCacheTTL.D(), MasterCacheEntries: r.MasterCacheEntries,
		MaxMasterBytes: int64(r.MaxMasterSize), EdgeConnectTimeout: r.EdgeConnectTimeout.D(),
		EdgeFetchTimeout: r.EdgeFetchTimeout.D(), CORSOrigin: r.CORSOrigin,
		ReadHeaderTimeout: r.ReadHeaderTimeout.D(), ReadTimeout: r.ReadTimeout.D(), WriteTimeout: r.WriteTimeout.D(),
		IdleTimeout: r.IdleTimeout.D(), ShutdownTimeout: r.ShutdownTimeout.D(),
	}
	for _, n := range f.Edges {
		cfg.Edges = append(cfg.Edges, steering.Edge{Name: n.Name, URL: n.URL, InternalURL: n.InternalURL})
	}
	return cfg
}

// RouterInternalURL is how other roles reach the router: router.internal_url,
// or else its public URL, site.media_url.
func (f *File) RouterInternalURL() string {
	if f.Router.InternalURL != "" {
		return f.Router.InternalURL
	}
	return f.Site.MediaURL
}

// WebConfig is the site's part.
func (f *File) WebConfig() web.Config {
	cfg := web.Config{Addr: f.Web.Addr, APIURL: f.Origin.URL, PublicURL: f.Site.WebURL, RouterURL: f.RouterInternalURL(), SiteName: f.Site.Name}
	if f.Web.ShowAPIKey {
		cfg.DevAPIKey = string(f.Secrets.APIKey)
	}
	return cfg
}
