#!/usr/bin/env node
// End-to-end content steering check: opens a page whose player plays a
// Streamfront router's master playlist in Debian's headless Chromium, and
// watches where hls.js fetches from.
//
//   1. Plays until --min-segments media segments have loaded and a
//      steering manifest has been applied; records which edge (host) served
//      every segment and what each steering request reported.
//   2. POSTs to --fail-url (the test marks the edge in use down at the
//      router there), then waits until segments come from another edge and
//      the player's pathway has changed, and checks playback goes on for a
//      second after that.
//
// Prints one JSON line:
//
//   {"ok":true,"firstPathway":"edge-2","finalPathway":"edge-1",
//    "segmentsBefore":{"127.0.0.1:4001":6},"segmentsAfter":{...},
//    "steering":[{"url":"...","priority":["edge-2","edge-1"],"t":1234}],...}
//
// Exit status 0 when every check passed, 1 otherwise ("reason" says why),
// 2 for bad arguments.
//
//   node player/e2e/steer.mjs --url http://127.0.0.1:8080/watch \
//        --fail-url http://127.0.0.1:8080/fail --screenshot out.png \
//        [--min-segments 4] [--timeout-ms 90000]

import { parseArgs } from 'node:util';
import { CheckFailed, runCheck } from './chromium.mjs';

function usage(message) {
  process.stderr.write(`${message}\n`
    + 'usage: node steer.mjs --url <page URL> --fail-url <URL to POST> --screenshot <png path> '
    + '[--min-segments 4] [--timeout-ms 90000]\n');
  process.exit(2);
}

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        'fail-url': { type: 'string' },
        screenshot: { type: 'string' },
        'min-segments': { type: 'string', default: '4' },
        'timeout-ms': { type: 'string', default: '90000' },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (!values.url) usage('--url is required.');
  if (!values['fail-url']) usage('--fail-url is required.');
  if (!values.screenshot) usage('--screenshot is required.');
  const minSegments = Number(values['min-segments']);
  if (!(minSegments >= 1)) usage('--min-segments must be at least 1.');
  const timeoutMs = Number(values['timeout-ms']);
  if (!(timeoutMs > 0)) usage('--timeout-ms must be a positive number.');
  return { url: values.url, failURL: values['fail-url'], screenshot: values.screenshot, minSegments, timeoutMs };
}

const opts = readOptions();
const started = Date.now();
const deadline = started + opts.timeoutMs;
const remaining = () => Math.max(0, deadline - Date.now());
const since = () => Date.now() - started;

const result = {
  ok: false,
  url: opts.url,
  firstPathway: '',
  finalPathway: '',
  viewerRTT: {},
  segmentsBefore: {},
  segmentsAfter: {},
  steering: [],
  failedAt: null,
  switchedAt: null,
  position: 0,
  screenshot: opts.screenshot,
  errors: [],
};

// Every media segment the page requests, in order: {host, path, t}.
const segments = [];
let failed = false;

function countByHost(list) {
  const out = {};
  for (const s of list) out[s.host] = (out[s.host] || 0) + 1;
  return out;
}

async function snapshot(page) {
  return page.evaluate(() => {
    const box = document.querySelector('.sf-mounted');
    const sf = box && box.streamfront;
    if (!sf) return null;
    return {
      currentTime: sf.video.currentTime,
      paused: sf.video.paused,
      failed: sf.failed,
      errorText: (box.querySelector('.sf-error-text') || {}).textContent || '',
      engine: sf.engine,
      steering: sf.steering ? JSON.parse(JSON.stringify(sf.steering)) : null,
      playerErrors: sf.errors.slice(),
    };
  });
}

async function waitFor(page, what, test) {
  let last = null;
  for (;;) {
    last = await snapshot(page);
    if (last && test(last)) return last;
    if (last && last.failed) throw new CheckFailed(`${what}: the player failed: ${last.errorText}`);
    if (remaining() === 0) {
      throw new CheckFailed(`${what}: timed out after ${opts.timeoutMs} ms (last: ${JSON.stringify(last && { ...last, playerErrors: undefined })}, segments by host: ${JSON.stringify(countByHost(segments))})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function run(page) {
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname.endsWith('.m4s')) segments.push({ host: u.host, path: u.pathname, t: since(), afterFail: failed });
  });
  page.on('response', async (res) => {
    const u = new URL(res.url());
    if (!u.pathname.startsWith('/steer/')) return;
    const entry = { url: res.url(), status: res.status(), t: since(), afterFail: failed };
    try {
      entry.priority = (await res.json())['PATHWAY-PRIORITY'];
    } catch (err) {
      entry.error = err.message;
    }
    result.steering.push(entry);
  });

  const response = await page.goto(opts.url, { waitUntil: 'load', timeout: remaining() });
  if (!response || !response.ok()) throw new CheckFailed(`the page answered HTTP ${response ? response.status() : 'nothing'}`);
  await waitFor(page, 'find the player', () => true);
  await page.evaluate(() => {
    const v = document.querySelector('.sf-mounted').streamfront.video;
    v.muted = true;
    v.play().catch(() => {});
  });

  let s = await waitFor(page, `play with ${opts.minSegments} segments loaded and a steering manifest applied`,
    (x) => x.steering && x.steering.manifests >= 1 && x.currentTime > 1 && segments.length >= opts.minSegments);
  if (!s.steering) throw new CheckFailed('the player reports no content steering: is the page playing a router master?');
  result.firstPathway = s.steering.pathway;
  result.viewerRTT = s.steering.rtt;
  result.segmentsBefore = countByHost(segments);

  // Mark the edge in use down at the router.
  failed = true;
  result.failedAt = since();
  const res = await fetch(opts.failURL, { method: 'POST' });
  if (!res.ok) throw new CheckFailed(`POST ${opts.failURL} answered HTTP ${res.status}`);
  const hostsBefore = new Set(Object.keys(result.segmentsBefore));

  s = await waitFor(page, 'segments from another edge after the steering reload',
    (x) => x.steering.pathway !== result.firstPathway
      && segments.some((seg) => seg.afterFail && !hostsBefore.has(seg.host)));
  result.switchedAt = since();
  result.finalPathway = s.steering.pathway;
  const from = s.currentTime;
  s = await waitFor(page, 'play on for a second after changing edge', (x) => x.currentTime >= from + 1);
  result.position = s.currentTime;
  result.segmentsAfter = countByHost(segments.filter((seg) => seg.afterFail));
  await page.screenshot({ path: opts.screenshot });
  result.ok = true;
}

await runCheck({
  result,
  timeoutMs: opts.timeoutMs,
  screenshot: opts.screenshot,
  check: run,
  collect: async (page) => {
    const last = await snapshot(page);
    if (last) {
      for (const e of last.playerErrors) result.errors.push(e);
      if (!result.position) result.position = last.currentTime;
      if (!result.finalPathway && last.steering) result.finalPathway = last.steering.pathway;
    }
    if (!result.ok) result.segmentsAfter = countByHost(segments.filter((seg) => seg.afterFail));
  },
});
