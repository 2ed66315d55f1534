// Unit tests of the storyboard WebVTT parser: node --test src/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseStoryboard, parseTimestamp, storyboardCueAt } from './storyboard.js';

const vtt = `WEBVTT

00:00:00.000 --> 00:00:05.000
sprite.jpg#xywh=0,0,160,90

2
00:00:05.000 --> 00:00:10.000
sprite.jpg#xywh=160,0,160,90

00:10.000 --> 00:15.000
https://cdn.example.test/other.jpg

broken --> nonsense
x.jpg
`;

test('parses cues with sprite regions and resolves URLs against the VTT', () => {
  const cues = parseStoryboard(vtt, 'https://edge.example.test/videos/abc/thumbs/storyboard.vtt');
  assert.equal(cues.length, 3);
  assert.deepEqual(cues[0], {
    start: 0, end: 5,
    image: 'https://edge.example.test/videos/abc/thumbs/sprite.jpg',
    rect: { x: 0, y: 0, w: 160, h: 90 },
  });
  assert.deepEqual(cues[1].rect, { x: 160, y: 0, w: 160, h: 90 });
  assert.equal(cues[2].image, 'https://cdn.example.test/other.jpg');
  assert.equal(cues[2].rect, null);
});

test('finds the cue covering a time', () => {
  const cues = parseStoryboard(vtt, 'https://edge.example.test/s.vtt');
  assert.equal(storyboardCueAt(cues, 0).start, 0);
  assert.equal(storyboardCueAt(cues, 7.5).start, 5);
  assert.equal(storyboardCueAt(cues, 10).start, 10);
  assert.equal(storyboardCueAt(cues, 99), null);
  assert.equal(storyboardCueAt([], 1), null);
});

test('reads WebVTT timestamps', () => {
  assert.equal(parseTimestamp('01:02:03.500'), 3723.5);
  assert.equal(parseTimestamp('02:03.250'), 123.25);
  assert.ok(Number.isNaN(parseTimestamp('3.0')));
  assert.ok(Number.isNaN(parseTimestamp('aa:bb')));
});

test('storyboardCueText writes the absolute tile URL media-chrome reads', async () => {
  const { storyboardCueText } = await import('./storyboard.js');
  const [cue] = parseStoryboard('WEBVTT\n\n00:00.000 --> 00:05.000\nsprite.jpg#xywh=160,0,160,90\n', 'https://edge.test/videos/v/thumbs/storyboard.vtt');
  assert.equal(storyboardCueText(cue), 'https://edge.test/videos/v/thumbs/sprite.jpg#xywh=160,0,160,90');
  assert.equal(storyboardCueText({ image: 'https://e/a.jpg', rect: null }), null);
});
