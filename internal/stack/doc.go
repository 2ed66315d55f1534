// Package stack runs every Streamfront role in one process: an S3 server
// (versitygw on a data directory), the origin, two edges and the web site.
// It is what `streamfront all` (and so `make run`) starts, and what the
// end-to-end tests start, so both exercise the same topology that the
// docker-compose file runs as separate services.
package stack
