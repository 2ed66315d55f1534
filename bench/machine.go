package bench

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the figures were taken.
type machine struct {
	CPUs     int
	CPUModel string
	MemBytes int64
	Kernel   string
	// Congestion is the machine's TCP congestion control (congestion.go).
	Congestion string
	// TCPMetrics says whether hit runs start from an empty TCP metrics
	// cache (congestion.go).
	TCPMetrics string
	Versions   []string // "name: version" lines
	Commit     string
	Load       []string // load average and CPU pressure at the start and end of the run
}

func describeMachine(ctx context.Context, repoDir string) machine {
	m := machine{CPUs: runtime.NumCPU(), CPUModel: "unknown", Kernel: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				m.MemBytes = kb << 10
			}
		}
	}
	version := func(name string, argv ...string) {
		m.Versions = append(m.Versions, name+": "+firstLine(ctx, argv...))
	}
	version("nginx", "nginx", "-v")
	version("varnish", "varnishd", "-V")
	version("ffmpeg", "ffmpeg", "-version")
	version("wrk", "wrk", "-v")
	version("go", "go", "version")
	m.Versions = append(m.Versions, "benchtable built with: "+runtime.Version())
	m.Congestion = machineCongestion()
	m.TCPMetrics = tcpMetricsPolicy(ctx)
	m.Commit = firstLine(ctx, "git", "-C", repoDir, "describe", "--always", "--dirty")
	return m
}

// firstLine runs argv and returns the first non-empty line of its output
// (stdout and stderr: nginx -v and varnishd -V print to stderr), or why
// there is none.
func firstLine(ctx context.Context, argv ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	for _, line := range bytes.Split(out, []byte("\n")) {
		if s := strings.TrimSpace(string(line)); s != "" {
			return s
		}
	}
	if err != nil {
		return "unavailable (" + err.Error() + ")"
	}
	return "unknown"
}
