// Package queue is Streamfront's durable work queue: jobs published by one
// process and worked by another, on NATS JetStream (a stream with
// work-queue retention, one durable pull consumer per kind of work).
//
// JetStream gives what a job needs and what we do not write ourselves:
// acknowledgement, redelivery of a job whose worker died (after AckWait
// without a heartbeat), de-duplication of a job published twice (by job
// ID, within the stream's duplicate window), and back-pressure (a worker
// fetches only when it has a free slot). Pool runs a fixed number of jobs
// at once, takes from consumers in priority order and keeps each job's
// lease alive while it runs.
package queue
