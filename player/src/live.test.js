// Unit tests of the live mode's pure parts: node --test src/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  firstVariantURI, formatBehind, latencySeconds, parseDated, positionForDate,
} from './live.js';

const dvr = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:40
#EXT-X-MAP:URI="1/1/video1/init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T19:00:00.000Z
#EXTINF:2.00000,
1/1/video1/0000000040.m4s
#EXTINF:2.00000,
1/1/video1/0000000041.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="1/2/video1/init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T19:01:00.000Z
#EXTINF:1.50000,
1/2/video1/0000000000.m4s
`;
const t0 = Date.parse('2026-12-04T19:00:00.000Z');

test('parseDated gives each segment its position and date; an undated one follows', () => {
  assert.deepEqual(parseDated(dvr), [
    { start: 0, duration: 2, date: t0 },
    { start: 2, duration: 2, date: t0 + 2000 },
    { start: 4, duration: 1.5, date: t0 + 60000 },
  ]);
});

test('positionForDate finds a wall-clock time, across a break, clamped to the playlist', () => {
  const segs = parseDated(dvr);
  assert.equal(positionForDate(segs, t0 + 1000), 1);
  assert.equal(positionForDate(segs, t0 + 3500), 3.5);
  // In the break between the encoder's connections: the next segment.
  assert.equal(positionForDate(segs, t0 + 30000), 4);
  assert.equal(positionForDate(segs, t0 + 60500), 4.5);
  assert.equal(positionForDate(segs, t0 - 5000), 0);
  assert.equal(positionForDate(segs, t0 + 120000), 5.5);
  assert.ok(Number.isNaN(positionForDate(parseDated('#EXTINF:1,\na.m4s\n'), t0)));
});

test('firstVariantURI reads the multivariant playlist', () => {
  const mv = '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio2",URI="dvr/audio2.m3u8"\n'
    + '#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"\ndvr/video1.m3u8\n';
  assert.equal(firstVariantURI(mv), 'dvr/video1.m3u8');
  assert.equal(firstVariantURI('#EXTM3U\n'), '');
});

test('latency and distance from live read as people say them', () => {
  assert.equal(latencySeconds(new Date(t0), t0 + 2100), 2.1);
  assert.ok(Number.isNaN(latencySeconds(null, t0)));
  assert.equal(formatBehind(65), '1:05 behind live');
  assert.equal(formatBehind(3725), '1:02:05 behind live');
});
