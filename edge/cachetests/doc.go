// Package cachetests runs the public HTTP cache test suite
// (http-cache-tests on npm, the suite behind cache-tests.fyi, pinned in
// package-lock.json beside this file) against an HTTP cache and reads its
// results: the suite's origin server (server.go, through serve.mjs), its
// client (run.go, through run.mjs), counts by the suite's own test kinds
// (summary.go) and a committed per-test baseline that a later run must not
// fall below (baseline.go).
//
// The test in this package measures an edge as `streamfront edge -origin
// URL` runs it (its default distribution), twice: at the root, which it
// caches by RFC 9111 (PolicyRFC9111), and under /videos/
// (the suite server strips the prefix), where it caches by the video
// policy. It fails when a required test that passed in
// testdata/baseline.json no longer passes, and names the ones that now
// pass so the baseline can be raised with -update
// (go test ./edge/cachetests -update). -update runs the suite twice and
// records a test as passing only if it passed both times, so the gate
// does not hang on a test whose outcome depends on timing. The two runs
// take about 35 s in all, almost all of it the suite's own 3 s pauses;
// the table and every required test that does not pass, with the suite's
// reason, go to the test log (-v) and to cachetests-edge.md in the
// artifacts directory. The side-by-side run with nginx and Varnish is in
// bench (make cachetests).
//
// The suite needs node and `npm ci` in this folder (the Makefile's
// edge/cachetests/node_modules target).
package cachetests
