package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/streamfront/streamfront/internal/httpserve"
	"github.com/streamfront/streamfront/player"
)

// Config configures the site. Only APIURL is required.
type Config struct {
	// Addr is the listen address for Run. It defaults to ":8080".
	Addr string
	// APIURL is the origin's base URL, e.g. "http://127.0.0.1:8090". Pages
	// read the API from it and /api/ is reverse-proxied to it. Required.
	APIURL string
	// PublicURL is this site's public base URL, used for canonical and
	// OpenGraph URLs, e.g. "https://videos.example.com". It defaults to
	// http://localhost followed by Addr's port.
	PublicURL string
	// DevAPIKey, when set (only in the one-process dev mode), pre-fills the
	// upload page's API key field. Never set it on a public site.
	DevAPIKey string
	// RouterURL is the router's base URL (site.media_url), where the
	// dashboard's edges page reads GET /edges and, through the addresses
	// listed there, each edge's /metrics. Empty leaves the edges page
	// without data.
	RouterURL string
	// SiteName is shown in titles and link previews. It defaults to "Streamfront".
	SiteName string
	// Logger receives request failures. It defaults to slog.Default().
	Logger *slog.Logger
}

// Timeouts of the site's HTTP server and of its calls to the API.
const (
	// readHeaderTimeout bounds a client that opens a connection and sends
	// nothing. There is no ReadTimeout or WriteTimeout: a whole-request
	// deadline would cut off uploads of gigabytes and progress streams that
	// last as long as packaging does.
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	// apiTimeout bounds one API call made to render a page.
	apiTimeout = 15 * time.Second
	// proxyResponseHeaderTimeout bounds the wait for the origin's answer
	// after a proxied request was fully sent; an upload is acknowledged once
	// its last bytes are stored, which can take a while for a big file.
	proxyResponseHeaderTimeout = 5 * time.Minute
	// shutdownGrace is how long Serve waits for in-flight requests after ctx
	// ends before closing the connections that remain (an upload still
	// streaming, an open progress stream).
	shutdownGrace = 15 * time.Second
	// libraryPageSize is how many videos a library page shows.
	libraryPageSize = 24
)

// Server is the site. Build it with New.
type Server struct {
	cfg       Config
	publicURL *url.URL
	routerURL *url.URL // nil when not configured
	logger    *slog.Logger
	api       *apiClient
	proxy     *httputil.ReverseProxy
	player    *player.Assets
	static    *staticAssets
	pages     map[string]*template.Template
	// apiDocsView is the API reference, read from the OpenAPI document.
	apiDocsView apiDocsView
	// sessions are the dashboard's signed-in operators.
	sessions *sessionStore
	router   chi.Router
}

var _ http.Handler = (*Server)(nil)

// New checks cfg, fills its defaults and builds the site. Nothing listens
// until Run or Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = ":8080"
	}
	if cfg.SiteName == "" {
		cfg.SiteName = "Streamfront"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.APIURL == "" {
		return nil, errors.New("web: Config.APIURL is required: set it to the origin's base URL, e.g. http://127.0.0.1:8090")
	}
	apiURL, err := parseBaseURL(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("web: Config.APIURL %q: %w", cfg.APIURL, err)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = defaultPublicURL(cfg.Addr)
	}
	publicURL, err := parseBaseURL(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("web: Config.PublicURL %q: %w", cfg.PublicURL, err)
	}
	var routerURL *url.URL
	if cfg.RouterURL != "" {
		if routerURL, err = parseBaseURL(cfg.RouterURL); err != nil {
			return nil, fmt.Errorf("web: Config.RouterURL %q: %w", cfg.RouterURL, err)
		}
	}
	cfg.APIURL = strings.TrimSuffix(apiURL.String(), "/")
	cfg.PublicURL = strings.TrimSuffix(publicURL.String(), "/")

	playerAssets, err := player.New()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	static, err := newStaticAssets()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	docs, err := buildAPIDocs()
	if err != nil {
		return nil, err
	}

	transport := newTransport()
	s := &Server{
		cfg:         cfg,
		publicURL:   publicURL,
		routerURL:   routerURL,
		logger:      cfg.Logger,
		api:         &apiClient{base: apiURL, client: &http.Client{Transport: transport, Timeout: apiTimeout}},
		proxy:       newAPIProxy(apiURL, transport, cfg.Logger),
		player:      playerAssets,
		static:      static,
		pages:       pages,
		apiDocsView: docs,
		sessions:    newSessionStore(time.Now),
	}
	if !playerAssets.Built() {
		cfg.Logger.Warn("web: the player is not built into this binary, so watch pages cannot play; run `make build`")
	}
	s.router = s.routes()
	return s, nil
}

