#!/usr/bin/env node
// Lighthouse accessibility audit of site pages in Debian's headless
// Chromium. Prints one JSON line:
//
//   {"ok":true,"pages":[{"url":"…","score":100,"failing":[{"id":"color-contrast","title":"…","nodes":["…"]}]}]}
//
// ok means every page was audited (not that it scored well: the Go test
// judges the scores). A --cookie is sent with every request, so pages behind
// the dashboard's sign-in can be audited. lighthouse and chrome-launcher come
// from web/e2e/node_modules (npm ci in web/e2e).
//
//   node web/e2e/lighthouse.mjs --url http://127.0.0.1:8080/ [--url …] [--cookie name=value]

import { parseArgs } from 'node:util';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string', multiple: true },
      cookie: { type: 'string' },
    },
  }));
  if (!opts.url || opts.url.length === 0) throw new Error('at least one --url is required.');
} catch (err) {
  process.stderr.write(`${err.message}\nusage: node lighthouse.mjs --url <page> [--url <page>…] [--cookie name=value]\n`);
  process.exit(2);
}

const result = { ok: false, reason: '', pages: [] };
let chrome;
try {
  chrome = await chromeLauncher.launch({
    chromePath: process.env.STREAMFRONT_CHROMIUM || '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  for (const url of opts.url) {
    const flags = { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['accessibility'] };
    if (opts.cookie) flags.extraHeaders = { Cookie: opts.cookie };
    const run = await lighthouse(url, flags);
    const lhr = run.lhr;
    const failing = Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode === 'binary')
      .map((a) => ({
        id: a.id,
        title: a.title,
        nodes: ((a.details && a.details.items) || []).slice(0, 5).map((i) => (i.node && (i.node.snippet || i.node.selector)) || ''),
      }));
    result.pages.push({
      url,
      finalURL: lhr.finalDisplayedUrl || lhr.finalUrl,
      score: Math.round(lhr.categories.accessibility.score * 100),
      failing,
      runtimeError: lhr.runtimeError ? lhr.runtimeError.message : '',
    });
  }
  result.ok = true;
} catch (err) {
  result.reason = `error: ${err.message}`;
} finally {
  if (chrome) {
    try { await chrome.kill(); } catch { /* already gone */ }
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.ok ? 0 : 1);
