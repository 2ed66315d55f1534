// Package bench measures Streamfront side by side with the tools people
// would otherwise use — nginx proxy_cache, Varnish and ffmpeg — on the
// machine it runs on, and renders the figures as a Markdown table. It is
// what `make bench` runs (through bench/cmd/benchtable); it is never part
// of `make test`, and nothing here starts a server from a Go test.
//
// Every external server (versitygw, the origin, edges, nginx, Varnish) is a
// separate process in its own process group (process.go), started from a
// temporary directory and stopped when its step ends, on failure too. Each
// step is a file named by what it measures: packaging.go, edgehits.go,
// slowviewers.go, hitratio.go and uploadmem.go. The servers compared live
// in streamfront.go (origin and edge), nginx.go and varnish.go, put side by
// side by caches.go; wrk.go runs the load generator and parses its report;
// load.go records how busy the (possibly shared) machine was; table.go
// renders the report and run.go puts the steps in order.
package bench
