package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/streamfront/streamfront/internal/stack"
)

// devAPIKey is what `make run` uses unless STREAMFRONT_API_KEY is set; the
// README says so.
const devAPIKey = "streamfront-dev-key"

func runAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var dataDir, apiKey, host, logLevel string
	var webPort int64
	f := newFlags("all", stderr)
	f.string(&dataDir, "data", "STREAMFRONT_DATA", ".data", "directory for S3 data and edge caches")
	f.string(&apiKey, "api-key", "STREAMFRONT_API_KEY", devAPIKey, "API key for uploads")
	f.string(&host, "host", "STREAMFRONT_HOST", "localhost", "host to listen on and to put in URLs")
	f.int64(&webPort, "port", "STREAMFRONT_PORT", 8080, "web port; the origin takes port+10, the edges port+1 and port+2, the router port+3, S3 port+20, NATS port+30")
	f.string(&logLevel, "log-level", "STREAMFRONT_LOG_LEVEL", "info", "debug, info, warn or error")
	if err := f.parse(args); err != nil {
		return err
	}
	addr := func(offset int64) string { return net.JoinHostPort(host, strconv.FormatInt(webPort+offset, 10)) }
	st, err := stack.Start(ctx, stack.Config{
		DataDir:    dataDir,
		S3Addr:     addr(20),
		NATSAddr:   addr(30),
		OriginAddr: addr(10),
		WebAddr:    addr(0),
		EdgeAddrs:  []string{addr(1), addr(2)},
		RouterAddr: addr(3),
		PublicHost: host,
		APIKey:     apiKey,
		Logger:     newLogger(stderr, logLevel),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Streamfront is running.

  Open        %s
  API         %s/api/v1/videos   (API key: %s)
  Router      %s   (hls_url and mp4_url point here)
  Edges       %s  %s
  Origin      %s   (one encoding worker in this process)
  S3          %s  (data in %s)
  NATS        %s  (jobs)

Upload from the command line:
  curl -H "Authorization: Bearer %s" -F file=@video.mp4 -F title="My video" %s/api/v1/videos

Press Ctrl-C to stop.
`, st.WebURL, st.WebURL, apiKey, st.RouterURL, st.EdgeURLs[0], st.EdgeURLs[1], st.OriginURL, st.S3.Endpoint(), dataDir, st.NATS.URL(), apiKey, st.WebURL)
	<-ctx.Done()
	return st.Close()
}
