// Package natsserver runs an embedded NATS server with JetStream in this
// process, for `streamfront all` and for tests: the queue that encode jobs
// (and later invalidations, usage reports, webhook deliveries) travel on.
//
// Production points every role at a NATS cluster by URL instead; nothing
// else in Streamfront knows whether its NATS is embedded.
package natsserver
