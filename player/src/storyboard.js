// Storyboard WebVTT parsing: each cue maps a time range to a sprite image
// region written as a media fragment, e.g.
//
//   00:00:05.000 --> 00:00:10.000
//   sprite.jpg#xywh=160,0,160,90
//
// Relative image URLs are resolved against the VTT file's own URL.

/**
 * @param {string} text WebVTT body.
 * @param {string} baseURL URL the VTT was fetched from.
 * @returns {{start: number, end: number, image: string, rect: ?{x:number,y:number,w:number,h:number}}[]}
 */
export function parseStoryboard(text, baseURL) {
  const cues = [];
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split('\n').filter((line) => line.trim() !== '');
    const timing = lines.findIndex((line) => line.includes('-->'));
    if (timing < 0 || timing + 1 >= lines.length) continue;
    const [from, to] = lines[timing].split('-->').map((part) => parseTimestamp(part.trim().split(/\s+/)[0]));
    if (Number.isNaN(from) || Number.isNaN(to)) continue;
    const target = lines[timing + 1].trim();
    const hash = target.indexOf('#xywh=');
    const file = hash >= 0 ? target.slice(0, hash) : target;
    let rect = null;
    if (hash >= 0) {
      const [x, y, w, h] = target.slice(hash + 6).split(',').map(Number);
      if ([x, y, w, h].every(Number.isFinite)) rect = { x, y, w, h };
    }
    let image;
    try {
      image = new URL(file, baseURL).href;
    } catch {
      continue;
    }
    cues.push({ start: from, end: to, image, rect });
  }
  return cues.sort((a, b) => a.start - b.start);
}

// parseTimestamp reads "hh:mm:ss.ttt" or "mm:ss.ttt" into seconds.
export function parseTimestamp(value) {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) return NaN;
  let seconds = 0;
  for (const part of parts) {
    if (!/^\d+(\.\d+)?$/.test(part)) return NaN;
    seconds = seconds * 60 + Number(part);
  }
  return seconds;
}

/** Returns the cue covering time t, or null. cues must be sorted by start. */
export function storyboardCueAt(cues, t) {
  let lo = 0;
  let hi = cues.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cues[mid].end <= t) lo = mid + 1;
    else if (cues[mid].start > t) hi = mid - 1;
    else return cues[mid];
  }
  return null;
}

/**
 * storyboardCueText is a cue as media-chrome's preview thumbnail reads it
 * from a kind="metadata" label="thumbnails" track: the absolute image URL
 * with its #xywh fragment. Cues without a tile rectangle give null: the
 * preview needs the rectangle.
 */
export function storyboardCueText(cue) {
  if (!cue.rect) return null;
  const { x, y, w, h } = cue.rect;
  return `${cue.image.split('#')[0]}#xywh=${x},${y},${w},${h}`;
}
