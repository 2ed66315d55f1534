// Live mode of the player: a bar under the video with the LIVE badge, the
// latency (the wall clock minus the EXT-X-PROGRAM-DATE-TIME of the frame
// on screen), the viewer count when the API gives one, a DVR slider over
// the stream's window and a "Back to live" button; and the page follows
// the broadcast's events to move to its recording when it ends.
//
// Two playlists, on purpose. At the live edge hls.js plays the LL-HLS
// playlist (parts, blocking reloads: about two seconds behind), which holds
// only a few segments. Behind that, it plays the DVR playlist
// (dvr.m3u8: every recorded segment of the window, plain HLS): a viewer who
// scrubs back loads it, and "Back to live" loads the LL playlist again.
// One playlist doing both would be reloaded in full (hours of segment
// lines) every part target at the edge, or would need our own LL-HLS
// packager; hls.js switches between the two in one source reload, and the
// dates on both map a position from one to the other.

// Seconds of slack: within this much of the low-latency target the viewer
// is "at the live edge".
export const edgeSlackSeconds = 4;

/** latencySeconds is how far behind the wall clock the frame shown is. */
export function latencySeconds(playingDate, nowMs) {
  if (!playingDate) return NaN;
  const t = playingDate instanceof Date ? playingDate.getTime() : Number(playingDate);
  return Math.max(0, (nowMs - t) / 1000);
}

/** formatBehind says a distance from live for people: "1:05 behind live". */
export function formatBehind(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  const clock = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
  return `${clock} behind live`;
}

/** firstVariantURI is the URI of the first variant of a multivariant playlist. */
export function firstVariantURI(text) {
  const lines = String(text).split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF')) continue;
    for (let j = i + 1; j < lines.length; j += 1) {
      const line = lines[j].trim();
      if (line && !line.startsWith('#')) return line;
    }
  }
  return '';
}

/**
 * parseDated reads a media playlist's segments with their dates:
 * [{start, duration, date}] where start is the position hls.js gives the
 * segment when this is the first playlist it loads (the sum of the
 * durations before it) and date is its EXT-X-PROGRAM-DATE-TIME in ms.
 * An undated segment follows its predecessor.
 */
export function parseDated(text) {
  const out = [];
  let date = NaN;
  let start = 0;
  for (const raw of String(text).split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      date = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    } else if (line.startsWith('#EXTINF:')) {
      const duration = parseFloat(line.slice('#EXTINF:'.length));
      if (!(duration >= 0)) return [];
      out.push({ start, duration, date });
      start += duration;
      date = Number.isFinite(date) ? date + duration * 1000 : NaN;
    }
  }
  // Each entry took the date running at its EXTINF; date was advanced
  // after it, which is what an undated next segment inherits.
  return out;
}

/**
 * positionForDate is where in a playlist (parseDated's segments) the
 * wall-clock time targetMs is, clamped to the playlist; NaN when nothing
 * is dated.
 */
export function positionForDate(segments, targetMs) {
  const dated = segments.filter((s) => Number.isFinite(s.date));
  if (dated.length === 0) return NaN;
  const first = dated[0];
  const last = dated[dated.length - 1];
  if (targetMs <= first.date) return first.start;
  for (const s of dated) {
    // A time in a break (an encoder reconnecting) plays from what follows.
    if (targetMs < s.date + s.duration * 1000) return s.start + Math.max(0, targetMs - s.date) / 1000;
  }
  return last.start + last.duration;
}

/**
 * playingSegments are the fragments of the playlist hls.js plays, as
 * parseDated gives them (start in hls.js's timeline, date in ms).
 */
