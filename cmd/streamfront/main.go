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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
