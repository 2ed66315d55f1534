// Package player serves the Streamfront browser player — hls.js behind a
// <video> element inside media-chrome's controls (captions, speed, quality,
// previews, keyboard shortcuts) — as static assets for the site and for
// embeds.
//
// The JavaScript lives in src/ and is built by npm into dist/ (`make build`,
// which runs `cd player && npm ci && npm run build`). The Go package embeds
// dist/ at compile time, so `go build` never needs npm: without a build the
// handler answers 503 with a sentence saying how to build it.
//
// Mount the handler under a prefix and reference its files with the
// content version, which makes them cacheable for a year:
//
//	assets, err := player.New()
//	mux.Handle("/player/", http.StripPrefix("/player", assets))
//	// <script src="/player/player.js?v={{assets.Version}}"></script>
//
// e2e/play.mjs drives Debian's Chromium through a page holding the player;
// the package's end-to-end test uses it against a stream made by ffmpeg.
// e2e/keys.mjs presses the keyboard shortcuts and turns on captions (one
// SRT, one WebVTT, converted by packager/captions).
// With a master from the Streamfront router (edge/steering), the player
// also measures the viewer's latency to each edge and reports it on hls.js's
// content steering requests (src/steering.js); e2e/steer.mjs checks that in
// Chromium, driven by the router's tests.
//
// With live: true (data-streamfront-live) the player plays a live stream
// (src/live.js): hls.js in low-latency mode on the LL-HLS playlist at the
// live edge, the origin's DVR playlist when the viewer moves back, a live
// bar with the LIVE badge, the latency (wall clock minus the frame's
// EXT-X-PROGRAM-DATE-TIME), the viewer count and "Back to live"; web's
// e2e/live.mjs checks it in Chromium against a real broadcast.
package player
