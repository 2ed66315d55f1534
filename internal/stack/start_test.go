package stack_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/stack"
)

// A Start that fails part-way closes what it opened: the addresses it had
// taken can be listened on again at once, whether listening failed or a
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

func wantFree(t *testing.T, addrs ...string) {
	t.Helper()
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("%s is still held after the failed Start: %v", addr, err)
			continue
		}
		ln.Close()
	}
}
