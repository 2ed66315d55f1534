import test from 'node:test';
import assert from 'node:assert/strict';

import { seekTarget } from './hotkeys.js';

test('arrows seek by the step, inside the video', () => {
  assert.equal(seekTarget('ArrowRight', 10, 60, 5), 15);
  assert.equal(seekTarget('ArrowLeft', 10, 60, 5), 5);
  assert.equal(seekTarget('ArrowLeft', 2, 60, 5), 0);
  assert.equal(seekTarget('ArrowRight', 58, 60, 5), 60);
  assert.equal(seekTarget('ArrowRight', 58, NaN, 5), 63);
  assert.equal(seekTarget('k', 10, 60, 5), null);
});
