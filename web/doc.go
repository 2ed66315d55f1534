// Package web is the Streamfront site: the video library, the upload page
// and the server-rendered watch pages (with OpenGraph, Twitter and
// schema.org VideoObject metadata for search engines and link previews),
// in front of the origin's API.
//
// Pages are html/template documents embedded in the binary and readable
// without JavaScript; scripts only upload and play. Requests under /api/ are
// reverse-proxied, streamed both ways, to the origin, so the browser talks
// to one host; the built player is served under /player/ by package player.
//
// Under /admin is the operator's dashboard (admin.go): a sign-in with the
// API key kept server-side behind an opaque session cookie, usage charts
// drawn as SVG on the server, the bill estimate, videos, invalidations and
// the edges as the router and their metrics describe them.
//
// Build a Server with New from a Config and run it with Run(ctx).
package web
