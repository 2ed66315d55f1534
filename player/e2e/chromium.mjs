// How the player's browser checks start Debian's Chromium: headless, no
// sandbox (containers), no GPU, no QUIC (plain HTTP/1.1 to loopback test
// servers), no background traffic that could be mistaken for the player's,
// and autoplay allowed.

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
