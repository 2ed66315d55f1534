import test from 'node:test';
import assert from 'node:assert/strict';

import { createPositionStore, resumeAt } from './resume.js';

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)) };
}

test('resumeAt resumes only past 5 s and before the last 10 s', () => {
  assert.equal(resumeAt(3, 100), 0);
  assert.equal(resumeAt(5, 100), 0);
  assert.equal(resumeAt(42, 100), 42);
  assert.equal(resumeAt(95, 100), 0);
  assert.equal(resumeAt(42, NaN), 42); // duration not known yet
  assert.equal(resumeAt(NaN, 100), 0);
});

test('positions are kept per video and the oldest are forgotten', () => {
  const storage = memoryStorage();
  const store = createPositionStore(storage, { minSeconds: 5, endMarginSeconds: 10, maxEntries: 2 });
  store.set('a', 12.34, 1);
  store.set('b', 20, 2);
  assert.equal(store.get('a'), 12.3);
  store.set('c', 30, 3);
  assert.equal(store.get('a'), 0, 'oldest entry forgotten');
  assert.equal(store.get('c'), 30);
  store.set('c', 0, 4);
  assert.equal(store.get('c'), 0, 'a zero position clears the entry');
});

test('a missing, broken or refusing storage remembers nothing and throws nothing', () => {
  assert.equal(createPositionStore(null).get('a'), 0);
  createPositionStore(null).set('a', 10);
  const broken = { getItem: () => '{not json', setItem: () => { throw new Error('quota'); } };
  const store = createPositionStore(broken);
  assert.equal(store.get('a'), 0);
  store.set('a', 10);
});
