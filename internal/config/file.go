package config

import "github.com/streamfront/streamfront/internal/usage"

// File is a deployment: what every role reads. Keys are snake_case; a key
// left out takes the default written beside it (Default holds them all).
type File struct {
	// LogLevel is debug, info, warn or error.
	LogLevel string  `yaml:"log_level"`
	S3       S3      `yaml:"s3"`
	Queue    Queue   `yaml:"queue"`
	Secrets  Secrets `yaml:"secrets"`
	Site     Site    `yaml:"site"`
	Media    Media   `yaml:"media"`
	Origin   Origin  `yaml:"origin"`
	Live     Live    `yaml:"live"`
	Worker   Worker  `yaml:"worker"`
	// Edge holds the settings every edge shares; Edges lists the edges.
	Edge  Edge       `yaml:"edge"`
	Edges []EdgeNode `yaml:"edges"`
	// Distributions are the sites every edge serves, chosen by Host (as
	// CloudFront's). Left out, an edge serves one: the site (web.url) and
	// origin.url, or origin.url alone, with edge.behaviors (and
	// edge.cache_all without web.url: on unless false).
	Distributions []Distribution `yaml:"distributions"`
	Router        Router         `yaml:"router"`
	Web           Web            `yaml:"web"`
	NATS          NATS           `yaml:"nats"`
	Local         Local          `yaml:"local"`
	// Prices price usage in GET /api/v1/usage's estimate: CloudFront-like
	// transfer tiers, requests and invalidations, and a per-minute plan.
	Prices usage.Prices `yaml:"prices"`
}

// S3 is where everything is stored (store.Config).
type S3 struct {
	// Endpoint is the S3 base URL; empty means AWS. `streamfront all`
	// runs its own S3 server there.
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	Bucket   string `yaml:"bucket"`
	// AccessKey and SecretKey are static credentials; both empty use the
	// AWS default chain (environment, profile, instance role).
	AccessKey Secret `yaml:"access_key"`
	SecretKey Secret `yaml:"secret_key"`
	// PathStyle addresses buckets as endpoint/bucket (MinIO, versitygw).
	PathStyle bool `yaml:"path_style"`
	// PartSize and UploadConcurrency bound one upload's memory:
	// PartSize × (UploadConcurrency+1).
	PartSize          Size `yaml:"part_size"`
	UploadConcurrency int  `yaml:"upload_concurrency"`
}

// Queue is the job queue, NATS JetStream (queue.Config). Every origin and
// worker must agree on it, which is why it is written once here.
type Queue struct {
	// URL is the NATS server or cluster (comma-separated). `streamfront
	// all` runs its own NATS server there.
	URL      string `yaml:"url"`
	Stream   string `yaml:"stream"`
	Replicas int    `yaml:"replicas"`
	// AckWait is how long a job whose process died waits for another.
	AckWait    Duration `yaml:"ack_wait"`
	MaxDeliver int      `yaml:"max_deliver"`
}

// Secrets holds each secret once, by the name every role knows it by.
type Secrets struct {
	// APIKey authorises uploads and edits (Authorization: Bearer).
	APIKey Secret `yaml:"api_key"`
	// EdgeSecret is shared by the origin and the edges: edges sign their
	// requests with it and the origin serves media to nobody else. Empty
	// serves media to anyone.
	EdgeSecret Secret `yaml:"edge_secret"`
	// AdminToken guards the edges' invalidation API, which the origin
	// calls. Required with more than zero edges.
	AdminToken Secret `yaml:"admin_token"`
	// SigningKey signs private videos' URLs at the origin and verifies
	// them at the edges; PreviousSigningKeys are still verified by the
	// edges while their tokens live (key rotation).
	SigningKey          SigningKey   `yaml:"signing_key"`
	PreviousSigningKeys []SigningKey `yaml:"previous_signing_keys"`
}

// SigningKey is one URL-signing key.
type SigningKey struct {
	ID     string `yaml:"id"`
	Secret Secret `yaml:"secret"`
}

// Site is the public face of the deployment.
type Site struct {
	// WebURL is the site's public URL (page_url, canonical links).
	WebURL string `yaml:"web_url"`
	// MediaURL is the viewers' entry for media: the router (or one edge),
	// the base of every hls_url and mp4_url.
	MediaURL string `yaml:"media_url"`
	// Name is shown in titles and link previews.
	Name string `yaml:"name"`
}

