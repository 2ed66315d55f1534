#!/usr/bin/env node
// Glass-to-glass latency of one live HLS stream as hls.js in Debian's
// headless Chromium plays it (bench/live.go runs it; not a test).
//
// The encoder burns its wall clock into every frame before encoding: the
// top-left 384×16 pixels are 24 blocks of 16×16, block i white when bit i
// of (Unix time in ms mod 2^24) is set. On every frame the video presents
// (requestVideoFrameCallback), the page reads the blocks back through a
// canvas and subtracts them from the wall-clock time of that presentation.
// The figure is encoder capture → screen, encoder buffering included, and
// works alike for any server: it needs nothing from the playlist. The
// encoder and the browser share the machine's clock.
//
// The page is served at the stream's own origin (page.route), so no CORS
// is needed from either server; hls.js runs with its defaults
// (lowLatencyMode is on by default and only matters to playlists with
// parts) unless --hls-config (JSON) adds settings. After --warmup-s of playing, samples are kept for --seconds.
// Prints one JSON line:
//
//   {"ok":true,"latencyMs":[…],"liveEdgeS":[…],"targetS":[…],"aheadS":[…],"pdtMs":[…],"unreadable":0,"stalls":0,"lowLatencyMode":true}
//
//   node bench/livelatency.mjs --url http://127.0.0.1:PORT/…/index.m3u8 [--seconds 20] [--warmup-s 5] [--hls-config '{}'] [--timeout-ms 90000]

import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromiumPath, chromiumArgs } from '../player/e2e/chromium.mjs';

// playwright-core and hls.js come from the player's node_modules.
const playerRequire = createRequire(new URL('../player/package.json', import.meta.url));
const { chromium } = playerRequire('playwright-core');
const hlsPath = playerRequire.resolve('hls.js/dist/hls.min.js');

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      'warmup-s': { type: 'string', default: '5' },
      'hls-config': { type: 'string', default: '{}' },
      'timeout-ms': { type: 'string', default: '90000' },
    },
  }));
  if (!opts.url) throw new Error('--url is required.');
} catch (err) {
  process.stderr.write(`${err.message}\nusage: node livelatency.mjs --url <playlist> [--seconds 20] [--warmup-s 5] [--timeout-ms 90000]\n`);
  process.exit(2);
}
const seconds = Number(opts.seconds);
const warmupMs = Number(opts['warmup-s']) * 1000;
const timeoutMs = Number(opts['timeout-ms']);

const result = { ok: false, reason: '', latencyMs: [], liveEdgeS: [], targetS: [], aheadS: [], pdtMs: [], unreadable: 0, stalls: 0, lowLatencyMode: false, errors: [] };

const pageURL = new URL('/__livebench/page.html', opts.url).href;
const hlsURL = new URL('/__livebench/hls.min.js', opts.url).href;
const html = `<!doctype html><meta charset="utf-8"><title>live latency</title>
<video id="v" muted playsinline autoplay></video><script src="${hlsURL}"></script>
<script>
const BITS = 24, MOD = 1 << BITS;
const video = document.getElementById('v');
const canvas = document.createElement('canvas');
canvas.width = BITS * 16; canvas.height = 16;
const g = canvas.getContext('2d', { willReadFrequently: true });
window.bench = { samples: [], unreadable: 0, stalls: 0, errors: [], lowLatencyMode: false };
const hls = new Hls(${JSON.stringify(JSON.parse(opts['hls-config']))});
window.bench.lowLatencyMode = hls.config.lowLatencyMode;
hls.on(Hls.Events.ERROR, (_, d) => window.bench.errors.push({ source: 'hls.js', fatal: d.fatal, details: d.details }));
video.addEventListener('waiting', () => { window.bench.stalls++; });
hls.loadSource(${JSON.stringify(opts.url)});
hls.attachMedia(video);
video.play().catch(() => {});
function bufferAhead() {
  const b = video.buffered, t = video.currentTime;
  for (let i = 0; i < b.length; i++) if (b.start(i) <= t + 0.1 && t < b.end(i)) return b.end(i) - t;
  return 0;
}
function onFrame(_, meta) {
  const shown = performance.timeOrigin + meta.expectedDisplayTime;
  g.drawImage(video, 0, 0, BITS * 16, 16, 0, 0, BITS * 16, 16);
  const px = g.getImageData(0, 0, BITS * 16, 16).data;
  let code = 0, clear = true;
  for (let i = 0; i < BITS; i++) {
    const y = px[(8 * BITS * 16 + i * 16 + 8) * 4 + 1]; // green ≈ luma on grey
    if (y > 96 && y < 160) clear = false;
    if (y >= 128) code += 2 ** i;
  }
  const lat = ((Math.round(shown) % MOD) - code + MOD) % MOD;
  if (!clear || lat > 60000) window.bench.unreadable++;
  else window.bench.samples.push({ at: Date.now(), lat, edge: hls.latency, target: hls.targetLatency, ahead: bufferAhead(), pdt: hls.playingDate ? shown - hls.playingDate.getTime() : null });
  video.requestVideoFrameCallback(onFrame);
}
video.requestVideoFrameCallback(onFrame);
</script>`;

setTimeout(() => {
  result.reason = result.reason || 'the browser hung past --timeout-ms plus 20 s';
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(1);
}, timeoutMs + 20000).unref();

const userDataDir = await mkdtemp(path.join(tmpdir(), 'streamfront-livebench-'));
let context;
try {
  const hlsJS = await readFile(hlsPath);
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport: { width: 800, height: 600 }, timeout: timeoutMs,
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (err) => result.errors.push({ source: 'page', message: err.message }));
  await page.route(pageURL, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.route(hlsURL, (r) => r.fulfill({ status: 200, contentType: 'text/javascript', body: hlsJS }));
  await page.goto(pageURL, { waitUntil: 'load', timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  // Playing: the first frames read.
  let first = 0;
  while (Date.now() < deadline) {
    const n = await page.evaluate(() => window.bench.samples.length);
    if (n > 0) { first = Date.now(); break; }
    await page.waitForTimeout(200);
  }
  if (!first) throw new Error(`no frame was presented within ${timeoutMs} ms`);
  const from = first + warmupMs, to = from + seconds * 1000;
  await page.waitForTimeout(Math.max(0, to - Date.now()));
  const b = await page.evaluate(() => window.bench);
  for (const s of b.samples) {
    if (s.at < from || s.at > to) continue;
    result.latencyMs.push(s.lat);
    result.liveEdgeS.push(s.edge);
    result.targetS.push(s.target);
    result.aheadS.push(s.ahead);
    if (s.pdt !== null) result.pdtMs.push(s.pdt);
  }
  result.unreadable = b.unreadable;
  result.stalls = b.stalls;
  result.lowLatencyMode = b.lowLatencyMode;
  result.errors.push(...b.errors);
  const fatal = b.errors.filter((e) => e.fatal);
  if (result.latencyMs.length === 0) result.reason = 'no readable frame in the measured window';
  else if (fatal.length > 0) result.reason = `hls.js reported fatal errors: ${fatal.map((e) => e.details).join(', ')}`;
  else result.ok = true;
} catch (err) {
  result.reason = `error: ${err.message}`;
} finally {
  if (context) await context.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.ok ? 0 : 1);
