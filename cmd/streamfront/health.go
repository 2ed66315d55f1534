package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// runHealth checks that a URL answers, for container health checks (the
// runtime image has no curl). With -any-status any HTTP answer counts (an
// S3 server refuses unsigned requests, but answering means it is up).
func runHealth(ctx context.Context, args []string, _, stderr io.Writer) error {
	var anyStatus, tcp bool
	f := newFlags("health", stderr, os.LookupEnv)
	f.bool(&anyStatus, "any-status", "STREAMFRONT_HEALTH_ANY_STATUS", "any HTTP answer is healthy")
	f.bool(&tcp, "tcp", "STREAMFRONT_HEALTH_TCP", "the argument is host:port, healthy when it accepts a connection (NATS)")
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("give one URL: streamfront health [-any-status] URL, or streamfront health -tcp host:port")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if tcp {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", f.Arg(0))
		if err != nil {
			return err
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.Arg(0), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if !anyStatus && resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", f.Arg(0), resp.Status)
	}
	return nil
}
