package main

import (
	"context"
	"io"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/web"
)

// Each role's flags are defined in one function, so the compose test can
// check docker-compose.yml against exactly the variables a role reads.

func originFlags(cfg *origin.Config, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("origin", stderr)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8090", "listen address")
	f.string(&cfg.APIKey, "api-key", "STREAMFRONT_API_KEY", "", "API key that authorises uploads and edits (required)")
	f.string(&cfg.MediaURL, "media-url", "STREAMFRONT_MEDIA_URL", "", "viewers' entry for media (an edge or the router), e.g. https://cdn.example.com (required)")
	f.string(&cfg.WebURL, "web-url", "STREAMFRONT_WEB_URL", "", "the site's public URL, for page_url (required)")
	f.string(&cfg.S3.Endpoint, "s3-endpoint", "STREAMFRONT_S3_ENDPOINT", "", "S3 endpoint URL; empty means AWS")
	f.string(&cfg.S3.Region, "s3-region", "STREAMFRONT_S3_REGION", "us-east-1", "S3 region")
	f.string(&cfg.S3.Bucket, "s3-bucket", "STREAMFRONT_S3_BUCKET", "streamfront", "bucket (created when missing)")
	f.string(&cfg.S3.AccessKey, "s3-access-key", "STREAMFRONT_S3_ACCESS_KEY", "", "S3 access key; empty uses the AWS default credential chain")
	f.string(&cfg.S3.SecretKey, "s3-secret-key", "STREAMFRONT_S3_SECRET_KEY", "", "S3 secret key")
	f.bool(&cfg.S3.PathStyle, "s3-path-style", "STREAMFRONT_S3_PATH_STYLE", false, "path-style bucket addressing (MinIO, versitygw)")
	f.string(&cfg.WorkDir, "work-dir", "STREAMFRONT_WORK_DIR", "", "scratch directory for transcodes (default: system temp)")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

func edgeFlags(cfg *edge.Config, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("edge", stderr)
	f.string(&cfg.Name, "name", "STREAMFRONT_EDGE_NAME", "edge-1", "edge name, shown in X-Edge and X-Cache")
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8081", "listen address")
	f.string(&cfg.Origin, "origin", "STREAMFRONT_ORIGIN_URL", "", "origin base URL (required)")
	f.string(&cfg.CacheDir, "cache-dir", "STREAMFRONT_CACHE_DIR", "", "disk cache directory; empty keeps memory only")
	f.int64(&cfg.MemoryBytes, "cache-memory-bytes", "STREAMFRONT_CACHE_MEMORY_BYTES", 256<<20, "memory tier budget")
	f.int64(&cfg.DiskBytes, "cache-disk-bytes", "STREAMFRONT_CACHE_DISK_BYTES", 10<<30, "disk tier budget")
	f.string(&cfg.AdminToken, "admin-token", "STREAMFRONT_ADMIN_TOKEN", "", "token for the invalidation API; empty disables it")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

func webFlags(cfg *web.Config, logLevel *string, stderr io.Writer) *flags {
	f := newFlags("web", stderr)
	f.string(&cfg.Addr, "addr", "STREAMFRONT_ADDR", ":8080", "listen address")
	f.string(&cfg.APIURL, "api-url", "STREAMFRONT_API_URL", "", "origin base URL; /api/ is proxied there (required)")
	f.string(&cfg.PublicURL, "public-url", "STREAMFRONT_PUBLIC_URL", "", "this site's public URL, for canonical and OpenGraph links")
	f.string(&cfg.SiteName, "site-name", "STREAMFRONT_SITE_NAME", "Streamfront", "site name")
	f.string(logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	return f
}

func runOrigin(ctx context.Context, args []string, _, stderr io.Writer) error {
	var cfg origin.Config
	var logLevel string
	if err := originFlags(&cfg, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	o, err := origin.New(cfg)
	if err != nil {
		return err
	}
	return o.Run(ctx)
}

func runEdge(ctx context.Context, args []string, _, stderr io.Writer) error {
	var cfg edge.Config
	var logLevel string
	if err := edgeFlags(&cfg, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	e, err := edge.New(cfg)
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

func runWeb(ctx context.Context, args []string, _, stderr io.Writer) error {
	var cfg web.Config
	var logLevel string
	if err := webFlags(&cfg, &logLevel, stderr).parse(args); err != nil {
		return err
	}
	cfg.Logger = newLogger(stderr, logLevel)
	s, err := web.New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
