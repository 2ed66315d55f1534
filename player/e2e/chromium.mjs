// How the player's browser checks start Debian's Chromium: headless, no
// sandbox (containers), no GPU, no QUIC (plain HTTP/1.1 to loopback test
// servers), no background traffic that could be mistaken for the player's,
// and autoplay allowed.

import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.STREAMFRONT_CHROMIUM || '/usr/bin/chromium';

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** Launches Chromium with a fresh profile in userDataDir. */
export function launch(userDataDir, timeoutMs) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1280, height: 800 },
    timeout: timeoutMs,
  });
}

/** CheckFailed is a failed browser check; its message becomes the result's "reason". */
export class CheckFailed extends Error {}

/**
 * runCheck runs one browser check and ends the process: it launches
 * Chromium with a fresh profile, records console and page errors, runs
 * check(page), lets collect(page), when given, copy the player's last state
 * into result (also after a failure), fails the result on any fatal hls.js
 * error, screenshots a check that threw, cleans up, prints result as one JSON line and
 * exits 0 or 1. Every wait in a check watches its deadline, but a browser
 * call can still hang (a launch, a page that never answers): a watchdog
 * ends the run timeoutMs + 20 s after it starts.
 */
export async function runCheck({ result, timeoutMs, screenshot, check, collect }) {
  const deadline = Date.now() + timeoutMs;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(result.ok ? 0 : 1);
  };
  setTimeout(() => {
    result.ok = false;
    result.reason = result.reason || `the run did not finish within --timeout-ms ${timeoutMs} plus 20 s of grace; the browser hung`;
    finish();
  }, timeoutMs + 20000).unref();

  const userDataDir = await mkdtemp(path.join(tmpdir(), 'streamfront-chromium-'));
  let context;
  try {
    await mkdir(path.dirname(path.resolve(screenshot)), { recursive: true });
    context = await launch(userDataDir, Math.max(0, deadline - Date.now()));
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') result.errors.push({ source: 'console', message: msg.text() });
    });
    page.on('pageerror', (err) => result.errors.push({ source: 'page', message: err.message }));
    let threw = true;
    try {
      await check(page);
      threw = false;
    } finally {
      if (collect) await collect(page).catch(() => {});
      if (threw) await page.screenshot({ path: screenshot }).catch(() => {});
    }
    const fatal = result.errors.filter((e) => e.source === 'hls.js' && e.fatal);
    if (fatal.length > 0) {
      result.ok = false;
      result.reason = `hls.js reported ${fatal.length} fatal error(s): ${fatal.map((e) => e.details).join(', ')}`;
    }
  } catch (err) {
    result.ok = false;
    result.reason = err instanceof CheckFailed ? err.message : `error: ${err.message}`;
  } finally {
    if (context) await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
  finish();
}
