// Package flight deduplicates the edge's concurrent fills of one cache
// key: requests that miss while a fill runs join it (and stream from it)
// instead of starting their own origin fetch.
package flight