// Media is shared by origins and workers, which must agree on it.
type Media struct {
	SegmentTarget    Duration `yaml:"segment_target"`
	WorkDir          string   `yaml:"work_dir"`
	FFmpeg           string   `yaml:"ffmpeg"`
	FFprobe          string   `yaml:"ffprobe"`
	TranscodeTimeout Duration `yaml:"transcode_timeout"`
	// IndexCacheSize bounds the sample indexes an origin keeps in memory.
	IndexCacheSize Size `yaml:"index_cache_size"`
}

// Origin is the upload API and the origin the edges pull from.
type Origin struct {
	Addr string `yaml:"addr"`
	// URL is how edges and the site reach the origin.
	URL string `yaml:"url"`
	// PeerURL is one origin process's own URL as the other origins reach
	// it, when several run behind URL: a live viewer's request that
	// reaches an origin not hosting the broadcast is forwarded to the
	// host's. Empty: the listen address when it names one.
	PeerURL       string `yaml:"peer_url"`
	MaxUploadSize Size   `yaml:"max_upload_size"`
	// ResumableExpiry is how long a resumable (tus) upload may take.
	ResumableExpiry      Duration `yaml:"resumable_expiry"`
	PackageSlots         int      `yaml:"package_slots"`
	LeaseTTL             Duration `yaml:"lease_ttl"`
	SignedURLTTL         Duration `yaml:"signed_url_ttl"`
	InvalidationTimeout  Duration `yaml:"invalidation_timeout"`
	InvalidationRetryFor Duration `yaml:"invalidation_retry_for"`
}

