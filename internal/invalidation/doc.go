// Package invalidation carries cache invalidations to the edges durably:
// the origin publishes each one on a JetStream feed (kept 30 days), and
// every edge follows the feed with a consumer of its own, so an edge that
// was down when an invalidation was issued applies it when it comes back
// — before its disk tier answers anything (edge.Config.Invalidations).
// Each edge records when it applied each invalidation, for the history
// the API shows. The origin's direct HTTP fan-out stays the fast path;
// applying one twice only costs a refetch.
package invalidation
