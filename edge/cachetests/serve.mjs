// Starts the http-cache-tests server (its server/server.mjs) with two
// changes made from outside, so the suite itself stays as published:
//
//   - it listens on 127.0.0.1 only (server.mjs listens on every
//     interface, and our tests' servers stay on loopback);
//   - when CACHETESTS_STRIP_PREFIX is set (e.g. "/videos"), that prefix is
//     removed from request paths before the suite sees them. A cache can
//     then be measured on paths it treats specially (the edge's video
//     policy under /videos/) with the client's base URL ending in the
//     prefix.
//
// The port comes from CACHETESTS_PORT; server.mjs reads it from npm's
// environment, which is set here as `npm run server --port=N` would.
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'

const port = process.env.CACHETESTS_PORT
if (!port) {
  console.error('CACHETESTS_PORT is required')
  process.exit(2)
}
process.env.npm_config_protocol = 'http'
process.env.npm_config_port = port
// server.mjs writes its pid here; keep it out of the source tree.
process.env.npm_config_pidfile = process.env.CACHETESTS_PIDFILE ||
  path.join(os.tmpdir(), `cachetests-${process.pid}.pid`)

const prefix = process.env.CACHETESTS_STRIP_PREFIX || ''
const createServer = http.createServer
http.createServer = function (handler) {
  const server = createServer.call(http, (req, res) => {
    if (prefix && req.url.startsWith(prefix + '/')) req.url = req.url.slice(prefix.length)
    handler(req, res)
  })
  const listen = server.listen
  server.listen = (p, ...rest) => listen.call(server, p, '127.0.0.1', ...rest)
  return server
}

await import('http-cache-tests/server/server.mjs')
