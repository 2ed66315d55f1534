#!/usr/bin/env node
// End-to-end check of the dashboard: opens /admin in Debian's headless
// Chromium, follows the redirect to the sign-in form, signs in with the API
// key, waits for the overview's usage chart, and reads what the page shows.
// Prints one JSON line:
//
//   {"ok":true,"signInRedirect":true,"totals":{"bytesOut":"…","requests":"…"},
//    "chartTitle":"Bytes delivered","chartPoints":48,"billTotal":"… USD",
//    "edges":["edge-1","edge-2"],"cookieVisibleToScripts":false,
//    "localStorageKeys":0,"keyInURL":false,"errors":[]}
//
// ok means it signed in and the overview showed the chart. Exit 0 then, 1
// otherwise, 2 for bad arguments. playwright-core comes from
// player/node_modules.
//
//   node web/e2e/admin.mjs --url http://127.0.0.1:8080/admin --api-key K \
//        --screenshot out.png [--timeout-ms 60000]

import { parseArgs } from 'node:util';
import { runCheck, CheckFailed } from '../../player/e2e/chromium.mjs';

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      screenshot: { type: 'string' },
      'timeout-ms': { type: 'string', default: '60000' },
    },
  }));
  if (!opts.url || !opts['api-key'] || !opts.screenshot) throw new Error('--url, --api-key and --screenshot are required.');
} catch (err) {
  process.stderr.write(`${err.message}\nusage: node admin.mjs --url <site>/admin --api-key K --screenshot <png> [--timeout-ms 60000]\n`);
  process.exit(2);
}
const timeoutMs = Number(opts['timeout-ms']);
const key = opts['api-key'];

const result = {
  ok: false, reason: '', signInRedirect: false, totals: {}, chartTitle: '', chartPoints: 0,
  tableRows: 0, billTotal: '', edges: [], cookieVisibleToScripts: true, localStorageKeys: -1,
  keyInURL: false, errors: [],
};

async function check(page) {
  const urls = [];
  page.on('request', (req) => urls.push(req.url()));

  const response = await page.goto(opts.url, { waitUntil: 'load', timeout: timeoutMs });
  if (!response || !response.ok()) throw new CheckFailed(`the dashboard answered HTTP ${response ? response.status() : 'nothing'}`);
  result.signInRedirect = new URL(page.url()).pathname === '/admin/sign-in';
  if (!result.signInRedirect) throw new CheckFailed(`without a session the dashboard showed ${page.url()}, not the sign-in form`);

  await page.fill('input[name="api_key"]', key);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/admin', { timeout: timeoutMs }),
    page.click('button[type="submit"]'),
  ]);
  await page.waitForSelector('#chart-bytes svg[role="img"]', { timeout: timeoutMs });

  Object.assign(result, await page.evaluate(() => {
    const text = (sel) => (document.querySelector(sel) || {}).textContent || '';
    const chart = document.getElementById('chart-bytes');
    return {
      totals: { bytesOut: text('[data-role="bytes-out"]').trim(), requests: text('[data-role="requests"]').trim() },
      chartTitle: text('#chart-bytes-title'),
      // Points the library drew for the first series (circles on the line).
      chartPoints: chart.querySelectorAll('svg circle').length,
      tableRows: chart.querySelectorAll('tbody tr').length,
      billTotal: text('[data-role="bill-total"]').trim(),
      cookieVisibleToScripts: document.cookie.includes('sf_admin'),
      localStorageKeys: window.localStorage.length,
    };
  }));
  await page.screenshot({ path: opts.screenshot, fullPage: true });

  await page.click('nav.admin-nav a[href="/admin/edges"]');
  await page.waitForSelector('table[data-role="edges"]', { timeout: timeoutMs });
  result.edges = await page.$$eval('table[data-role="edges"] tbody th', (ths) => ths.map((th) => th.firstChild.textContent.trim()));

  result.keyInURL = urls.some((u) => u.includes(encodeURIComponent(key)) || u.includes(key));
  result.ok = result.chartTitle !== '' && result.tableRows > 0;
  if (!result.ok) result.reason = 'the overview showed no usage chart';
}

await runCheck({ result, timeoutMs, screenshot: opts.screenshot, check });