// Live is live streaming, run by the origin (origin.LiveConfig): RTMP in,
// HLS out under the media URLs, every broadcast recorded as a video.
type Live struct {
	// Enabled turns it on; off, /api/v1/live answers 404.
	Enabled bool `yaml:"enabled"`
	// RTMPAddr is where encoders (OBS, ffmpeg) connect.
	RTMPAddr string `yaml:"rtmp_addr"`
	// RTMPURL is the base of the rtmp_url broadcasters are given, as they
	// reach the origin (e.g. rtmp://live.example.com/live); empty derives
	// rtmp://localhost:PORT/live from rtmp_addr.
	RTMPURL string `yaml:"rtmp_url"`
	// RTMPSAddr, when set, also takes encoders over RTMPS (RTMP in TLS,
	// e.g. :443 or :1936) with the PEM certificate and key in
	// TLSCertFile and TLSKeyFile, read again when they change (renewals
	// need no restart). RTMPSURL is the base of the rtmps_url
	// broadcasters are given; empty derives rtmps://localhost:PORT/live.
	RTMPSAddr   string `yaml:"rtmps_addr"`
	RTMPSURL    string `yaml:"rtmps_url"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// LadderRTMPURL is this origin's RTMP ingest as workers reach it, for
	// the live ladders of the broadcasts it hosts (workers read the source
	// there and publish the rungs back); it must name this origin, not a
	// balancer in front of several. Empty takes rtmp_url.
	LadderRTMPURL string `yaml:"ladder_rtmp_url"`
	// ReconnectWindow is how long a broadcast waits for its encoder to
	// come back before it ends and its recording becomes a video.
	ReconnectWindow Duration `yaml:"reconnect_window"`
	// PartTarget is the low-latency part duration (players buffer about
	// three); SegmentTarget and StandardSegmentTarget the minimum segment
	// durations of low-latency and standard streams (players of standard
	// streams stay three segments behind, so it sets their latency).
	PartTarget            Duration `yaml:"part_target"`
	SegmentTarget         Duration `yaml:"segment_target"`
	StandardSegmentTarget Duration `yaml:"standard_segment_target"`
	// HostLeaseTTL is how long a broadcast whose origin stopped renewing
	// its lease (killed, cut off) runs before another origin ends it and
	// makes its recording.
	HostLeaseTTL Duration `yaml:"host_lease_ttl"`
}

// Worker is every encoding worker's settings.
type Worker struct {
	// Addr serves /metrics and /healthz; "-" serves nothing.
	Addr       string `yaml:"addr"`
	MaxEncodes int    `yaml:"max_encodes"`
	// Threads of each ffmpeg run; 0 lets ffmpeg choose.
	Threads int `yaml:"threads"`
	// Ladder is the ABR ladder below the source; an empty list encodes
	// none, leaving it out takes 1080p/720p/480p/360p. Live ladders take
	// their rungs from it too.
	Ladder     []Rung `yaml:"ladder"`
	WriteAhead bool   `yaml:"write_ahead"`
	// LiveLadders is how many live streams' ladders the worker encodes at
	// once, beside max_encodes (each runs as long as its broadcast); 0
	// takes none. LivePreset is x264's preset for them (they must keep up
	// with real time).
	LiveLadders int    `yaml:"live_ladders"`
	LivePreset  string `yaml:"live_preset"`
}

// Rung is one rendition of the ladder.
type Rung struct {
	Name      string  `yaml:"name"`
	ShortSide int     `yaml:"short_side"`
	Bitrate   Bitrate `yaml:"bitrate"`
}

// Edge is what every edge shares (edge.Config).
type Edge struct {
	MemorySize    Size     `yaml:"memory_size"`
	DiskSize      Size     `yaml:"disk_size"`
	SliceSize     Size     `yaml:"slice_size"`
	SlicedPaths   []string `yaml:"sliced_paths"`
	MaxObjectSize Size     `yaml:"max_object_size"`

	OriginConnectTimeout   Duration `yaml:"origin_connect_timeout"`
	OriginFirstByteTimeout Duration `yaml:"origin_first_byte_timeout"`
	OriginReadTimeout      Duration `yaml:"origin_read_timeout"`
	// BlockingReloadTimeout is how long an edge waits for the origin's
	// answer to a live blocking playlist reload (_HLS_msn), which the
	// origin holds until the part exists; below write_timeout. Unset: the
	// edge's default (20s, or two thirds of a shorter write_timeout).
	BlockingReloadTimeout Duration `yaml:"blocking_reload_timeout"`

	DefaultTTL           Duration    `yaml:"default_ttl"`
	MinTTL               Duration    `yaml:"min_ttl"`
	MaxTTL               Duration    `yaml:"max_ttl"`
	NegativeTTL          Duration    `yaml:"negative_ttl"`
	StaleWhileRevalidate Duration    `yaml:"stale_while_revalidate"`
	StaleIfError         OptDuration `yaml:"stale_if_error"`
	// CacheAll caches every path by RFC 9111, not only /videos/ (which
	// keeps the video policy); behaviors may still set another policy.
	// On by default; false passes other paths through uncached.
	CacheAll bool `yaml:"cache_all"`
	// Behaviors override the policy, the TTLs and the cache key by path
	// (first match).
	Behaviors []Behavior `yaml:"behaviors"`

	CORSOrigin string `yaml:"cors_origin"`
	// FastPath answers memory hits on HTTP/1.1 without net/http.
	FastPath bool `yaml:"fast_path"`

	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	ReadTimeout       Duration `yaml:"read_timeout"`
	WriteTimeout      Duration `yaml:"write_timeout"`
	IdleTimeout       Duration `yaml:"idle_timeout"`
	ShutdownTimeout   Duration `yaml:"shutdown_timeout"`

	// Usage is the edges' delivery metering (GET /api/v1/usage).
	Usage EdgeUsage `yaml:"usage"`
}

// EdgeUsage is how edges meter what they deliver (edge.Config.UsageSink,
// UsageInterval).
type EdgeUsage struct {
	// Enabled makes every edge count its deliveries (per video, hour,
	// kind, cache result) and report them through the queue (queue.url)
	// to the origin.
	Enabled bool `yaml:"enabled"`
	// Interval is how often an edge reports: a kill -9 loses at most the
	// counts of the last interval; a graceful stop loses nothing.
	Interval Duration `yaml:"interval"`
}

// Behavior is edge.Behavior: zero TTLs take the edge's.
type Behavior struct {
	Pattern string `yaml:"pattern"`
	// Policy is videos, rfc9111 or pass; empty takes the path's default
	// (videos under /videos/, else rfc9111, or pass with cache_all: false).
	Policy string `yaml:"policy"`
	// Origin names the distribution's origin for these paths (in
	// distributions only); empty takes its first.
	Origin      string   `yaml:"origin"`
	DefaultTTL  Duration `yaml:"default_ttl"`
	MinTTL      Duration `yaml:"min_ttl"`
	MaxTTL      Duration `yaml:"max_ttl"`
	NegativeTTL Duration `yaml:"negative_ttl"`
	// QueryKeys are the query parameters in the cache key; left out keeps
	// the whole query, an empty list ignores it.
	QueryKeys *[]string `yaml:"query_keys"`
}

// Distribution is edge.Distribution.
type Distribution struct {
	Name string `yaml:"name"`
	// Hosts select it; none makes it the default (at most one).
	Hosts []string `yaml:"hosts"`
	// CacheAll is edge.cache_all for this distribution; left out, true.
	CacheAll *bool `yaml:"cache_all"`
	// Origins: the first is the origin of paths no behaviour names one for.
	Origins   []DistOrigin `yaml:"origins"`
	Behaviors []Behavior   `yaml:"behaviors"`
}

// DistOrigin is one origin of a distribution: url, or s3.
type DistOrigin struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	S3   DistS3 `yaml:"s3"`
}

// DistS3 is a bucket read with SigV4; keys left out take s3's.
type DistS3 struct {
	Bucket    string `yaml:"bucket"`
	Region    string `yaml:"region"`
	Endpoint  string `yaml:"endpoint"`
	Prefix    string `yaml:"prefix"`
	AccessKey Secret `yaml:"access_key"`
	SecretKey Secret `yaml:"secret_key"`
}

// EdgeNode is one edge of the fleet: the origin invalidates it, the router
// steers viewers to it, other edges may use it as their shield.
type EdgeNode struct {
	// Name is its identity (X-Edge, the HLS pathway ID).
	Name string `yaml:"name"`
	// URL is how viewers reach it.
	URL string `yaml:"url"`
	// InternalURL is how the origin, the router and other edges reach it,
	// when not by URL (containers, private networks).
	InternalURL string `yaml:"internal_url"`
	Addr        string `yaml:"addr"`
	// CacheDir is its disk tier; empty keeps memory only (`streamfront
	// all` puts it under local.data_dir).
	CacheDir string `yaml:"cache_dir"`
	// Shields are names of other edges it fills from (a mid tier).
	Shields []string `yaml:"shields"`
	// TLSCert and TLSKey make it serve HTTPS with HTTP/2.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// AccessLog is a file of JSON lines, "-" for standard output.
	AccessLog string `yaml:"access_log"`
}

