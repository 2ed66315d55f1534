// Command streamfront is the one binary of Streamfront: every role in one
// process (all), or one role each (origin, worker, edge, router, web,
// nats), the upload client, the health check of containers, and the check
// of a deployment file (config check).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(runWithSignals())
}

// runWithSignals is run with Ctrl-C and SIGTERM ending its context; the
// signal handler is released before main exits.
func runWithSignals() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
}
