package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/streamfront/streamfront/internal/stack"
)

// runAll runs every role of the deployment file in this process (make
// run), with its own S3 server at s3.endpoint and NATS at queue.url.
func runAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if argValue(args, "config") == "" {
		if _, set := os.LookupEnv(configEnv); !set {
			args = append([]string{"-config", "streamfront.yaml"}, args...)
		}
	}
	d, err := deployment(args, os.LookupEnv)
	if err != nil {
		return err
	}
	level := d.LogLevel
	f := newRoleFlags("all", stderr, os.LookupEnv)
	f.string(&d.Local.DataDir, "data", "STREAMFRONT_DATA", "directory of the S3 data, the queue and edge caches (local.data_dir)")
	f.string(&level, "log-level", "STREAMFRONT_LOG_LEVEL", "debug, info, warn or error (log_level)")
	if err := f.parse(args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, level)
	if err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Config{Deployment: d.File, Logger: logger})
	if err != nil {
		return err
	}
	printRunning(stdout, d.Path, d.Local.DataDir, string(d.Secrets.APIKey), st)
	<-ctx.Done()
	return st.Close()
}

// printRunning says where everything of a running stack is, the viewers'
// URL first, and how to upload through it.
func printRunning(stdout io.Writer, path, dataDir, apiKey string, st *stack.Stack) {
	edges := ""
	for _, u := range st.EdgeURLs {
		edges += "  " + u
	}
	live := ""
	if st.RTMPURL != "" {
		live = fmt.Sprintf(`
Go live (RTMP in, low-latency HLS out; OBS: Server %s, Stream Key from the API):
  curl -H "Authorization: Bearer %s" -d '{"title":"My stream"}' %s/api/v1/live
  ffmpeg -re -f lavfi -i testsrc=size=1280x720:rate=30 -f lavfi -i sine -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv <rtmp_url>
`, st.RTMPURL, apiKey, st.SiteURL)
	}
	fmt.Fprintf(stdout, `
Streamfront is running (%s).

  Open        %s   (viewers' URL%s)
  API         %s/api/v1/videos   (API key: %s)
  Router      %s   (hls_url and mp4_url point here)
  Edges     %s
  Web         %s   (the site%s)
  Origin      %s   (%d encoding worker(s) in this process)
  S3          %s  (data in %s)
  NATS        %s  (jobs)
  RTMP        %s

Upload from the command line:
  curl -H "Authorization: Bearer %s" -F file=@video.mp4 -F title="My video" %s/api/v1/videos
%s
Press Ctrl-C to stop.
`, path, st.SiteURL, siteNote(st), st.SiteURL, apiKey, st.RouterURL, edges, st.WebURL, webNote(st), st.OriginURL, len(st.Workers),
		st.S3.Endpoint(), dataDir, st.NATS.URL(), rtmpLine(st.RTMPURL), apiKey, st.SiteURL, live)
}

// rtmpLine says where encoders publish, or that live streaming is off.
func rtmpLine(u string) string {
	if u == "" {
		return "(live streaming off: live.enabled)"
	}
	return u + "/{stream_key}   (live streams)"
}

// siteNote says who serves the viewers' URL.
func siteNote(st *stack.Stack) string {
	if st.SiteURL == st.WebURL {
		return ""
	}
	return ": the first edge, serving the site from its cache, the API and media"
}

// webNote says that the site's own process is behind the edges.
func webNote(st *stack.Stack) string {
	if st.SiteURL == st.WebURL {
		return ""
	}
	return ", behind the edges"
}
