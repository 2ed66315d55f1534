package httpserve

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// NoTimeout lifts ReadTimeout or WriteTimeout for a server whose requests
// or answers may rightly last for hours (uploads of gigabytes, progressive
// downloads, event streams); such a server bounds them per request instead.
const NoTimeout time.Duration = -1

// Defaults of the Server fields.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultShutdownTimeout   = 30 * time.Second
)

// ErrDrainTimeout is wrapped by the error Serve returns when requests were
// still running at the end of ShutdownTimeout and their connections were
// closed.
var ErrDrainTimeout = errors.New("requests still running at the end of the shutdown timeout were cut off")

// Server is the configuration of one HTTP server; Serve runs it. A Server
// holds no state of its own, so one value may be served more than once.
type Server struct {
	// Name says which server this is in errors and logs ("origin",
	// "edge e1"). It defaults to "http".
	Name string
	// Handler answers every request. Required.
	Handler http.Handler
	// ReadHeaderTimeout bounds reading a request's head, so a client that
	// connects and trickles bytes holds a goroutine only this long. It
	// defaults to 10 s and cannot be lifted.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. It
	// defaults to 60 s; NoTimeout lifts it.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing an answer, from the end of the request's
	// head. It defaults to 60 s; NoTimeout lifts it.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection. It defaults to 2 min and cannot be lifted.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's head, against memory exhaustion. It
	// defaults to 64 KiB (net/http's own default is 1 MiB).
	MaxHeaderBytes int
	// ShutdownTimeout bounds the graceful drain once ctx ends; then the
	// connections left are closed. It defaults to 30 s.
	ShutdownTimeout time.Duration
	// UnencryptedHTTP2 also serves HTTP/2 with prior knowledge on plain
	// connections (h2c), besides HTTP/1.1 and HTTP/2 over TLS.
	UnencryptedHTTP2 bool
	// TLS, when set, makes Serve wrap its listener in TLS (LoadTLS builds
	// one from files).
	TLS *tls.Config
	// BeforeDrain, when set, runs once ctx ends (or serving fails), before
	// the http.Server drains, with a context that ends at the drain's
	// deadline. A server that feeds the http.Server connections of its own
	// (the edge's fast path) stops them here. Its error is returned.
	BeforeDrain func(ctx context.Context) error
	// Logger receives net/http's own complaints (TLS handshakes, panics).
	// It defaults to slog.Default().
	Logger *slog.Logger
}

// withDefaults returns s with zero fields filled, or an error naming a
// field that cannot be used.
func (s Server) withDefaults() (Server, error) {
	s.Name = cmp.Or(s.Name, "http")
	s.ReadHeaderTimeout = cmp.Or(s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	s.ReadTimeout = cmp.Or(s.ReadTimeout, DefaultReadTimeout)
	s.WriteTimeout = cmp.Or(s.WriteTimeout, DefaultWriteTimeout)
	s.IdleTimeout = cmp.Or(s.IdleTimeout, DefaultIdleTimeout)
	s.MaxHeaderBytes = cmp.Or(s.MaxHeaderBytes, DefaultMaxHeaderBytes)
	s.ShutdownTimeout = cmp.Or(s.ShutdownTimeout, DefaultShutdownTimeout)
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	var errs []error
	if s.Handler == nil {
		errs = append(errs, errors.New("Handler is required"))
	}
	// Only ReadTimeout and WriteTimeout may be lifted: without a header or
	// idle bound, idle and half-open connections pile up without end.
	for _, d := range []struct {
		name     string
		v        time.Duration
		liftable bool
	}{
		{"ReadHeaderTimeout", s.ReadHeaderTimeout, false},
		{"ReadTimeout", s.ReadTimeout, true},
		{"WriteTimeout", s.WriteTimeout, true},
		{"IdleTimeout", s.IdleTimeout, false},
		{"ShutdownTimeout", s.ShutdownTimeout, false},
	} {
		if d.v < 0 && !(d.liftable && d.v == NoTimeout) {
			errs = append(errs, fmt.Errorf("%s %v must be positive", d.name, d.v))
		}
	}
	if s.MaxHeaderBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxHeaderBytes %d must be positive", s.MaxHeaderBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("%s: server config: %w", s.Name, err)
	}
	return s, nil
}

// Check reports what in s would make Serve refuse to run, so that a
// server can be checked before anything listens.
func (s Server) Check() error {
	_, err := s.withDefaults()
	return err
}

// Serve serves on ln until ctx ends or serving fails, then shuts down:
// it stops accepting, runs BeforeDrain, waits for requests in flight for at
// most ShutdownTimeout and closes the connections still open. It returns
// nil after a clean shutdown caused by ctx; an error wrapping
// ErrDrainTimeout when connections had to be closed; the serving error
// when serving failed. ln is closed when Serve returns, also when the
// configuration is refused.
func (s Server) Serve(ctx context.Context, ln net.Listener) error {
	s, err := s.withDefaults()
	if err != nil {
		ln.Close()
		return err
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: s.ReadHeaderTimeout,
		ReadTimeout:       s.ReadTimeout, // net/http reads a negative timeout as none
		WriteTimeout:      s.WriteTimeout,
		IdleTimeout:       s.IdleTimeout,
		MaxHeaderBytes:    s.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		// Requests keep ctx's values but not its end: Shutdown waits for
		// them rather than cancelling them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if s.UnencryptedHTTP2 {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetHTTP2(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-served:
	case <-ctx.Done():
	}
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownTimeout)
	defer cancel()
	var hookErr error
	if s.BeforeDrain != nil {
		hookErr = s.BeforeDrain(drainCtx)
	}
	var drainErr error
	if err := srv.Shutdown(drainCtx); err != nil {
		// Shutdown only fails by its deadline: close what is left, so no
		// connection outlives Serve.
		srv.Close()
		drainErr = fmt.Errorf("%s: shutdown after %v: %w", s.Name, s.ShutdownTimeout, ErrDrainTimeout)
		s.Logger.Warn(drainErr.Error())
	}
	if serveErr == nil {
		serveErr = <-served
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if serveErr != nil {
		serveErr = fmt.Errorf("%s: serve: %w", s.Name, serveErr)
	}
	if hookErr != nil {
		hookErr = fmt.Errorf("%s: shutdown: %w", s.Name, hookErr)
	}
	return errors.Join(serveErr, hookErr, drainErr)
}

// LoadTLS reads a certificate and its key into a TLS configuration that
// offers HTTP/2 and HTTP/1.1 and nothing older than TLS 1.2.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}, nil
}