export function playingSegments(hls) {
  if (!hls) return [];
  const level = hls.levels && hls.levels[hls.currentLevel];
  const details = hls.latestLevelDetails || (level && level.details);
  if (!details || !details.fragments) return [];
  return details.fragments
    .filter((f) => Number.isFinite(f.programDateTime))
    .map((f) => ({ start: f.start, duration: f.duration, date: f.programDateTime }));
}

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/** buildLiveBar adds the live controls under the player's stage. */
export function buildLiveBar(element) {
  const bar = el('div', 'sf-live-bar');
  const badge = el('span', 'sf-live-badge', { 'data-state': 'edge' });
  badge.textContent = 'LIVE';
  const latency = el('span', 'sf-live-latency', { title: 'How far the picture is behind the broadcaster' });
  const viewers = el('span', 'sf-live-viewers');
  viewers.hidden = true;
  const uid = `sf${Math.random().toString(36).slice(2, 10)}`;
  const label = el('label', 'sf-visually-hidden', { for: `${uid}-dvr` });
  label.textContent = 'Position in the broadcast';
  const slider = el('input', 'sf-live-dvr', {
    id: `${uid}-dvr`, type: 'range', min: '-60', max: '0', step: '1', value: '0',
  });
  const back = el('button', 'sf-live-back', { type: 'button' });
  back.textContent = 'Back to live';
  back.hidden = true;
  const note = el('p', 'sf-live-note', { role: 'status' });
  note.hidden = true;
  bar.append(badge, latency, viewers, label, slider, back);
  element.append(bar, note);
  return { bar, badge, latency, viewers, slider, back, note };
}

/**
 * installLive runs live mode on a mounted player. reload(url, hlsConfig)
 * replaces the player's hls.js with one playing url. Returns a function
 * that stops it.
 *
 * opts: {hls, dvr, dvrWindow (s), liveApi, recordingPage, previousRecording}
 */
export function installLive(element, state, opts, reload) {
  const ui = buildLiveBar(element);
  const { video } = state;
  const live = {
    mode: 'live', // 'live': the LL playlist; 'dvr': the DVR playlist
    latency: NaN,
    behind: 0,
    viewers: null,
    status: '',
    dvrStart: NaN, // date (ms) of the oldest segment the DVR had when read
    seeks: 0,
    ui,
  };
  state.live = live;
  const windowS = Number(opts.dvrWindow) > 0 ? Number(opts.dvrWindow) : 7200;
  if (!opts.dvr) {
    // A stream that does not record has no window to move in.
    ui.slider.hidden = true;
    ui.slider.previousSibling.hidden = true;
  }
  let dragging = false;
  const stops = [];

  const atEdge = () => live.mode === 'live' && live.behind < targetLatency() + edgeSlackSeconds;
  function targetLatency() {
    const hls = state.hls;
    return hls && Number.isFinite(hls.targetLatency) ? hls.targetLatency : 3;
  }
  function windowSeconds(now) {
    const since = Number.isFinite(live.dvrStart) ? (now - live.dvrStart) / 1000 : windowS;
    return Math.max(10, Math.min(windowS, since));
  }

  function render() {
    const now = Date.now();
    const hls = state.hls;
    const behind = latencySeconds(hls && hls.playingDate, now);
    if (Number.isFinite(behind)) live.behind = behind;
    live.latency = live.mode === 'live' ? behind : NaN;
    const edge = atEdge();
    ui.badge.dataset.state = edge ? 'edge' : 'behind';
    ui.badge.title = edge ? 'Playing live' : 'Behind the live edge';
    if (Number.isFinite(behind)) {
      ui.latency.textContent = edge ? `Latency ${behind.toFixed(1)} s` : formatBehind(behind);
    }
    ui.back.hidden = edge;
    const span = windowSeconds(now);
    ui.slider.min = String(-Math.round(span));
    if (!dragging) ui.slider.value = String(-Math.min(span, Math.round(live.behind)));
    ui.slider.setAttribute('aria-valuetext', edge ? 'Live' : formatBehind(live.behind));
  }

  // seekTo plays from the wall-clock time targetMs: within the playlist
  // playing when it holds that moment, else on the DVR playlist.
  async function seekTo(targetMs) {
    live.seeks += 1;
    const now = Date.now();
    if ((now - targetMs) / 1000 < targetLatency() + 1) {
      backToLive();
      return;
    }
    // Within the playlist playing (its fragments, dated), a plain seek.
    const segments = playingSegments(state.hls);
    if (segments.length > 0 && targetMs >= segments[0].date + 1000) {
      const to = positionForDate(segments, targetMs);
      if (Number.isFinite(to)) {
        video.currentTime = to;
        return;
      }
    }
    if (!opts.dvr) return;
    try {
      const position = await dvrPosition(targetMs);
      live.mode = 'dvr';
      // Behind live on purpose: never sped up toward the live edge.
      reload(opts.dvr, { lowLatencyMode: false, maxLiveSyncPlaybackRate: 1, startPosition: position });
      video.play().catch(() => {});
      note('');
    } catch (err) {
      note(`Earlier parts of the broadcast cannot be played now (${err.message}).`);
    }
  }

  // dvrPosition reads the DVR playlists and finds targetMs in them.
  async function dvrPosition(targetMs) {
    const master = await fetch(opts.dvr);
    if (!master.ok) throw new Error(`HTTP ${master.status}`);
    const uri = firstVariantURI(await master.text());
    if (!uri) throw new Error('no variant in the DVR playlist');
    const media = await fetch(new URL(uri, master.url).href);
    if (!media.ok) throw new Error(`HTTP ${media.status}`);
    const segments = parseDated(await media.text());
    if (segments.length > 0 && Number.isFinite(segments[0].date)) live.dvrStart = segments[0].date;
    const at = positionForDate(segments, targetMs);
    if (!Number.isFinite(at)) throw new Error('the DVR playlist has no dates');
    return at;
  }

  function backToLive() {
    if (live.mode !== 'live') {
      live.mode = 'live';
      reload(opts.hls, { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, startPosition: -1 });
    } else if (state.hls && Number.isFinite(state.hls.liveSyncPosition)) {
      video.currentTime = state.hls.liveSyncPosition;
    }
    video.play().catch(() => {});
    render();
  }
  live.seekTo = seekTo;
  live.backToLive = backToLive;

  function note(text) {
    ui.note.textContent = text;
    ui.note.hidden = !text;
  }

  const on = (target, type, fn) => {
    target.addEventListener(type, fn);
    stops.push(() => target.removeEventListener(type, fn));
  };
  on(ui.slider, 'input', () => {
    dragging = true;
    ui.slider.setAttribute('aria-valuetext', formatBehind(-Number(ui.slider.value)));
  });
  on(ui.slider, 'change', () => {
    dragging = false;
    seekTo(Date.now() - -Number(ui.slider.value) * 1000);
  });
  on(ui.back, 'click', backToLive);

  const tick = setInterval(render, 500);
  stops.push(() => clearInterval(tick));

  // The DVR's start, once, for the slider's range.
  if (opts.dvr) {
    dvrPosition(Date.now()).catch(() => {});
  }

  if (opts.liveApi) {
    const stopLoading = () => { if (state.hls) state.hls.stopLoad(); };
    followStream({ ...opts, stopLoading }, live, ui, note, stops);
  }
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}

