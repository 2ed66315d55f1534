// Package config is the deployment file: one YAML document that describes
// a whole Streamfront deployment (S3, the queue, the origin, the workers,
// every edge, the router, the site) with each secret written once, and the
// functions that turn it into each role's Config.
//
// Every role reads its part of the same file (`streamfront <role> -config
// FILE`); `streamfront all` builds every role from it through the same
// functions. Flags and environment variables then override single
// settings (cmd/streamfront). Load reports every mistake at once, each
// with the file, line and key, and refuses unknown keys.
package config
