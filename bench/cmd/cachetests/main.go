package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/streamfront/streamfront/bench"
)

func main() {
	os.Exit(runWithSignals())
}

// runWithSignals is run with Ctrl-C and SIGTERM ending its context.
func runWithSignals() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cachetests", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.CacheTestsConfig
	fs.StringVar(&cfg.Streamfront, "streamfront", "bin/streamfront", "the streamfront binary")
	fs.StringVar(&cfg.SuiteDir, "suite", "edge/cachetests", "the folder holding the suite and its node_modules")
	fs.StringVar(&cfg.OutDir, "out", "bench/out/cachetests", "directory for each cache's results and table.md")
	fs.BoolVar(&cfg.Parallel, "parallel", false, "run the caches at once instead of one after another (faster, but Varnish then drops connections: see bench.CacheTestsConfig)")
	fs.BoolVar(&cfg.KeepTemp, "keep", false, "keep the temporary directory (configs, logs)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := bench.CacheTests(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "cachetests: %v\n", err)
		return 1
	}
	return 0
}
