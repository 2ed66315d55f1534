package s3server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Version is the versitygw release Streamfront is tested with; Makefile and
// .ci/run install exactly this one.
const Version = "v1.8.0"

// InstallHint tells a person how to get the server binary.
const InstallHint = "install it with: go install github.com/versity/versitygw/cmd/versitygw@" + Version

// Config describes the server to start.
type Config struct {
	// DataDir holds the buckets (one directory each). Required.
	DataDir string
	// Addr is the listen address. It defaults to a free port on 127.0.0.1.
	Addr string
	// AccessKey and SecretKey are the root credentials. They default to
	// "streamfront" / "streamfront-secret".
	AccessKey, SecretKey string
	// Binary is the versitygw executable. It defaults to the one found by
	// FindBinary.
	Binary string
	// Log receives the server's own output. It defaults to discarding it.
	Log *os.File
}

// Server is a running versitygw process.
type Server struct {
	cfg  Config
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

// FindBinary returns the path of versitygw: $PATH first, then $GOBIN and
// $GOPATH/bin, where `go install` puts it.
func FindBinary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(gopath)[0], "bin"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("the S3 server versitygw was not found in PATH or GOPATH/bin; %s", InstallHint)
}

// Start launches versitygw and waits until it answers HTTP.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("s3server: DataDir is required")
	}
	if cfg.AccessKey == "" {
		cfg.AccessKey = "streamfront"
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = "streamfront-secret"
	}
	if cfg.Binary == "" {
		bin, err := FindBinary()
		if err != nil {
			return nil, err
		}
		cfg.Binary = bin
	}
	if cfg.Addr == "" {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		cfg.Addr = addr
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("s3server: data dir: %w", err)
	}
	// The command runs without a shell; the credentials go through the
	// environment so they do not show up in `ps`.
	cmd := exec.Command(cfg.Binary, "--port", cfg.Addr, "--quiet", "posix", cfg.DataDir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+cfg.AccessKey, "ROOT_SECRET_KEY="+cfg.SecretKey)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if cfg.Log != nil {
		cmd.Stdout = cfg.Log
		cmd.Stderr = cfg.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("s3server: start %s: %w", cfg.Binary, err)
	}
	s := &Server{cfg: cfg, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("s3server: %w (server output: %s)", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		// Any HTTP answer (even 403 for an unsigned request) means it listens.
		if resp, err := client.Get(s.Endpoint()); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("versitygw exited early: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer on %s: %w", s.cfg.Addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// Endpoint is the server's base URL.
func (s *Server) Endpoint() string { return "http://" + s.cfg.Addr }

// AccessKey returns the root access key.
func (s *Server) AccessKey() string { return s.cfg.AccessKey }

// SecretKey returns the root secret key.
func (s *Server) SecretKey() string { return s.cfg.SecretKey }

// Done is closed when the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the server: SIGTERM, then SIGKILL after 5 s.
func (s *Server) Close() error {
	s.once.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return nil
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("s3server: pick a port: %w", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
