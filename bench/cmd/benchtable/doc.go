// Command benchtable runs Streamfront's benchmarks side by side with
// nginx, Varnish and ffmpeg on this machine and prints a Markdown table,
// also written to bench/out/results.md. `make bench` runs it after
// building bin/streamfront; -quick gives a two-minute smoke run, and -h
// lists the flags that shorten or select the measurements.
package main
