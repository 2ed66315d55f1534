// Package usagestore keeps the edges' usage reports in S3 and answers usage
// queries from them: it is the origin's half of metering (internal/usage is
// the edges' half).
//
// Layout (DESIGN.md's bucket):
//
//	usage/raw/{hour}/{edge}/{run}-{seq}.json   one usage.Report, written once
//	usage/hourly/{hour}.json                   the hour's records + which reports they fold
//	usage/daily/{day}.json                     a closed day's records (hour detail kept)
//
// A report's key is its ID, written with If-None-Match: *, so a retried or
// replayed report is stored once, for ever (not only within a duplicate
// window). Reports reach S3 either straight from a Sink (a process holding
// S3 credentials) or through the "usage" kind of the JetStream queue
// (QueueSink at the edge, Consumer at the origin), which keeps S3
// credentials on the origin alone.
//
// The Compactor folds raw reports into the hour's object incrementally
// (the object lists the report IDs it folded, as ranges of seq per run),
// and folds a day into one object once none of its hours can change any
// more: reports older than usage.Config.MaxReportAge are never sent, so an
// hour is final Horizon after its end. A query reads one object per closed
// day and, for days still open, one per hour, plus the raw reports not
// folded yet of the last two hours: a month is about 30 + 26 reads and two
// listings, whatever the number of edges.
//
// Nothing here deletes: raw reports and hour objects of final days are not
// read again once their day object exists, so an S3 lifecycle rule may
// expire usage/raw/ and usage/hourly/ after a week (longer than Horizon
// plus the Compactor's DayLookback).
package usagestore
