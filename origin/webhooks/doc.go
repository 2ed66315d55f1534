// Package webhooks tells integrators' servers what happened to their
// videos and live streams, the way Mux does: endpoints registered through
// the API, each with its own secret; every event POSTed as JSON, signed
// (Streamfront-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">) so a
// receiver can refuse forgeries and replays; delivered at least once.
//
// Durability comes from the project's queue (JetStream), in two steps:
//
//   - Emit publishes the event (a few bytes: its type and subject) on the
//     "webhook-events" line. Any process that changes a video emits,
//     workers included.
//   - An origin takes it, renders the event's data once (the video as the
//     API shows it then) and fans it out: one "webhook-deliveries" job per
//     endpoint that wants the event, carrying the exact body, so every
//     retry sends the same bytes.
//   - A delivery that fails (not 2xx, timeout) is tried again with
//     exponential back-off (10 s doubling, at most an hour apart) until
//     RetryFor (24 h) after the event, then dropped; an origin that
//     restarts loses none, since the job stays in JetStream until settled.
//
// Each endpoint keeps its last attempts (a bounded log in a JetStream
// key-value bucket) for the API and the dashboard.
package webhooks
