// Runs the http-cache-tests client (as its cli.mjs does: every test of
// tests/index.mjs plus the Surrogate-Control suite, with node-fetch) against
// the cache at process.argv[2], and prints one JSON object: each test's
// metadata (suite, kind, name) beside its raw result, so the Go side needs
// no second copy of the suite's test list.
import fetch from 'node-fetch'
import { runTests, getResults } from 'http-cache-tests/client/runner.mjs'
import tests from 'http-cache-tests/tests/index.mjs'
import surrogate from 'http-cache-tests/tests/surrogate-control.mjs'

const base = process.argv[2]
if (!base) {
  console.error('usage: node run.mjs BASE_URL')
  process.exit(2)
}
tests.push(surrogate)

await runTests(tests, fetch, false, base)
const results = getResults()
const out = []
for (const suite of tests) {
  for (const test of suite.tests) {
    if (!(test.id in results)) continue // browser-only tests are not run
    out.push({
      id: test.id,
      suite: suite.id,
      name: test.name,
      kind: test.kind || 'required',
      depends_on: test.depends_on || [],
      result: results[test.id]
    })
  }
}
console.log(JSON.stringify(out, null, 1))
