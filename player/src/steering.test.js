// Unit tests of the content steering helpers: node --test src/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  createSteeringProbe, measureRTT, probeTargets, steeringLoader, withViewerRTT,
} from './steering.js';

test('reads probe URLs from the steered master\'s session data', () => {
  const targets = probeTargets({
    'com.streamfront.rtt-probe.edge-1': { VALUE: 'http://127.0.0.1:8081/healthz' },
    'com.streamfront.rtt-probe.edge-2': { VALUE: 'https://e2.example.test/healthz' },
    'com.streamfront.rtt-probe.bad name': { VALUE: 'http://x/healthz' },
    'com.streamfront.rtt-probe.js': { VALUE: 'javascript:alert(1)' },
    'com.streamfront.rtt-probe.rel': { VALUE: '/healthz' },
    'com.example.title': { VALUE: 'Hello' },
  });
  assert.deepEqual(targets, [
    { pathway: 'edge-1', url: 'http://127.0.0.1:8081/healthz' },
    { pathway: 'edge-2', url: 'https://e2.example.test/healthz' },
  ]);
  assert.deepEqual(probeTargets(null), []);
});

// fakeNetwork answers each URL after the given delays (one per sample, in
// ms of a fake clock), or never (null), honouring the abort signal.
function fakeNetwork(delays) {
  let clock = 0;
  const calls = {};
  const fetchImpl = (url, init) => {
    assert.equal(init.cache, 'no-store');
    const n = calls[url] = (calls[url] || 0) + 1;
    const d = delays[url] ? delays[url][n - 1] : undefined;
    return new Promise((resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(new Error('aborted')));
      if (d === undefined) { reject(new TypeError('refused')); return; }
      if (d === null) return; // never answers
      setTimeout(() => { clock += d; resolve({ status: 200, arrayBuffer: async () => new ArrayBuffer(3) }); }, 1);
    });
  };
  return { fetchImpl, now: () => clock, calls };
}

test('keeps the fastest of an edge\'s samples', async () => {
  const net = fakeNetwork({ 'http://a/healthz': [30, 12, 15.04] }); // the first pays for the connection
  const rtt = await measureRTT([{ pathway: 'a', url: 'http://a/healthz' }], { ...net, samples: 3, timeoutMs: 1000 });
  assert.deepEqual(rtt, { a: 12 });
  assert.equal(net.calls['http://a/healthz'], 3);
});

test('measures every edge at once and leaves out those that do not answer in time', async () => {
  const net = fakeNetwork({
    'http://a/healthz': [5, 5],
    'http://b/healthz': [80, 70],
    'http://c/healthz': [null], // never answers: cut by the budget
  });
  const rtt = await measureRTT([
    { pathway: 'a', url: 'http://a/healthz' },
    { pathway: 'b', url: 'http://b/healthz' },
    { pathway: 'c', url: 'http://c/healthz' },
    { pathway: 'd', url: 'http://d/healthz' }, // refused
  ], { ...net, samples: 2, timeoutMs: 100 });
  // The fake clock is shared by the parallel requests, so only which
  // edges were measured is checked here.
  assert.deepEqual(Object.keys(rtt).sort(), ['a', 'b']);
  assert.ok(Object.values(rtt).every((ms) => Number.isFinite(ms) && ms >= 0));
  assert.equal(net.calls['http://c/healthz'], 1);
  assert.equal(net.calls['http://d/healthz'], 2);
});

test('puts the measurements in the steering URL, replacing older ones', () => {
  const url = 'http://router/steer/abc?rtt.edge-1=50&rtt.old=3&_HLS_pathway=edge-2&_HLS_throughput=1000';
  assert.equal(withViewerRTT(url, { 'edge-2': 4.5, 'edge-1': 12 }),
    'http://router/steer/abc?_HLS_pathway=edge-2&_HLS_throughput=1000&rtt.edge-1=12&rtt.edge-2=4.5');
});

test('one measurement serves concurrent callers; a stale one is redone', async () => {
  let clock = 0;
  let runs = 0;
  const measure = async () => { runs += 1; return { a: runs }; };
  const probe = createSteeringProbe([{ pathway: 'a', url: 'http://a/healthz' }],
    { measure, maxAgeMs: 1000, now: () => clock });
  const [x, y] = await Promise.all([probe.ready(), probe.ready()]);
  assert.deepEqual([x, y, runs], [{ a: 1 }, { a: 1 }, 1]);
  clock = 999;
  assert.deepEqual(await probe.ready(), { a: 1 });
  clock = 1001;
  assert.deepEqual(await probe.ready(), { a: 2 });
  assert.equal(runs, 2);
});

// BaseLoader stands in for hls.js's XhrLoader: it records what it loads.
class BaseLoader {
  constructor() { this.loaded = []; this.destroyed = false; }
  load(context) { this.loaded.push(context.url); }
  abort() {}
  destroy() { this.destroyed = true; }
}

test('steering requests wait for the measurement and carry it; others do not wait', async () => {
  let release;
  const measured = new Promise((resolve) => { release = resolve; });
  const Loader = steeringLoader(BaseLoader, () => measured);

  const frag = new Loader();
  frag.load({ type: undefined, url: 'http://e/seg.m4s' }, {}, {});
  assert.deepEqual(frag.loaded, ['http://e/seg.m4s']);

  const steer = new Loader();
  steer.load({ type: 'steering-manifest', url: 'http://r/steer/abc?_HLS_pathway=edge-1' }, {}, {});
  assert.deepEqual(steer.loaded, []);
  release({ 'edge-1': 9 });
  await measured;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(steer.loaded, ['http://r/steer/abc?_HLS_pathway=edge-1&rtt.edge-1=9']);

  const gone = new Loader();
  gone.load({ type: 'steering-manifest', url: 'http://r/steer/abc' }, {}, {});
  gone.destroy();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(gone.loaded, [], 'a destroyed loader must not start its request');
});

test('with nothing to wait for (not a router master) steering requests go out unchanged', async () => {
  const Loader = steeringLoader(BaseLoader, () => null);
  const l = new Loader();
  l.load({ type: 'steering-manifest', url: 'http://other/steer.json' }, {}, {});
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(l.loaded, ['http://other/steer.json']);
});

test('prepare is called after the event dispatch that asked for the manifest', async () => {
  // hls.js requests the first steering manifest from its MANIFEST_LOADED
  // listener, which runs before the player's listener sets things up.
  let ready = null;
  const Loader = steeringLoader(BaseLoader, () => ready);
  const l = new Loader();
  l.load({ type: 'steering-manifest', url: 'http://r/steer/abc' }, {}, {});
  ready = Promise.resolve({ 'edge-1': 3 });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(l.loaded, ['http://r/steer/abc?rtt.edge-1=3']);
});

test('a failed preparation still sends the request, unchanged', async () => {
  const Loader = steeringLoader(BaseLoader, () => Promise.reject(new Error('no')));
  const l = new Loader();
  l.load({ type: 'steering-manifest', url: 'http://r/steer/abc' }, {}, {});
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(l.loaded, ['http://r/steer/abc']);
});
