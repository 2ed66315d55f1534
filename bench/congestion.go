package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The machine's TCP congestion control shapes what a server pays per
// answer over loopback (congestionWhy), so the machine table names it and
// a cell may ask for one congestion control for every server
// (object.congestion), to compare what the servers do rather than which
// phase of BBR their connections happen to be in.

// sameCongestion is the congestion control such a cell gives every
// server: Linux's default, which does not pace.
const sameCongestion = "cubic"

// congestionWhy is the reason, for the step's notes.
const congestionWhy = "With BBR and no fq qdisc the kernel paces a connection itself, with a timer per packet, once it leaves BBR's startup phase, which costs a server CPU per answer (measured by hand for the 100 KiB script, TCP metrics flushed before each run: our edge 47 µs and nginx with tcp_nopush off 46.5 µs per answer under BBR, against 35–44 µs and 39–48 µs under cubic). nginx as configured here (tcp_nopush on, as for video) stalls instead: with BBR and fresh TCP metrics each of its script answers waits about 40 ms. Loopback has no bottleneck for pacing to protect, so the cubic cells are the ones that compare what the servers do."

const congestionPath = "/proc/sys/net/ipv4/tcp_congestion_control"

// machineCongestion is the machine's TCP congestion control ("bbr",
// "cubic").
func machineCongestion() string {
	b, err := os.ReadFile(congestionPath)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// setCongestion makes name the machine's congestion control for new
// connections (accepted ones take it when they are made) and returns the
// function that puts the previous one back. It needs root.
func setCongestion(name string) (restore func(), err error) {
	prev := machineCongestion()
	if prev == name {
		return func() {}, nil
	}
	if err := os.WriteFile(congestionPath, []byte(name), 0); err != nil {
		return nil, fmt.Errorf("set the TCP congestion control to %s (needs root): %w", name, err)
	}
	return func() { _ = os.WriteFile(congestionPath, []byte(prev), 0) }, nil
}

// The kernel keeps TCP metrics per destination (RTT, cwnd, ssthresh) from
// closed connections and starts new connections to that destination from
// them. Every server here is reached at 127.0.0.1, so without a flush a
// run starts from the state the previous run, on another server, left:
// measured by hand, that decided whether nginx's connections under BBR
// stalled (about 40 ms per answer), were paced, or stayed in startup.

// tcpMetricsFlush is the command that empties that cache (iproute2).
var tcpMetricsFlush = []string{"ip", "tcp_metrics", "flush", "all"}

// flushTCPMetrics empties the kernel's TCP metrics cache so a run starts
// from the kernel's defaults whatever ran before it. It needs root.
func flushTCPMetrics(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tcpMetricsFlush[0], tcpMetricsFlush[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s (needs root and iproute2): %w: %s", strings.Join(tcpMetricsFlush, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// tcpMetricsPolicy says, for the machine table, whether hit runs start
// from an empty TCP metrics cache (trying a flush to find out).
func tcpMetricsPolicy(ctx context.Context) string {
	if err := flushTCPMetrics(ctx); err != nil {
		return "not flushed between runs: " + err.Error() + "; a run starts from what the previous one left for 127.0.0.1"
	}
	return "flushed before every hit run (`" + strings.Join(tcpMetricsFlush, " ") + "`), so no run starts from the RTT and window another server's run left for 127.0.0.1"
}