// followStream reads the stream's JSON now and then (viewer count, when
// the API has one) and its events, and moves to the recording's page when
// the broadcast has ended with one.
function followStream(opts, live, ui, note, stops) {
  // The stream's video_id may still name the last broadcast's recording
  // for a moment after this one ended: only another one is this one's.
  const toRecording = (videoID) => {
    if (!videoID || !opts.recordingPage || videoID === opts.previousRecording) return;
    window.location.assign(opts.recordingPage + encodeURIComponent(videoID));
  };
  const apply = (s) => {
    if (!s || typeof s !== 'object') return;
    if (s.status) live.status = s.status;
    const viewers = typeof s.viewers === 'number' ? s.viewers
      : (s.viewers && typeof s.viewers.count === 'number' ? s.viewers.count : null);
    if (viewers !== null) {
      live.viewers = viewers;
      ui.viewers.textContent = `${viewers} watching`;
      ui.viewers.hidden = false;
    }
    if (s.status === 'ended') {
      // Its playlists are gone: stop asking for them.
      if (opts.stopLoading) opts.stopLoading();
      const recorded = s.video_id && s.video_id !== opts.previousRecording;
      note(recorded ? 'The broadcast has ended. Opening its recording…' : 'The broadcast has ended.');
      toRecording(s.video_id);
    } else if (s.status === 'idle') {
      note('The broadcaster is away; the stream continues when they reconnect.');
    } else if (s.status === 'live') {
      note('');
    }
  };
  const poll = () => fetch(opts.liveApi, { headers: { Accept: 'application/json' } })
    .then((res) => (res.ok ? res.json() : null))
    .then(apply)
    .catch(() => {});
  poll();
  const timer = setInterval(poll, 15000);
  stops.push(() => clearInterval(timer));

  if (typeof EventSource === 'undefined') return;
  const source = new EventSource(`${opts.liveApi}/events`);
  const onEvent = (message) => {
    let ev;
    try { ev = JSON.parse(message.data); } catch { return; }
    apply(ev);
  };
  for (const kind of ['status', 'connected', 'disconnected', 'ended', 'recording_ready']) {
    source.addEventListener(kind, onEvent);
  }
  stops.push(() => source.close());
}
