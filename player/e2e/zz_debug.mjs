import { launch } from './chromium.mjs';
import { mkdtemp } from 'node:fs/promises';
const url = process.argv[2];
const ctx = await launch(await mkdtemp('/tmp/sfdbg/c-'), 30000);
const page = ctx.pages()[0] || await ctx.newPage();
const t0 = Date.now();
page.on('console', (m) => console.log('console', m.type(), m.text().slice(0, 300)));
page.on('request', (r) => console.log(Date.now() - t0, 'REQ', r.method(), r.url().slice(0, 160)));
page.on('requestfailed', (r) => console.log(Date.now() - t0, 'FAIL', r.url().slice(0, 160), r.failure()?.errorText));
page.on('response', (r) => console.log(Date.now() - t0, 'RES', r.status(), r.url().slice(0, 160)));
await page.goto(url);
await page.evaluate(() => { const v = document.querySelector('video'); v.muted = true; v.play().catch(()=>{}); });
await new Promise((r) => setTimeout(r, Number(process.env.WAIT || 12000)));
console.log(JSON.stringify(await page.evaluate(() => {
  const sf = document.querySelector('.sf-mounted').streamfront;
  const h = sf.hls;
  return { steering: sf.steering, errors: sf.errors, rs: sf.video.readyState, t: sf.video.currentTime,
    levels: h && h.levels.map((l) => ({ url: l.url, pw: l.pathwayId, ag: l.audioGroups })),
    audio: h && h.audioTracks.map((a) => ({ g: a.groupId, url: a.url })), audioTrack: h && h.audioTrack,
    cur: h && h.currentLevel, load: h && h.loadLevel, buffered: sf.video.buffered.length };
}), null, 1));
await ctx.close();
