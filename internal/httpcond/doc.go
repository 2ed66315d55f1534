// Package httpcond evaluates HTTP conditional requests (RFC 9110 §13) for
// the servers that answer them, the origin and the edge: entity-tag
// comparison (§8.8.3.2), If-None-Match over If-Modified-Since (§13.2.2)
// and If-Range (§13.1.5), so that both answer a viewer's revalidation and
// resumed download the same way.
//
// Header values may be given as strings or as byte slices (the edge's fast
// path reads requests into its own buffers); evaluating IMF-fixdate dates
// and entity tags allocates nothing either way.
package httpcond
