package bench

import (
	"fmt"
	"os"
	"strings"
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
const congestionWhy = "With BBR and no fq qdisc the kernel paces a connection itself, with a timer per packet, once it leaves BBR's startup phase: our edge's connections leave it and pay for the timers (about 18 µs of CPU per answer when measured by hand), nginx's stay in startup (held back by wrk's receive window) and pay nothing; nginx costs the same per answer under either. Loopback has no bottleneck for pacing to protect."

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
