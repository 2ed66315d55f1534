package cachetests

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/internal/testenv"
)

var update = flag.Bool("update", false, "write the measured outcomes to testdata/baseline.json")

// updateRuns is how many times -update runs the suite: a test is recorded
// as passing only if it passed every time, so a test whose outcome
// depends on timing (the suite's 3 s pauses, the video policy's stale
// serving while another test's origin fails) does not make the gate
// flaky.
const updateRuns = 2

const baselinePath = "testdata/baseline.json"

// TestEdge_CacheTestsNoRequiredRegression runs http-cache-tests against an
// edge in this process and fails when a required test that passed in the
// baseline no longer does.
func TestEdge_CacheTestsNoRequiredRegression(t *testing.T) {
	testenv.Require(t, "node")
	// The two ways the edge is measured: at the root, which an edge caches
	// by RFC 9111 by default (PolicyRFC9111), and under /videos/,
	// which it caches by the video policy (the suite server strips the
	// prefix, so the tests are the same).
	runs := []struct{ name, prefix string }{
		{"root", ""},
		{"videos", "/videos"},
	}
	ctx := t.Context()
	srv, err := StartServer(ctx, ".", "/videos")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	edgeURL := startEdge(t, srv.URL)

	// One run after the other, not at once: two clients at once would
	// save some 17 s but put the suite's timed steps (3 s pauses against
	// max-age=2) under more load, and bench/cachetests.go saw concurrent
	// runs change Varnish's figures.
	results := make([][]Result, len(runs))
	for i, r := range runs {
		if results[i], err = Run(ctx, ".", edgeURL+r.prefix); err != nil {
			t.Fatalf("%v\nsuite server output: %s", err, srv.Output())
		}
	}
	var again [][]Result // -update: the further runs, per run name
	if *update {
		again = make([][]Result, len(runs))
		for range updateRuns - 1 {
			for i, r := range runs {
				res, err := Run(ctx, ".", edgeURL+r.prefix)
				if err != nil {
					t.Fatalf("%v\nsuite server output: %s", err, srv.Output())
				}
				again[i] = append(again[i], res...)
			}
		}
	}

	var table strings.Builder
	rows := make([]Row, len(runs))
	for i, r := range runs {
		rows[i] = Row{Cache: "edge (default distribution), " + describe(r.prefix), Summary: Summarize(results[i])}
	}
	if err := WriteTable(&table, rows); err != nil {
		t.Fatal(err)
	}
	t.Logf("http-cache-tests against the edge:\n%s", table.String())
	// Kept with the run's artifacts too, as go test shows a passing
	// test's log only with -v.
	var report strings.Builder
	report.WriteString(table.String())
	for i, r := range runs {
		fmt.Fprintf(&report, "\n%s: required tests that do not pass:\n", r.name)
		_ = WriteFailures(&report, results[i])
	}
	if err := os.WriteFile(filepath.Join(testenv.ArtifactDir(t), "cachetests-edge.md"), []byte(report.String()), 0o644); err != nil {
		t.Error(err)
	}

	if *update {
		base := Baseline{}
		for i, r := range runs {
			base[r.name] = StableOutcomes(results[i], again[i])
		}
		if err := WriteBaseline(baselinePath, base); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", baselinePath)
		return
	}
	base, err := ReadBaseline(baselinePath)
	if err != nil {
		t.Fatalf("%v (go test ./edge/cachetests -update writes it)", err)
	}
	for i, r := range runs {
		regressed, improved := Compare(base[r.name], results[i])
		for _, c := range improved {
			t.Logf("%s: %s now passes (was %s): go test ./edge/cachetests -update raises the baseline", r.name, c.ID, c.Was)
		}
		for _, c := range regressed {
			t.Errorf("%s: regression: %s passed in %s, now %s: %s", r.name, c.ID, baselinePath, c.Outcome, c.Message)
		}
		if t.Failed() || testing.Verbose() {
			var f strings.Builder
			_ = WriteFailures(&f, results[i])
			t.Logf("%s: required tests that do not pass:\n%s", r.name, f.String())
		}
	}
}

func describe(prefix string) string {
	if prefix == "" {
		return "paths at the root (RFC 9111 policy)"
	}
	return "paths under " + prefix + "/ (video policy)"
}

// startEdge serves an edge in front of origin on a loopback port until the
// test ends, and returns its URL.
func startEdge(t *testing.T, origin string) string {
	t.Helper()
	e, err := edge.New(edge.Config{
		Name:   "edge-cachetests",
		Origin: origin, // every path cached by RFC 9111, the default
		// Without the video policy's day of stale-if-error: the suite runs
		// its tests at once, some make the origin fail (5xx, a closed
		// connection), and the edge then answers stale copies at once for a
		// second (Edge.originDown), so which video-policy tests meet that
		// window would be chance, and the gate flaky.
		StaleIfError: -1,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("edge: %v", err)
		}
		e.Close()
	})
	return "http://" + ln.Addr().String()
}
