package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/streamfront/streamfront/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

// run parses the flags over the defaults (or -quick's) and runs the bench.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: go run ./bench/cmd/benchtable [flags]   (from the repository root; `make bench`)\n\n")
		fs.PrintDefaults()
	}
	quick := fs.Bool("quick", false, "smoke run of about two minutes: shorter wrk runs, a 60 s fixture, smaller upload and fewer viewers")
	steps := fs.String("steps", strings.Join(bench.AllSteps, ","), "comma-separated steps to run")
	duration := fs.Duration("duration", 10*time.Second, "length of each wrk run")
	conns := fs.String("conns", "64,256", "comma-separated wrk connection counts")
	rounds := fs.Int("rounds", 2, "repeat each wrk run this many times (servers' order rotated) and report the best")
	extraRuns := fs.Int("extra-runs", 12, "at most this many re-runs of hit cells whose every run was disturbed by other processes (0: none)")
	pin := fs.Bool("pin", true, "pin the servers under load to -server-cpus and wrk to -client-cpus (taskset)")
	nice := fs.Int("nice", -10, "nice value of the servers under load and of wrk (0: unchanged; negative needs root)")
	serverCPUs := fs.String("server-cpus", "0", "taskset CPU list of the servers under load")
	clientCPUs := fs.String("client-cpus", "1", "taskset CPU list of wrk")
	fixtureSeconds := fs.Int("fixture-seconds", 300, "length of the 1080p fixture")
	edgeMiB := fs.Int64("edge-memory-mib", 256, "memory tier of the edge under test, MiB")
	uploadMiB := fs.Int64("upload-mib", 2048, "size of the upload-memory body, MiB")
	bigSourceMB := fs.Int64("big-source-mb", 2000, "about the size of the package-memory step's source, MB (10^6 bytes; made once from copies of the fixture)")
	viewers := fs.Int("viewers", 1000, "concurrent slow viewers")
	viewerDuration := fs.Duration("viewer-duration", 5*time.Second, "how long each slow viewer reads")
	hitRequests := fs.Int("hitratio-requests", 60000, "length of the Zipf request stream")
	hitBudgetMiB := fs.Int64("hitratio-budget-mib", 32, "edge memory budget of the hit-ratio step, MiB")
	streamfront := fs.String("streamfront", "bin/streamfront", "the streamfront binary")
	out := fs.String("out", "bench/out", "directory for results.md and fixtures/")
	keep := fs.Bool("keep", false, "keep the temporary directory (logs, configs, S3 data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	var cfg bench.Config
	if *quick {
		cfg = bench.Quick()
	}
	cfg.Pin, cfg.ServerCPUs, cfg.ClientCPUs, cfg.Nice = *pin, *serverCPUs, *clientCPUs, *nice
	cfg.Streamfront, cfg.OutDir, cfg.KeepTemp = *streamfront, *out, *keep
	cfg.Steps = splitList(*steps)
	// Flags given explicitly win over -quick's values.
	var parseErr error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "duration":
			cfg.WrkDuration = *duration
		case "conns":
			cfg.WrkConnections = nil
			for _, c := range splitList(*conns) {
				n, err := strconv.Atoi(c)
				if err != nil {
					parseErr = fmt.Errorf("-conns: %q is not a number", c)
				}
				cfg.WrkConnections = append(cfg.WrkConnections, n)
			}
		case "rounds":
			cfg.Rounds = *rounds
		case "extra-runs":
			cfg.ExtraRuns = *extraRuns
			if cfg.ExtraRuns == 0 {
				cfg.ExtraRuns = -1 // Config's zero means the default
			}
		case "fixture-seconds":
			cfg.FixtureSeconds = *fixtureSeconds
		case "edge-memory-mib":
			cfg.EdgeMemoryBytes = *edgeMiB << 20
		case "upload-mib":
			cfg.UploadBytes = *uploadMiB << 20
		case "big-source-mb":
			cfg.BigSourceBytes = *bigSourceMB * 1_000_000
		case "viewers":
			cfg.Viewers = *viewers
		case "viewer-duration":
			cfg.ViewerDuration = *viewerDuration
		case "hitratio-requests":
			cfg.HitRatioRequests = *hitRequests
		case "hitratio-budget-mib":
			cfg.HitRatioBudget = *hitBudgetMiB << 20
		}
	})
	if parseErr != nil {
		fmt.Fprintln(stderr, "benchtable:", parseErr)
		return 2
	}
	if err := bench.Run(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "benchtable:", err)
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
