// Package stack runs a whole deployment in one process: an S3 server
// (versitygw on a data directory, as a child process), NATS with
// JetStream, the origin, the encoding workers, the edges, the router and
// the web site, each built from the deployment file (internal/config)
// through the same functions the separate roles use. It is what
// `streamfront all` (and so `make run`) starts, and what the end-to-end
// tests start, so both exercise the topology docker-compose runs as
// separate services: viewers enter at the first edge (Stack.SiteURL),
// which serves the site's pages and files from its cache, passes the API
// to the origin and delivers the media; the router steers players and
// downloads between the edges.
package stack
