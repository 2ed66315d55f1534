// Package bench measures Streamfront side by side with the tools people
// would otherwise use — nginx proxy_cache, Varnish and ffmpeg — on the
// machine it runs on, and renders the figures as a Markdown table. It is
// what `make bench` runs (through bench/cmd/benchtable); it is never part
// of `make test`, and nothing here starts a server from a Go test.
//
// Every external server (versitygw, the origin, edges, nginx, Varnish) is a
// separate process in its own process group (process.go), started from a
// temporary directory and stopped when its step ends, on failure too. Each
// step is a file named by what it measures: packaging.go (JIT packaging vs
// ffmpeg -c copy), ladder.go (the default ladder's encode vs the same
// ffmpeg command run by hand, which ladder_plan.go works out as the origin
// does), packagemem.go (the origin's memory while it packages a ~2 GB
// source), edgehits.go, slowviewers.go, hitratio.go, uploadmem.go and
// live.go (glass-to-glass latency of live HLS as hls.js in Chromium sees
// it — livelatency.mjs reads a wall clock ffmpeg burns into the frames —
// through an edge and through nginx-rtmp, and one edge's CPU and memory
// under low-latency viewers, whose playlists llplaylist.go reads).
// jobwatch.go follows a packaging job from outside the origin: the API's
// status and stage, the origin's memory, the ffmpeg it runs. The servers
// compared live in streamfront.go (origin and edge), nginx.go and
// varnish.go, put side by side by caches.go; wrk.go runs the load
// generator and parses its report; load.go records how busy the (possibly
// shared) machine was and how much CPU other work took from a timed run;
// table.go renders the report and run.go puts the steps in order.
//
// cachetests.go is apart from the steps: `make cachetests` (through
// bench/cmd/cachetests) runs the public HTTP cache test suite
// (edge/cachetests) against the edge, nginx proxy_cache and Varnish with
// its default VCL, each configured for that run, and prints how many of
// the suite's tests each passes: correctness, not speed.
package bench
