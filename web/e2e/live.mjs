#!/usr/bin/env node
// End-to-end check of a live page (/live/{id}) in Debian's headless
// Chromium, while a broadcast is on: the player plays the low-latency
// playlist (hls.js lowLatencyMode) with the LIVE badge and the latency
// shown; moving the DVR slider back plays the DVR playlist from there;
// "Back to live" returns to the live edge; then, after it writes
// "at-live-again" on stderr (the test stops the encoder then), the page
// must move to the recording's watch page. Waits are bounded by
// --timeout-ms; nothing is timed. Prints one JSON line:
//
//   {"ok":true,"lowLatencyMode":true,"liveBadge":true,"latency":"Latency 2.1 s",
//    "advanced":3.2,"dvr":true,"behindInDVR":21.5,"backToLive":true,
//    "recordingPage":"/watch/…","errors":[]}
//
// Exit 0 when ok, 1 otherwise, 2 for bad arguments. playwright-core comes
// from player/node_modules.
//
//   node web/e2e/live.mjs --url http://127.0.0.1:8080/live/ID --screenshot out.png [--timeout-ms 90000]

import { parseArgs } from 'node:util';
import { runCheck, CheckFailed } from '../../player/e2e/chromium.mjs';

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      screenshot: { type: 'string' },
      'back-seconds': { type: 'string', default: '20' },
      'timeout-ms': { type: 'string', default: '90000' },
    },
  }));
  if (!opts.url || !opts.screenshot) throw new Error('--url and --screenshot are required.');
} catch (err) {
  process.stderr.write(`${err.message}\nusage: node live.mjs --url <site>/live/<id> --screenshot <png> [--back-seconds 20] [--timeout-ms 90000]\n`);
  process.exit(2);
}
const timeoutMs = Number(opts['timeout-ms']);
const backSeconds = Number(opts['back-seconds']);

// ended: the test has been told to stop the encoder.
let ended = false;

const result = {
  ok: false, reason: '', lowLatencyMode: false, liveBadge: false, latency: '', advanced: 0,
  dvr: false, behindInDVR: 0, backToLive: false, recordingPage: '', mode: '', failedRequests: [],
  errorsBeforeEnd: 0, errors: [],
};

// playerState reads what the test judges from the mounted player.
function playerState() {
  const el = document.querySelector('.player.sf-mounted');
  const s = el && el.streamfront;
  if (!s || !s.live) return null;
  const badge = el.querySelector('.sf-live-badge');
  return {
    time: s.video.currentTime,
    paused: s.video.paused,
    lowLatencyMode: !!(s.hls && s.hls.config.lowLatencyMode),
    mode: s.live.mode,
    behind: s.live.behind,
    latencyText: (el.querySelector('.sf-live-latency') || {}).textContent || '',
    badge: !!badge && badge.offsetParent !== null && badge.textContent === 'LIVE' && badge.dataset.state === 'edge',
    backVisible: !el.querySelector('.sf-live-back').hidden,
    sliderMin: Number(el.querySelector('.sf-live-dvr').min),
  };
}

// waitFor polls the player until ok(state) holds.
async function waitFor(page, what, ok, deadline) {
  let last = null;
  while (Date.now() < deadline) {
    last = await page.evaluate(playerState);
    if (last && ok(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new CheckFailed(`${what}: not within the time allowed; last player state ${JSON.stringify(last)}`);
}

// advancing waits until currentTime moves on by more than a second.
async function advancing(page, what, deadline) {
  const from = await waitFor(page, `${what} (playing)`, (s) => !s.paused && s.time > 0, deadline);
  const to = await waitFor(page, `${what} (currentTime advancing)`, (s) => s.time > from.time + 1, deadline);
  return to.time - from.time;
}

async function check(page) {
  const deadline = Date.now() + timeoutMs;
  // Failed requests, with their URLs (the console says only the status).
  page.on('response', (res) => {
    if (res.status() >= 400) result.failedRequests.push({ url: res.url(), status: res.status(), afterEnd: ended });
  });
  const response = await page.goto(opts.url, { waitUntil: 'load', timeout: timeoutMs });
  if (!response || !response.ok()) throw new CheckFailed(`the live page answered HTTP ${response ? response.status() : 'nothing'}`);

  // At the live edge, in low-latency mode.
  result.advanced = await advancing(page, 'at the live edge', deadline);
  const edge = await waitFor(page, 'the LIVE badge and the latency shown',
    (s) => s.badge && /^Latency \d/.test(s.latencyText), deadline);
  result.lowLatencyMode = edge.lowLatencyMode;
  result.liveBadge = edge.badge;
  result.latency = edge.latencyText;

  // Back into the DVR window with the slider, as a viewer drags it.
  await waitFor(page, `a DVR window of ${backSeconds + 5} s`, (s) => s.sliderMin <= -(backSeconds + 5), deadline);
  await page.evaluate((back) => {
    const slider = document.querySelector('.sf-live-dvr');
    slider.value = String(-back);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    slider.dispatchEvent(new Event('change', { bubbles: true }));
  }, backSeconds);
  const dvr = await waitFor(page, 'playing from the DVR playlist',
    (s) => s.mode === 'dvr' && s.backVisible && s.behind > backSeconds / 2, deadline);
  await advancing(page, 'in the DVR window', deadline);
  result.dvr = true;
  result.behindInDVR = dvr.behind;

  // And back.
  await page.click('.sf-live-back');
  await waitFor(page, 'back at the live edge', (s) => s.mode === 'live' && s.badge && s.lowLatencyMode, deadline);
  await advancing(page, 'back at the live edge', deadline);
  result.backToLive = true;
  await page.screenshot({ path: opts.screenshot });

  // The broadcast ends: the page moves to its recording.
  result.errorsBeforeEnd = result.errors.length;
  ended = true;
  process.stderr.write('at-live-again\n');
  try {
    await page.waitForURL((u) => u.pathname.startsWith('/watch/'), { timeout: Math.max(1, deadline - Date.now()) });
  } catch {
    throw new CheckFailed(`the page stayed at ${page.url()} after the broadcast ended`);
  }
  result.recordingPage = new URL(page.url()).pathname;
  result.ok = true;
}

async function collect(page) {
  if (result.recordingPage) return; // another page by now
  const s = await page.evaluate(() => {
    const el = document.querySelector('.player.sf-mounted');
    return el && el.streamfront ? { errors: el.streamfront.errors, mode: el.streamfront.live && el.streamfront.live.mode } : null;
  });
  if (!s) return;
  result.mode = s.mode || '';
  for (const e of s.errors) result.errors.push(e);
}

await runCheck({ result, timeoutMs, screenshot: opts.screenshot, check, collect });
