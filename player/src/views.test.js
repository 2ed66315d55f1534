// Unit tests of the view rule: node --test src/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createViewTracker } from './views.js';

function play(tracker, from, to, duration, step = 0.25) {
  for (let t = from; t <= to + 1e-9; t += step) tracker.update(t, duration, true);
}

test('a long video is a view after 30 s played, reported once', () => {
  let reports = 0;
  const tr = createViewTracker(() => { reports += 1; });
  play(tr, 0, 29.5, 600);
  assert.equal(reports, 0);
  play(tr, 29.75, 40, 600);
  assert.equal(reports, 1);
  assert.equal(tr.reported, true);
});

test('seeking forward is not watching', () => {
  let reports = 0;
  const tr = createViewTracker(() => { reports += 1; });
  play(tr, 0, 5, 600);
  tr.update(300, 600, true); // a seek
  play(tr, 300.25, 320, 600);
  assert.equal(reports, 0);
  assert.ok(tr.played < 30);
});

test('a short video is a view at 75 %', () => {
  let reports = 0;
  const tr = createViewTracker(() => { reports += 1; });
  play(tr, 0, 7, 10);
  assert.equal(reports, 0);
  play(tr, 7.25, 7.5, 10);
  assert.equal(reports, 1);
});

test('paused time does not count', () => {
  let reports = 0;
  const tr = createViewTracker(() => { reports += 1; });
  for (let i = 0; i < 200; i++) tr.update(1, 600, false);
  assert.equal(reports, 0);
  assert.equal(tr.played, 0);
});
