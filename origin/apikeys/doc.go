// Package apikeys keeps the API's keys: created, listed and revoked
// through the API, each with scopes and a rate limit, stored hashed.
//
// A key is "sf_<id>_<secret>": the ID finds its record in S3 in one read
// (no scan, no table), and only the SHA-256 of the secret is stored — a
// secret of 256 random bits needs no slow hash, and a leaked bucket gives
// no usable key. The deployment file's `secrets.api_key` stays the first
// admin key, compared in constant time and never stored.
//
// Records are cached for CacheFor (30 s): a key revoked on one origin is
// refused there at once and on the others within that time. Rate limits
// are token buckets per key and per process: with N origins behind a
// balancer a key gets up to N times its limit.
package apikeys
