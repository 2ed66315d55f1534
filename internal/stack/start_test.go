package stack_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/stack"
)

// A Start that fails part-way closes what it opened: it no longer
// listens on the addresses it had taken, whether listening failed or a
// role's configuration did.
func TestStack_StartThatFailsClosesWhatItOpened(t *testing.T) {
	free := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}
	originAddr, webAddr := free(), free()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	d := stack.Local(t.TempDir(), apiKey)
	d.Origin.Addr, d.Web.Addr, d.Edges[0].Addr = originAddr, webAddr, taken.Addr().String()
	_, err = stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Start with an edge address in use: %v, want a listen error", err)
	}
	wantFree(t, originAddr, webAddr)
	// The check sees a listener this process does hold.
	if held, err := listeningHere(); err != nil || !held[taken.Addr().String()] {
		t.Fatalf("listeningHere does not see this test's own listener on %s (%v)", taken.Addr(), err)
	}

	// Every listener opened, then the deployment's check refuses its
	// signing key.
	originAddr, webAddr = free(), free()
	d = stack.Local(t.TempDir(), apiKey)
	d.Origin.Addr, d.Web.Addr = originAddr, webAddr
	d.Secrets.SigningKey.Secret = "short"
	_, err = stack.Start(context.Background(), stack.Config{Deployment: d, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "secrets.signing_key") {
		t.Fatalf("Start with a short signing key: %v, want the check's refusal", err)
	}
	wantFree(t, originAddr, webAddr)
}

// wantFree checks that this process no longer listens on addrs. It asks
// the kernel which sockets this process holds (/proc/self/fd and
// /proc/net/tcp) rather than listening on them again: other test
// processes run meanwhile, and any of them may take a port just freed (an
// outbound connection's local port, a listener on :0).
func wantFree(t *testing.T, addrs ...string) {
	t.Helper()
	held, err := listeningHere()
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range addrs {
		if held[addr] {
			t.Errorf("%s is still held after the failed Start", addr)
		}
	}
}

// listeningHere is the set of TCP addresses ("127.0.0.1:port") this
// process has a listening socket on.
func listeningHere() (map[string]bool, error) {
	inodes := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil {
			if inode, ok := strings.CutPrefix(target, "socket:["); ok {
				inodes[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	table, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, line := range strings.Split(string(table), "\n")[1:] {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A: LISTEN
			continue
		}
		hexIP, hexPort, _ := strings.Cut(f[1], ":")
		ip, err1 := strconv.ParseUint(hexIP, 16, 32)
		port, err2 := strconv.ParseUint(hexPort, 16, 16)
		if err1 != nil || err2 != nil {
			continue
		}
		// The address is in host byte order (little-endian here).
		a := netip.AddrFrom4([4]byte{byte(ip), byte(ip >> 8), byte(ip >> 16), byte(ip >> 24)})
		held[netip.AddrPortFrom(a, uint16(port)).String()] = true
	}
	return held, nil
}
