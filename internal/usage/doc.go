// Package usage is Streamfront's delivery metering: the Meter that each edge
// feeds on its hot path (one Event per response), the Reports it flushes
// with idempotent IDs, the aggregation that answers usage queries (rows by
// hour or day, grouped by video, edge or kind, and CSV), and the bill
// Estimate from a price table.
//
// It does no I/O of its own: a Meter hands Reports to a Sink, and
// origin/usagestore keeps them in S3 (the source of truth) and reads them
// back for queries.
//
// What a crash loses: a Meter aggregates in memory and flushes every
// FlushInterval (10 s by default), so a kill -9 loses the counts of the
// interval in progress, plus any flushed Reports the Sink had not yet
// accepted (none while the Sink is reachable; see Config.MaxPendingBytes). A
// graceful Close flushes and delivers everything.
package usage
