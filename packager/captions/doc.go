// Package captions reads caption files people upload (WebVTT or SRT),
// refuses what is not one with a sentence saying why, and writes them as
// the WebVTT that HLS players take (RFC 8216 §3.5), with the one-segment
// subtitle playlist that lists it. Parsing is go-astisub's.
package captions
