package testenv

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/s3server"
)

// S3 is a running S3 server owned by one test.
type S3 struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	DataDir   string
	server    *s3server.Server
}

// Stop kills the server (to test behaviour with S3 gone); Cleanup also does.
func (s *S3) Stop() { s.server.Close() }

// StartS3 starts versitygw on a temporary directory for the life of t.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	dir := t.TempDir()
	srv, err := s3server.Start(context.Background(), s3server.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("start the S3 server: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &S3{Endpoint: srv.Endpoint(), AccessKey: srv.AccessKey(), SecretKey: srv.SecretKey(), DataDir: dir, server: srv}
}

var installHints = map[string]string{
	"ffmpeg":   "apt-get install -y ffmpeg",
	"ffprobe":  "apt-get install -y ffmpeg",
	"chromium": "apt-get install -y chromium",
	"node":     "apt-get install -y nodejs npm",
}

// Require returns the path of an external tool, failing t when it is
// missing: tests never skip for a missing dependency.
func Require(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is required by this test and is not installed (%s); .ci/run installs it", tool, installHints[tool])
	}
	return p
}

// RepoRoot is the repository's top directory (where go.mod is).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository root")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ArtifactDir is where tests keep what a person may want to look at after a
// run (screenshots, logs): $STREAMFRONT_ARTIFACTS when set, else a temp dir.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("STREAMFRONT_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("artifact dir: %v", err)
		}
		return d
	}
	return t.TempDir()
}

// BuildStreamfront builds the streamfront binary into a temporary
// directory, for tests that run a role as its own process (to kill it
// like a crash would).
func BuildStreamfront(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "streamfront")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/streamfront")
	cmd.Dir = RepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// StartWorkerProcess runs `streamfront worker` (bin): see StartProcess.
func StartWorkerProcess(t testing.TB, bin string, env ...string) *exec.Cmd {
	t.Helper()
	return StartProcess(t, bin, "worker", env...)
}

// StartProcess runs `streamfront ROLE` (bin) as its own process group,
// listening on a free loopback port unless env sets STREAMFRONT_ADDR, with
// env added to the environment. The test may SIGKILL the group (-pid) to
// crash it as a lost machine would, ffmpeg included; the group is killed
// at cleanup anyway, and what the process printed is shown if the test
// failed.
func StartProcess(t testing.TB, bin, role string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, role)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The last of duplicate variables wins, so env may set the address.
	cmd.Env = append(append(os.Environ(), "STREAMFRONT_ADDR=127.0.0.1:0"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the %s: %v", role, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("the %s process (pid %d) said:\n%s", role, cmd.Process.Pid, out.String())
		}
	})
	return cmd
}

// WaitHealthy waits (30 s at most) until base/healthz answers 200.
func WaitHealthy(t testing.TB, base, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 30 s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeLoopbackAddr is a loopback address with a port free a moment ago,
// for a process that must be told its address before it starts.
func FreeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
