package cachetests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Server is the suite's origin server (node serve.mjs) on a loopback port.
type Server struct {
	// URL is the server's base URL, without a trailing slash.
	URL string

	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// StartServer starts the suite's server from dir (the folder holding
// serve.mjs and node_modules). When stripPrefix is not empty (e.g.
// "/videos"), requests under it are seen by the suite without it, so a
// cache can be measured on the paths it treats specially. It returns once
// the server accepts connections.
func StartServer(ctx context.Context, dir, stripPrefix string) (*Server, error) {
	if err := checkInstalled(dir); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	out := &lockedBuffer{}
	cmd := exec.Command("node", "serve.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CACHETESTS_PORT="+strconv.Itoa(port),
		"CACHETESTS_STRIP_PREFIX="+stripPrefix)
	cmd.Stdout, cmd.Stderr = out, out
	// Pdeathsig: the server never outlives the test or the bench that
	// started it, even when that process is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the cache-tests server: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitListening(ctx, "127.0.0.1:"+strconv.Itoa(port)); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitListening polls addr until it accepts a connection, the server
// exits, or 20 s pass.
func (s *Server) waitListening(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("the cache-tests server exited before listening: %s", s.Output())
		case <-ctx.Done():
			return fmt.Errorf("the cache-tests server did not listen on %s: %w (output: %s)", addr, ctx.Err(), s.Output())
		case <-tick.C:
		}
	}
}

// Output is what the server printed so far.
func (s *Server) Output() string { return s.out.String() }

// Close stops the server and waits for it.
func (s *Server) Close() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// checkInstalled says how to install the suite when dir has no copy.
func checkInstalled(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "http-cache-tests", "package.json")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("http-cache-tests is not installed in %s: run `make edge/cachetests/node_modules` (npm ci) first", dir)
		}
		return err
	}
	return nil
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer is a bytes.Buffer that a child's output and a reader may
// use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
