#!/usr/bin/env node
// End-to-end check of the upload page: opens it in Debian's headless
// Chromium, picks a file, fills title, description and tags (and the API
// key when given), submits, and waits until the page shows the video ready
// (a link to its watch page) or an error. Prints one JSON line:
//
//   {"ok":true,"result":"Your video is ready. Watch …","watchURL":"/watch/ID",
//    "stages":["probing","transcoding",…],"uploadPercent":100,"error":"","errors":[]}
//
// ok means the page reached "ready". Exit 0 then, 1 otherwise, 2 for bad
// arguments. playwright-core comes from player/node_modules.
//
//   node web/e2e/upload.mjs --url http://127.0.0.1:8080/upload --file clip.mp4 \
//        --screenshot out.png [--title T] [--description D] [--tags "a, b"] [--api-key K] [--timeout-ms 60000]

import { parseArgs } from 'node:util';
import { runCheck } from '../../player/e2e/chromium.mjs';

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: 'string' },
      file: { type: 'string' },
      screenshot: { type: 'string' },
      title: { type: 'string', default: '' },
      description: { type: 'string', default: '' },
      tags: { type: 'string', default: '' },
      'api-key': { type: 'string' },
      'timeout-ms': { type: 'string', default: '60000' },
    },
  }));
  if (!opts.url || !opts.file || !opts.screenshot) throw new Error('--url, --file and --screenshot are required.');
} catch (err) {
  process.stderr.write(`${err.message}\nusage: node upload.mjs --url <upload page> --file <video> --screenshot <png> [--title T] [--description D] [--tags "a, b"] [--api-key K] [--timeout-ms 60000]\n`);
  process.exit(2);
}
const timeoutMs = Number(opts['timeout-ms']);

const result = { ok: false, result: '', watchURL: '', stages: [], uploadPercent: 0, error: '', errors: [] };

async function check(page) {
  const response = await page.goto(opts.url, { waitUntil: 'load', timeout: timeoutMs });
  if (!response || !response.ok()) throw new Error(`the upload page answered HTTP ${response ? response.status() : 'nothing'}`);

  // Record every stage and the highest upload percentage the page shows.
  await page.evaluate(() => {
    window.__sfSeen = { stages: [], upload: 0 };
    const stage = document.querySelector('[data-role="stage"]');
    const bar = document.querySelector('[data-role="upload-bar"]');
    new MutationObserver(() => {
      const s = window.__sfSeen.stages;
      if (s[s.length - 1] !== stage.textContent) s.push(stage.textContent);
    }).observe(stage, { childList: true, characterData: true, subtree: true });
    // <progress>.value reflects to its value attribute.
    new MutationObserver(() => {
      window.__sfSeen.upload = Math.max(window.__sfSeen.upload, Number(bar.value));
    }).observe(bar, { attributes: true, attributeFilter: ['value'] });
  });

  await page.setInputFiles('#file', opts.file);
  if (opts.title) await page.fill('input[name="title"]', opts.title);
  if (opts.description) await page.fill('textarea[name="description"]', opts.description);
  if (opts.tags) await page.fill('input[name="tags"]', opts.tags);
  if (opts['api-key'] !== undefined) await page.fill('input[name="api_key"]', opts['api-key']);
  await page.click('button[type="submit"]');

  await page.waitForSelector('[data-role="result"]:not([hidden]), #upload-progress [data-role="error"]:not([hidden])', { timeout: timeoutMs });
  // A ready video may still have qualities encoding: follow it to the end.
  await page.waitForFunction(() => {
    const panel = document.getElementById('upload-progress');
    return !panel.querySelector('[data-role="error"]').hidden
      || panel.querySelector('[data-role="processing-text"]').textContent === 'Ready';
  }, null, { timeout: timeoutMs });
  const outcome = await page.evaluate(() => {
    const panel = document.getElementById('upload-progress');
    const res = panel.querySelector('[data-role="result"]');
    const err = panel.querySelector('[data-role="error"]');
    const link = res.querySelector('a');
    return {
      result: res.hidden ? '' : res.textContent,
      watchURL: link && !res.hidden ? link.getAttribute('href') : '',
      error: err.hidden ? '' : err.textContent,
      seen: window.__sfSeen,
    };
  });
  result.result = outcome.result;
  result.watchURL = outcome.watchURL;
  result.error = outcome.error;
  result.stages = outcome.seen.stages;
  result.uploadPercent = outcome.seen.upload;
  result.ok = outcome.watchURL !== '' && outcome.error === '';
  if (!result.ok) result.reason = outcome.error || outcome.result || 'the page showed neither a result nor an error';
  await page.screenshot({ path: opts.screenshot, fullPage: true });
}

await runCheck({ result, timeoutMs, screenshot: opts.screenshot, check });
