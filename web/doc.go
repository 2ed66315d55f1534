// Package web is the Streamfront site: the video library, the upload page
// and the server-rendered watch pages (with OpenGraph, Twitter and
// schema.org VideoObject metadata for search engines and link previews),
// in front of the origin's API.
//
// A live stream has its page at /live/{id} (page_live.go, the API's
// page_url): the player in live mode (low latency at the edge, the DVR
// window behind it, a LIVE badge, the latency, "Back to live"), a
// schema.org BroadcastEvent, and the recording's watch page once the
// broadcast has ended. /sitemap.xml lists it while a broadcast is on.
//
// Pages are html/template documents embedded in the binary and readable
// without JavaScript; scripts only upload and play. Requests under /api/ are
// reverse-proxied, streamed both ways, to the origin, so the browser talks
// to one host; the built player is served under /player/ by package player.
//
// Under /admin is the operator's dashboard (admin.go): a sign-in with the
// API key kept server-side behind an opaque session cookie, usage charts
// drawn as SVG on the server, the bill estimate, videos, invalidations
// with their history (when each edge applied each), the edges as the
// router and their metrics describe them, live streams, and the encode
// queue (the origin's GET /api/v1/queue).
//
// Build a Server with New from a Config and run it with Run(ctx).
package web