// routes is the site's whole URL space.
func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.Use(middleware.GetHead) // crawlers and link checkers send HEAD

	r.Get("/", s.handle(s.library))
	r.Get("/upload", s.handle(s.upload))
	r.Get("/watch/{id}", s.handle(s.watch))
	r.Get("/live/{id}", s.handle(s.live))
	r.Get("/embed/{id}", s.handle(s.embed))
	r.Get("/oembed", s.handle(s.oembed))
	r.Get("/docs/api", s.handle(s.apiDocs))
	r.Get("/robots.txt", s.handle(s.robots))
	r.Get("/sitemap.xml", s.handle(s.sitemap))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	r.Handle("/static/*", http.StripPrefix("/static", s.static))
	r.Handle("/player/*", http.StripPrefix("/player", s.player))
	r.Handle("/api/*", s.proxy)
	s.adminRoutes(r)

	r.NotFound(s.handle(func(http.ResponseWriter, *http.Request) error {
		return &pageError{Status: http.StatusNotFound, Message: "There is no page at this address."}
	}))
	r.MethodNotAllowed(s.handle(func(http.ResponseWriter, *http.Request) error {
		return &pageError{Status: http.StatusMethodNotAllowed, Message: "This page can only be read."}
	}))
	return r
}

// ServeHTTP serves the site.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}

// Run listens on Config.Addr and serves until ctx is done, then shuts down
// gracefully.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then stops accepting, waits up to
// shutdownGrace for in-flight requests and closes the rest. It returns nil
// after a clean shutdown caused by ctx, and an error wrapping
// httpserve.ErrDrainTimeout when it had to close requests still running.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := httpserve.Server{
		Name:              "web",
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       httpserve.NoTimeout,
		WriteTimeout:      httpserve.NoTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ShutdownTimeout:   shutdownGrace,
		Logger:            s.logger,
	}
	s.logger.Info("web: serving", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL, "api_url", s.cfg.APIURL)
	return srv.Serve(ctx, ln)
}

// newTransport is the HTTP client transport for the API and the proxy.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = proxyResponseHeaderTimeout
	t.MaxIdleConnsPerHost = 32
	// The proxy passes the browser's Accept-Encoding through; the API
	// client gets plain JSON either way.
	return t
}

// parseBaseURL accepts an absolute http(s) URL with no query or fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("want an absolute http:// or https:// URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("want an absolute http:// or https:// URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("want a base URL without ?query or #fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// defaultPublicURL is http://localhost:PORT for a listen address of ":PORT"
// or "0.0.0.0:PORT", and http://HOST:PORT for any other host.
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://localhost" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// securityHeaders sets headers every answer carries. The policy allows
// media, images and playlist fetches from any http(s) host, since videos
// are served by edges on other hosts, but scripts only from this site.
// Inline styles are allowed because the player's controls (media-chrome
// web components) style their shadow roots with <style> elements
// (muxinc/media-chrome#898); data: media because hls.js gives each
// subtitle track a data: WebVTT stub.
func securityHeaders(next http.Handler) http.Handler {
	const policy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: blob: http: https:; media-src 'self' data: blob: http: https:; " +
		"connect-src 'self' http: https:; worker-src 'self' blob:; object-src 'none'; " +
		"base-uri 'self'; form-action 'self'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			ancestors := "'self'"
			if strings.HasPrefix(r.URL.Path, "/embed/") {
				ancestors = "*" // embeds are meant to be framed anywhere
			}
			h.Set("Content-Security-Policy", policy+"; frame-ancestors "+ancestors)
		}
		next.ServeHTTP(w, r)
	})
}
