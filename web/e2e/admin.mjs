#!/usr/bin/env node
// End-to-end check of the dashboard: opens /admin in Debian's headless
// Chromium, follows the redirect to the sign-in form, signs in with the API
// key, waits for the overview's usage chart, and reads what the page shows.
// Prints one JSON line:
//
//   {"ok":true,"signInRedirect":true,"totals":{"bytesOut":"…","requests":"…"},
//    "chartTitle":"Bytes delivered","chartPoints":48,"billTotal":"… USD",
//    "edges":["edge-1","edge-2"],"cookieVisibleToScripts":false,
//    "localStorageKeys":0,"keyInURL":false,"errors":[],
//    "invalidation":{"paths":["…"],"applied":["edge-1: … (0.2 s later)",…]},
//    "queue":{"kinds":{"encode-ladder":"1/0",…},"running":["ID",…],"waiting":["ID",…]},
//    "live":["…each live stream's title…"]}
//
// Besides the overview, it saves the invalidations (with --invalidate) and
// queue pages next to --screenshot (NAME-invalidations.png, NAME-queue.png).
//
// With --invalidate PATH it also sends PATH from the invalidations form
// and reloads the history until every edge of the edges page applied it
// (or the timeout).
//
// ok means it signed in and the overview showed the chart. Exit 0 then, 1
// otherwise, 2 for bad arguments. playwright-core comes from
// player/node_modules.
//
//   node web/e2e/admin.mjs --url http://127.0.0.1:8080/admin --api-key K \
//        --screenshot out.png [--timeout-ms 60000] [--invalidate /videos/ID/*]

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
      invalidate: { type: 'string' },
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
  keyInURL: false, errors: [], invalidation: null, queue: null, live: '',
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

  if (opts.invalidate) {
    await page.click('nav.admin-nav a[href="/admin/invalidations"]');
    await page.fill('textarea[name="paths"]', opts.invalidate);
    await Promise.all([
      page.waitForSelector('[data-role="invalidation-result"]', { timeout: timeoutMs }),
      page.click('form.admin-form button[type="submit"]'),
    ]);
    // The edges apply it from the durable feed and record when; the
    // history shows that on the next load.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      result.invalidation = await page.evaluate(() => {
        const row = document.querySelector('[data-role="invalidation-history"] tr[data-invalidation]');
        if (!row) return null;
        return {
          paths: [...row.querySelectorAll('td code')].map((c) => c.textContent),
          applied: [...row.querySelectorAll('li[data-edge]')].map((li) => li.textContent.trim()),
        };
      });
      if ((result.invalidation && result.invalidation.applied.length >= result.edges.length) || Date.now() > deadline) break;
      await page.waitForTimeout(250);
      await page.goto(new URL('/admin/invalidations', page.url()).href, { waitUntil: 'load', timeout: timeoutMs });
    }
  }

  if (opts.invalidate) await page.screenshot({ path: opts.screenshot.replace(/\.png$/, '-invalidations.png'), fullPage: true });

  await page.click('nav.admin-nav a[href="/admin/queue"]');
  await page.waitForSelector('table[data-role="queue-depth"]', { timeout: timeoutMs });
  result.queue = await page.evaluate(() => {
    const ids = (role) => [...document.querySelectorAll(`table[data-role="${role}"] tbody tr`)].map((tr) => tr.dataset.video);
    const kinds = {};
    for (const tr of document.querySelectorAll('table[data-role="queue-depth"] tbody tr')) {
      kinds[tr.dataset.kind] = [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()).join('/');
    }
    return { kinds, running: ids('queue-running'), waiting: ids('queue-waiting') };
  });

  await page.screenshot({ path: opts.screenshot.replace(/\.png$/, '-queue.png'), fullPage: true });

  await page.click('nav.admin-nav a[href="/admin/live"]');
  await page.waitForSelector('h1', { timeout: timeoutMs });
  result.live = await page.evaluate(() => [...document.querySelectorAll('table[data-role="live-streams"] tbody tr th a')].map((a) => a.textContent.trim()));

  result.keyInURL = urls.some((u) => u.includes(encodeURIComponent(key)) || u.includes(key));
  result.ok = result.chartTitle !== '' && result.tableRows > 0;
  if (!result.ok) result.reason = 'the overview showed no usage chart';
}

await runCheck({ result, timeoutMs, screenshot: opts.screenshot, check });
