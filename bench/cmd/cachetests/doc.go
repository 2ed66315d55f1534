// Command cachetests runs the public HTTP cache test suite
// (http-cache-tests, edge/cachetests) against Streamfront's edge, nginx
// proxy_cache and Varnish side by side, in front of one suite server, and
// prints the table of required and optional outcomes; each cache's results
// and failures are written to bench/out/cachetests/. `make cachetests`
// runs it after building bin/streamfront and installing the suite.
package main
