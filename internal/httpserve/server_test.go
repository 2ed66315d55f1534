package httpserve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestServer_RefusesUnboundedHeadersAndIdle(t *testing.T) {
	ok := http.NotFoundHandler()
	for name, s := range map[string]Server{
		"no handler":                {},
		"lifted header timeout":     {Handler: ok, ReadHeaderTimeout: NoTimeout},
		"lifted idle timeout":       {Handler: ok, IdleTimeout: NoTimeout},
		"negative shutdown timeout": {Handler: ok, ShutdownTimeout: -time.Second},
		"negative header bytes":     {Handler: ok, MaxHeaderBytes: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Serve(context.Background(), listen(t)); err == nil || !strings.Contains(err.Error(), "server config") {
				t.Fatalf("Serve = %v, want a config error", err)
			}
		})
	}
}

func TestServer_FillsDefaults(t *testing.T) {
	s, err := Server{Handler: http.NotFoundHandler(), ReadTimeout: NoTimeout}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if s.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.ReadTimeout != NoTimeout || s.WriteTimeout != DefaultWriteTimeout ||
		s.IdleTimeout != DefaultIdleTimeout || s.MaxHeaderBytes != DefaultMaxHeaderBytes || s.ShutdownTimeout != DefaultShutdownTimeout {
		t.Fatalf("defaults not filled: %+v", s)
	}
}

func TestServer_DrainsRequestInFlightThenReturnsNil(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	s := Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "done")
	})}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	close(release)
	if body := <-got; body != "done" {
		t.Fatalf("request in flight got %q, want its answer", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve = %v, want nil after a clean drain", err)
	}
}

func TestServer_ClosesWhatOutlivesTheDrain(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s := Server{ShutdownTimeout: 10 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	})}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-started
	cancel()
	if err := <-served; !errors.Is(err, ErrDrainTimeout) {
		t.Fatalf("Serve = %v, want ErrDrainTimeout", err)
	}
	if err := <-clientErr; err == nil {
		t.Fatal("the request cut off by the shutdown got an answer")
	}
}

func TestServer_RunsBeforeDrainAndReturnsItsError(t *testing.T) {
	hookErr := errors.New("fast path stuck")
	s := Server{Handler: http.NotFoundHandler(), BeforeDrain: func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("BeforeDrain got a context without the drain's deadline")
		}
		return hookErr
	}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Serve(ctx, listen(t)); !errors.Is(err, hookErr) {
		t.Fatalf("Serve = %v, want the hook's error", err)
	}
}

func TestServer_ServesH2CWhenAsked(t *testing.T) {
	s := Server{UnencryptedHTTP2: true, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	})}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "HTTP/2.0" {
		t.Fatalf("proto %q, want HTTP/2.0", b)
	}
}
