#!/usr/bin/env node
// Keyboard and captions check: opens a page holding a Streamfront player
// whose master has a SUBTITLES group with two tracks, plays, and drives it
// with the keyboard as a viewer would (focus on the player, keys pressed in
// Chromium): space pauses, `l` seeks 10 s on, `c` turns captions on (a cue
// of the first track is shown), the captions menu switches to the second
// track (its cue is shown), `c` turns them off. Screenshots go beside
// --screenshot. Prints one JSON line, exit status as play.mjs.
//
//   node player/e2e/keys.mjs --url http://127.0.0.1:8080/captions --screenshot out.png \
//        --captions "English=Hello from SRT" --captions "Deutsch=Hallo aus WebVTT"

import { parseArgs } from 'node:util';
import { CheckFailed, runCheck } from './chromium.mjs';

function usage(message) {
  process.stderr.write(`${message}\nusage: node keys.mjs --url <page> --screenshot <png> `
    + '--captions "<track name>=<cue text>" (twice) [--timeout-ms 60000]\n');
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      url: { type: 'string' },
      screenshot: { type: 'string' },
      captions: { type: 'string', multiple: true, default: [] },
      'timeout-ms': { type: 'string', default: '60000' },
    },
  }));
} catch (err) {
  usage(err.message);
}
if (!values.url || !values.screenshot) usage('--url and --screenshot are required.');
const tracks = values.captions.map((arg) => {
  const i = arg.indexOf('=');
  if (i <= 0) usage(`--captions ${arg}: want "<track name>=<cue text>".`);
  return { name: arg.slice(0, i), text: arg.slice(i + 1) };
});
if (tracks.length !== 2) usage('give --captions twice: the first track turned on by `c`, then another.');
const timeoutMs = Number(values['timeout-ms']);
const deadline = Date.now() + timeoutMs;
const shot = (suffix) => values.screenshot.replace(/\.png$/, '') + suffix + '.png';

const result = {
  ok: false, url: values.url, engine: '', steps: [], captions: [], screenshot: values.screenshot, errors: [],
};

// state reads what the checks need from the page in one round trip.
function state(page) {
  return page.evaluate(() => {
    const box = document.querySelector('.sf-mounted');
    const sf = box && box.streamfront;
    const video = sf && sf.video;
    if (!video) return null;
    const subs = Array.from(video.textTracks).filter((t) => t.kind === 'subtitles' || t.kind === 'captions');
    return {
      engine: sf.engine,
      paused: video.paused,
      time: video.currentTime,
      duration: video.duration,
      failed: sf.failed,
      errors: sf.errors,
      tracks: subs.map((t) => ({
        label: t.label, mode: t.mode,
        active: t.activeCues ? Array.from(t.activeCues).map((c) => c.text) : [],
      })),
    };
  });
}

async function waitFor(page, what, test) {
  let last = null;
  while (Date.now() < deadline) {
    last = await state(page);
    if (last && last.failed) throw new CheckFailed(`the player failed while waiting for ${what}: ${JSON.stringify(last.errors)}`);
    if (last && test(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new CheckFailed(`timed out waiting for ${what}; last state: ${JSON.stringify(last)}`);
}

function step(name, s) {
  result.steps.push({ step: name, time: Number(s.time.toFixed(2)), paused: s.paused });
}

await runCheck({
  result,
  timeoutMs,
  screenshot: values.screenshot,
  collect: async (page) => {
    const s = await state(page);
    if (s) {
      result.engine = s.engine;
      result.errors.push(...(s.errors || []));
    }
  },
  check: async (page) => {
    await page.goto(values.url, { timeout: timeoutMs });
    await waitFor(page, 'the subtitle tracks', (s) => s.tracks.length >= 2 && s.duration > 0);
    await page.evaluate(() => document.querySelector('.sf-mounted').streamfront.video.play());
    let s = await waitFor(page, 'playback past 2 s', (x) => !x.paused && x.time > 2);
    if (s.tracks.some((t) => t.mode === 'showing')) throw new CheckFailed('captions were on before `c` was pressed');

    // Keyboard focus in the player, as after a click on the picture
    // (media-chrome gives the <video> tabindex=-1 for that).
    await page.focus('.sf-mounted video');
    await page.keyboard.press(' ');
    s = await waitFor(page, 'space to pause', (x) => x.paused);
    step('space', s);

    const before = s.time;
    await page.keyboard.press('l');
    s = await waitFor(page, '`l` to seek 10 s on', (x) => Math.abs(x.time - (before + 10)) < 0.5);
    step('l', s);

    await page.keyboard.press('c');
    s = await waitFor(page, `\`c\` to show "${tracks[0].text}"`, (x) => x.tracks.some((t) => t.mode === 'showing' && t.active.includes(tracks[0].text)));
    result.captions.push(s.tracks.find((t) => t.mode === 'showing'));
    step('c', s);
    await page.screenshot({ path: shot('') });

    // The captions menu: its button, then the other track's item.
    await page.locator('media-captions-menu-button').click();
    await page.getByRole('menuitemradio', { name: tracks[1].name }).click();
    s = await waitFor(page, `the captions menu to show "${tracks[1].text}"`, (x) => x.tracks.some((t) => t.mode === 'showing' && t.label === tracks[1].name && t.active.includes(tracks[1].text)));
    result.captions.push(s.tracks.find((t) => t.mode === 'showing'));
    step('menu', s);
    await page.screenshot({ path: shot('-second-track') });

    await page.focus('.sf-mounted video');
    await page.keyboard.press('c');
    s = await waitFor(page, '`c` to hide the captions', (x) => !x.tracks.some((t) => t.mode === 'showing'));
    step('c off', s);
    result.ok = true;
  },
});
