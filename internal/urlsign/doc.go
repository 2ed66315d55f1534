// Package urlsign signs and verifies Streamfront's access tokens: the
// origin signs, the edges verify. It has two jobs, both HMAC-SHA256 over
// shared secrets:
//
//   - Viewer tokens (token.go): signed URLs and signed cookies for private
//     videos, modelled on CloudFront's canned and custom policies. A
//     Policy names a resource (a path prefix such as "/videos/{id}/", an
//     exact path, or a prefix with a "*" wildcard), when it expires, and
//     optionally when it starts and which client address may use it.
//     The token is
//
//     base64url(policy JSON) "." base64url(HMAC-SHA256(key, policy JSON))
//
//     with the key's ID inside the signed policy ("kid"), so a verifier
//     can hold several keys and keys can be rotated: sign with the new
//     key once every edge knows it, retire the old one once the tokens
//     signed with it have expired.
//
//   - Edge requests (request.go): every request an edge sends to the
//     origin carries a signature of its method and path at a time, made
//     with a secret the edges share with the origin, so the origin can
//     refuse viewers who bypass the CDN (CloudFront's Origin Access
//     Control plays this part with SigV4). The secret itself never
//     crosses the wire, and a captured header opens one path for at most
//     MaxRequestSkew.
//
// Everything here parses untrusted bytes: lengths are bounded before
// decoding, base64 is decoded strictly (one spelling per byte string, so a
// changed token is a different token), signatures are compared in
// constant time, and FuzzVerify checks that only tokens made by Sign with
// a known key verify.
package urlsign
