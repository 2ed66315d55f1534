// Package fastpath is the edge's lean HTTP/1.1 serving loop: it reads
// requests with a strict reader and writes the answers a Handler gives
// it (status line, header lines, body in memory, optionally a copy on
// disk sent with sendfile), and hands every other connection to net/http.
//
// It knows nothing of caches. For each request its reader accepts (GET or
// HEAD, origin-form, HTTP/1.1, within a strict subset: reader.go), it asks
// the connection's Answerer; an answer is written with one writev (or,
// for a body with a copy on disk, its head with MSG_MORE and the body
// with sendfile), with Date and Connection: close added as net/http adds
// them. At the first
// request the Answerer does not take, or the reader refuses, the
// connection goes — with every byte read so far replayed first — to an
// http.Server through a HandoffListener (handoff.go), for the rest of its
// life. TLS connections are handed over before a byte is read.
//
// The pieces: server.go (Server, the connection loop and its timeouts,
// shutdown), answer.go (Handler, Answerer, Answer), reader.go (the
// request reader, fuzzed against http.ReadRequest by FuzzReadRequest),
// handoff.go (the hand-over listener), sendfile.go (bodies sent from a
// file). The edge's Handler is edge/fastpath_answer.go.
package fastpath