// Router steers each viewer to the nearest healthy edge (steering.Config);
// its public URL is site.media_url.
type Router struct {
	Addr string `yaml:"addr"`
	// InternalURL is how the site reaches the router (its dashboard reads
	// GET /edges), when not by site.media_url (containers).
	InternalURL          string      `yaml:"internal_url"`
	HealthCheckInterval  Duration    `yaml:"health_check_interval"`
	HealthCheckTimeout   Duration    `yaml:"health_check_timeout"`
	FailAfter            int         `yaml:"fail_after"`
	RecoverAfter         int         `yaml:"recover_after"`
	LatencyProbeInterval OptDuration `yaml:"latency_probe_interval"`
	RTTWeight            float64     `yaml:"rtt_weight"`
	SteeringTTL          Duration    `yaml:"steering_ttl"`
	SwitchMargin         OptDuration `yaml:"switch_margin"`
	MasterCacheTTL       Duration    `yaml:"master_cache_ttl"`
	MasterCacheEntries   int         `yaml:"master_cache_entries"`
	MaxMasterSize        Size        `yaml:"max_master_size"`
	EdgeConnectTimeout   Duration    `yaml:"edge_connect_timeout"`
	EdgeFetchTimeout     Duration    `yaml:"edge_fetch_timeout"`
	CORSOrigin           string      `yaml:"cors_origin"`
	ReadHeaderTimeout    Duration    `yaml:"read_header_timeout"`
	ReadTimeout          Duration    `yaml:"read_timeout"`
	WriteTimeout         Duration    `yaml:"write_timeout"`
	IdleTimeout          Duration    `yaml:"idle_timeout"`
	ShutdownTimeout      Duration    `yaml:"shutdown_timeout"`
}

// Web is the site (web.Config); its public URL is site.web_url.
type Web struct {
	Addr string `yaml:"addr"`
	// URL is how edges reach the site. Set (and without distributions),
	// every edge serves the site besides media: its pages, static files
	// and player by their own Cache-Control, /api/ passed through to
	// origin.url, /admin uncached (SiteDistribution), so viewers enter at
	// an edge and site.web_url is an edge's URL. Empty: edges serve
	// origin.url alone. `streamfront all` fills it with its web listener.
	URL string `yaml:"url"`
	// ShowAPIKey pre-fills the upload page's API key field: for a laptop
	// only, never on a public site.
	ShowAPIKey bool `yaml:"show_api_key"`
}

// NATS is the `streamfront nats` role: one NATS server with JetStream.
type NATS struct {
	Addr     string `yaml:"addr"`
	StoreDir string `yaml:"store_dir"`
}

// Local is `streamfront all` (make run): every role in one process, with
// its own S3 server at s3.endpoint and NATS server at queue.url.
type Local struct {
	// DataDir holds S3's data, the queue and edge caches without a
	// cache_dir.
	DataDir string `yaml:"data_dir"`
	// Workers is how many encoding workers run in the process.
	Workers int `yaml:"workers"`
}
