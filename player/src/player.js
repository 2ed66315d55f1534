// Streamfront player: a <video> element driven by hls.js inside
// media-chrome's controls (chrome.js), with a quality menu, captions from
// the master's SUBTITLES group, storyboard previews on the timeline, the
// last position remembered per video, and a readable error message when
// playback fails. It is bundled into one IIFE (global `Streamfront`) by
// build.mjs, so a page needs only <script src="/player/player.js">.
//
//   Streamfront.mount(element, {hls, mp4, poster, storyboard})
//   Streamfront.mount(element, {hls, live: true, dvr, dvrWindow, liveApi, recordingPage})
//
// The second form plays a live stream (live.js): low latency at the live
// edge, the DVR playlist behind it, a LIVE badge, the latency and a
// "Back to live" button.
//
// Every element with a data-streamfront-hls (or data-streamfront-mp4)
// attribute is mounted automatically when the document is ready.

import Hls from 'hls.js';

import { arrowSeekSeconds, buildChrome, levelLabel, renderQualityMenu } from './chrome.js';
import { installArrowSeek } from './hotkeys.js';
import { installLive } from './live.js';
import { createPositionStore, localStorageOrNull, resumeAt } from './resume.js';
import { parseStoryboard, storyboardCueText } from './storyboard.js';
import { createViewTracker, sendView } from './views.js';
import {
  createSteeringProbe, probeTargets, steeringDefaults, steeringLoader,
} from './steering.js';

export const version = '0.1.0';
export { Hls };

// workerPath lets hls.js transmux in a Web Worker. The ES module build of
// hls.js has no inline worker, so build.mjs ships hls.worker.js beside
// player.js. A Worker must be same-origin with the page, so when the player
// is embedded from another origin hls.js transmuxes on the main thread.
const workerPath = sameOriginSibling('hls.worker.js');

function sameOriginSibling(name) {
  const script = typeof document !== 'undefined' ? document.currentScript : null;
  if (!script || !script.src) return null;
  try {
    const url = new URL(name, script.src);
    return url.origin === window.location.origin ? url.href : null;
  } catch {
    return null;
  }
}

// Sentences shown to the viewer. The technical detail goes below them.
const messages = {
  noSource: 'This video has no playable source.',
  network: 'The video could not be loaded. Check your connection and reload the page.',
  decode: 'The video could not be decoded by this browser.',
  unsupported: 'This browser cannot play this video format. Try the download link instead.',
  aborted: 'Loading the video was interrupted. Reload the page to try again.',
  other: 'The video stopped because of an unexpected error. Reload the page to try again.',
};

/**
 * Mounts a player into element and returns its state object, which is also
 * kept on element.streamfront (tests read it). Mounting an element twice
 * destroys the first player.
 *
 * @param {HTMLElement} element box to fill; its content is replaced.
 * @param {{hls?: string, mp4?: string, poster?: string, storyboard?: string, views?: string,
 *          autoplay?: boolean, title?: string, hlsConfig?: object,
 *          id?: string, resume?: boolean, start?: number,
 *          live?: boolean, dvr?: string, dvrWindow?: number, liveApi?: string, recordingPage?: string,
 *          steering?: {samples?: number, timeoutMs?: number, maxAgeMs?: number,
 *                      startupHoldMs?: number}}} options
 */
export function mount(element, options = {}) {
  if (!element || element.nodeType !== 1) {
    throw new Error('Streamfront.mount needs a DOM element to mount into.');
  }
  if (element.streamfront) element.streamfront.destroy();

  const opts = { ...optionsFromDataset(element), ...options };
  if (opts.live) {
    // A live stream: hls.js in low-latency mode (parts, blocking reloads),
    // nothing remembered (the position of a live stream means nothing
    // tomorrow), no view reports of a growing duration.
    opts.resume = false;
    // maxLiveSyncPlaybackRate: hls.js plays up to 1.5× while it is behind
    // its latency target, so delay gathered at start or in a stall is won
    // back (make bench's live step: 2.7 s p50 glass to glass without it,
    // 1.2 s with it, on a busy machine).
    // A standard (plain HLS) stream is held where hls.js holds it by
    // default, three target durations behind the playlist's end, as RFC 8216
    // asks of every player: those three segments are what rides out network
    // jitter. The origin cuts 1 s segments for it, so that is about 3 s
    // (origin/live: Config.StandardSegmentDuration).
    opts.hlsConfig = { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5, ...(opts.hlsConfig || {}) };
  }
  const ui = buildChrome(element, opts);
  const { video } = ui;

  // teardown collects what destroy() must undo.
  const teardown = [];
  const listen = (target, type, fn) => {
    target.addEventListener(type, fn);
    teardown.push(() => target.removeEventListener(type, fn));
  };

  const state = {
    video,
    hls: null,
    engine: '',          // "hls.js", "native-hls" or "mp4"
    errors: [],          // {source, type, details, fatal, message}
    failed: false,       // true once the error message is shown
    playingLevel: -1,    // level of the fragment being played (hls.js only)
    stalls: 0,           // 'waiting' events: playback stopped for want of data
    // Content steering, when the master came from a Streamfront router
    // (null otherwise): {pathway, priority, rtt, manifests, url}.
    steering: null,
    get currentLevel() {
      return this.hls ? this.hls.currentLevel : -1;
    },
    get autoLevel() {
      return this.hls ? this.hls.autoLevelEnabled : false;
    },
    levels() {
      return this.hls ? describeLevels(this.hls.levels) : [];
    },
    setLevel(index) {
      if (!this.hls) return;
      this.hls.currentLevel = index; // -1 returns to automatic selection
      renderQuality(ui, state);
    },
    // switchLevel switches as ABR does: what is buffered plays out and the
    // next fragments come from the level, so a switch between aligned
    // renditions must not stall.
    switchLevel(index) {
      if (!this.hls) return;
      this.hls.nextLevel = index;
      renderQuality(ui, state);
    },
    destroy() {
      for (const undo of teardown.splice(0)) undo();
      if (this.hls) this.hls.destroy();
      this.hls = null;
      video.removeAttribute('src');
      video.load();
      element.classList.remove('sf-mounted');
      delete element.streamfront;
    },
  };
  element.streamfront = state;
  element.classList.add('sf-mounted');
  teardown.push(installArrowSeek(ui.controller, video, arrowSeekSeconds));
  listen(ui.qualityMenu, 'change', () => {
    const value = Number(ui.qualityMenu.value);
    if (Number.isInteger(value)) state.setLevel(value);
  });
  // A link to a moment (?t= on the page, given as the start option) wins
  // over the remembered position.
  const start = Number(opts.start);
  if (Number.isFinite(start) && start > 0) {
    listen(video, 'loadedmetadata', () => {
      video.currentTime = Number.isFinite(video.duration) ? Math.min(start, Math.max(0, video.duration - 0.5)) : start;
    });
  } else if (opts.resume !== false) {
    rememberPosition(video, positionKey(opts), listen);
  }

  const fail = (message, detail) => {
    state.failed = true;
    ui.error.hidden = false;
    ui.errorText.textContent = message;
    ui.errorDetail.textContent = detail || '';
    ui.quality.hidden = true;
    element.classList.add('sf-failed');
  };

  const playMP4 = () => {
    state.engine = 'mp4';
    ui.quality.hidden = true;
    video.src = opts.mp4;
  };

  listen(video, 'waiting', () => { state.stalls += 1; });

  // The view report (opts.views, the video's /views URL): once per mount,
  // after enough playback (views.js).
  if (opts.views) {
    const views = createViewTracker(() => sendView(opts.views));
    state.views = views;
    listen(video, 'timeupdate', () => views.update(video.currentTime, video.duration, !video.paused));
  }

  listen(video, 'error', () => {
    // With hls.js the element's source is a MediaSource blob; hls.js reports
    // those failures itself through its ERROR event.
    if (state.engine === 'hls.js') return;
    const err = video.error;
    const message = messageForMediaError(err);
    state.errors.push({
      source: 'video', type: 'mediaError', details: err ? `code ${err.code}` : '',
      fatal: true, message: err && err.message ? err.message : message,
    });
    fail(message, err && err.message ? err.message : '');
  });

  if (opts.hls && Hls.isSupported()) {
    startHLS(state, ui, opts, listen, fail, playMP4);
    if (opts.live) {
      // reload puts another playlist in hls.js's place (live.js switches
      // between the low-latency and the DVR playlists).
      const reload = (url, hlsConfig) => {
        if (state.hls) state.hls.destroy();
        state.hls = null;
        startHLS(state, ui, { ...opts, hls: url, hlsConfig: { ...opts.hlsConfig, ...hlsConfig } }, listen, fail, playMP4);
      };
      element.classList.add('sf-live');
      teardown.push(installLive(element, state, opts, reload));
    }
  } else if (opts.hls && video.canPlayType('application/vnd.apple.mpegurl')) {
    state.engine = 'native-hls';
    ui.quality.hidden = true;
    video.src = opts.hls;
  } else if (opts.mp4) {
    playMP4();
  } else {
    fail(messages.noSource, 'Give mount() an hls or mp4 URL.');
  }
  ui.engine.textContent = state.engine;

  if (opts.storyboard) {
    loadStoryboard(opts.storyboard, video);
  }
  if (opts.autoplay) {
    video.play().catch(() => {
      // Browsers refuse unmuted autoplay without a gesture; muted is allowed.
      video.muted = true;
      return video.play().catch(() => {});
    });
  }
  return state;
}

function startHLS(state, ui, opts, listen, fail, playMP4) {
  const { video } = ui;
  const config = {
    // Never fetch a rendition larger than the box shows (ABR only; a level
    // the viewer picks is honoured), and drop buffered video more than a
    // minute behind the playhead so long videos do not grow memory.
    capLevelToPlayerSize: true,
    backBufferLength: 60,
    ...(opts.hlsConfig || {}),
  };
  if (workerPath && config.workerPath === undefined) config.workerPath = workerPath;
  // Content steering: hls.js follows EXT-X-CONTENT-STEERING and reloads the
  // steering manifest every TTL. It is on in hls.js's default build; say so
  // here so that a trimmed build or an hlsConfig cannot drop it unnoticed.
  if (config.contentSteeringController === undefined) {
    config.contentSteeringController = Hls.DefaultConfig.contentSteeringController;
  }
  // Steering requests carry the viewer's own latency to each edge, and the
  // first one waits until playback has its first fragment: hls.js 1.7.4
  // stalls for good (no error, nothing more loaded) when a pathway switch
  // lands while the very first fragments are loading, which is exactly when
  // a first steering manifest that disagrees with the master's initial
  // pathway would arrive.
  let probe = null;
  let startup = null;
  let startupTimer = 0;
  config.loader = steeringLoader(config.loader || Hls.DefaultConfig.loader, () => {
    const measured = probe ? probe.ready() : Promise.resolve({});
    return Promise.all([measured, startup]).then(([rtt]) => rtt);
  });
  const hls = new Hls(config);
  state.hls = hls;
  state.engine = 'hls.js';
  let recoveredMediaError = false;

  hls.on(Hls.Events.MANIFEST_LOADED, (_event, data) => {
    probe = null;
    state.steering = null;
    clearTimeout(startupTimer);
    if (!data.contentSteering) return;
    state.steering = {
      pathway: data.contentSteering.pathwayId, priority: [], rtt: {}, manifests: 0, url: data.contentSteering.uri,
    };
    startup = new Promise((resolve) => {
      hls.once(Hls.Events.FRAG_BUFFERED, () => resolve());
      // A stream that buffers nothing for this long has other trouble;
      // steering may then help (another edge) and must not wait longer.
      startupTimer = setTimeout(resolve, (opts.steering && opts.steering.startupHoldMs) || steeringDefaults.startupHoldMs);
    });
    const targets = probeTargets(data.sessionData);
    if (targets.length === 0) return;
    probe = createSteeringProbe(targets, opts.steering || {});
    // Start now, while hls.js loads the first playlists and fragments.
    const steering = state.steering;
    probe.ready().then((rtt) => { steering.rtt = rtt; });
  });
  hls.on(Hls.Events.DESTROYING, () => clearTimeout(startupTimer));
  hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_event, data) => {
    if (!state.steering) return;
    state.steering.manifests += 1;
    state.steering.url = data.url;
    state.steering.priority = data.steeringManifest['PATHWAY-PRIORITY'] || [];
    if (probe) state.steering.rtt = probe.rtt;
  });
  hls.on(Hls.Events.LEVELS_UPDATED, () => {
    if (state.steering && hls.levels.length > 0) state.steering.pathway = hls.levels[0].pathwayId;
  });

  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    // hls.js keeps only the levels of the pathway in use.
    if (state.steering && hls.levels.length > 0) state.steering.pathway = hls.levels[0].pathwayId;
    renderQuality(ui, state);
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, () => renderQuality(ui, state));
  hls.on(Hls.Events.FRAG_CHANGED, (_event, data) => {
    state.playingLevel = data.frag.level;
    renderQuality(ui, state);
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    state.errors.push({
      source: 'hls.js', type: data.type, details: data.details, fatal: true,
      message: data.error ? String(data.error.message || data.error) : '',
    });
    // A media error is often a decoder hiccup that recoverMediaError fixes
    // by re-creating the SourceBuffers; try once before giving up.
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recoveredMediaError) {
      recoveredMediaError = true;
      hls.recoverMediaError();
      return;
    }
    hls.destroy();
    state.hls = null;
    if (opts.mp4) {
      // The progressive MP4 is served by the same edges but is a different
      // path; it may still play when the HLS packaging is at fault.
      playMP4();
      ui.engine.textContent = state.engine;
      return;
    }
    fail(messageForHLSError(data), `hls.js: ${data.details}`);
  });

  hls.loadSource(opts.hls);
  hls.attachMedia(video);
}

function optionsFromDataset(element) {
  const d = element.dataset;
  const opts = {};
  if (d.streamfrontHls) opts.hls = d.streamfrontHls;
  if (d.streamfrontMp4) opts.mp4 = d.streamfrontMp4;
  if (d.streamfrontPoster) opts.poster = d.streamfrontPoster;
  if (d.streamfrontStoryboard) opts.storyboard = d.streamfrontStoryboard;
  if (d.streamfrontTitle) opts.title = d.streamfrontTitle;
  if (d.streamfrontViews) opts.views = d.streamfrontViews;
  if (d.streamfrontId) opts.id = d.streamfrontId;
  if (d.streamfrontStart) opts.start = Number(d.streamfrontStart);
  if (d.streamfrontResume !== undefined) opts.resume = d.streamfrontResume !== 'false';
  if (d.streamfrontAutoplay !== undefined) opts.autoplay = d.streamfrontAutoplay !== 'false';
  if (d.streamfrontLive !== undefined) opts.live = d.streamfrontLive !== 'false';
  if (d.streamfrontDvr) opts.dvr = d.streamfrontDvr;
  if (d.streamfrontDvrWindow) opts.dvrWindow = Number(d.streamfrontDvrWindow);
  if (d.streamfrontLiveApi) opts.liveApi = d.streamfrontLiveApi;
  if (d.streamfrontRecordingPage) opts.recordingPage = d.streamfrontRecordingPage;
  if (d.streamfrontPreviousRecording) opts.previousRecording = d.streamfrontPreviousRecording;
  return opts;
}

function describeLevels(levels) {
  return levels.map((level, index) => ({
    index,
    height: level.height,
    width: level.width,
    bitrate: level.bitrate,
    name: level.name || '',
    codecs: [level.videoCodec, level.audioCodec].filter(Boolean).join(','),
  }));
}

// renderQuality keeps the quality menu in step with hls.js: Auto plus one
// item per level, and the level being played on the button.
function renderQuality(ui, state) {
  const hls = state.hls;
  if (!hls || hls.levels.length === 0) {
    ui.quality.hidden = true;
    return;
  }
  const levels = describeLevels(hls.levels);
  const playing = state.playingLevel >= 0 ? state.playingLevel : hls.currentLevel;
  renderQualityMenu(ui, levels, hls.autoLevelEnabled ? -1 : hls.currentLevel, levelLabel(levels[playing]));
}

function messageForHLSError(data) {
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return messages.decode;
  if (data.type !== Hls.ErrorTypes.NETWORK_ERROR) return messages.other;
  const status = data.response && data.response.code;
  if (status >= 400 && status < 500) {
    return `The video could not be loaded: the server answered HTTP ${status}. It may have been deleted or not be ready yet.`;
  }
  if (status >= 500) {
    return `The video could not be loaded: the server answered HTTP ${status}. Try again in a moment.`;
  }
  return messages.network;
}

function messageForMediaError(err) {
  if (!err) return messages.other;
  switch (err.code) {
    case 1: return messages.aborted;
    case 2: return messages.network;
    case 3: return messages.decode;
    case 4: return messages.unsupported;
    default: return messages.other;
  }
}

// loadStoryboard fetches a WebVTT storyboard (cues whose text is
// "sprite.jpg#xywh=x,y,w,h") and puts its cues, with absolute image URLs,
// on a metadata track labelled "thumbnails", where media-chrome's time
// range finds the preview for the time under the pointer. Fetching it here
// rather than with a <track src> keeps the <video> free of a crossorigin
// attribute, which would make the MP4 fallback need CORS. A storyboard that
// fails to load only loses the previews.
function loadStoryboard(given, video) {
  // Relative to the page, as the attribute was written; the parser needs an
  // absolute base to resolve the sprite names against.
  const url = new URL(given, document.baseURI).href;
  fetch(url)
    .then((res) => {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.text();
    })
    .then((text) => {
      const cues = parseStoryboard(text, url);
      if (cues.length === 0 || typeof VTTCue === 'undefined') return;
      const track = video.addTextTrack('metadata', 'thumbnails');
      for (const cue of cues) {
        const cueText = storyboardCueText(cue);
        if (cueText) track.addCue(new VTTCue(cue.start, cue.end, cueText));
      }
      // Cues of a disabled track are not readable.
      track.mode = 'hidden';
    })
    .catch((err) => {
      console.warn(`Streamfront: storyboard ${url} not loaded: ${err.message}`);
    });
}

// positionKey names a video for the remembered position: its id when the
// page gives one, else its URL without the query (which may carry a
// short-lived token).
function positionKey(opts) {
  if (opts.id) return `id:${opts.id}`;
  const url = opts.hls || opts.mp4;
  return url ? url.split('?')[0] : '';
}

// rememberPosition saves the playhead every few seconds of playback, on
// pause and when the page goes away, and resumes there on the next visit
// (resume.js decides when that is worth it). Volume and mute are
// remembered by media-chrome itself (its volume and muted preferences).
function rememberPosition(video, key, listen) {
  const store = createPositionStore(localStorageOrNull());
  if (!key) return;
  let saved = -1;
  const save = () => {
    if (!Number.isFinite(video.duration)) return;
    saved = video.currentTime;
    store.set(key, resumeAt(video.currentTime, video.duration));
  };
  listen(video, 'loadedmetadata', () => {
    const at = resumeAt(store.get(key), video.duration);
    if (at > 0 && video.currentTime < 1) video.currentTime = at;
  });
  listen(video, 'timeupdate', () => {
    if (Math.abs(video.currentTime - saved) >= 5) save();
  });
  listen(video, 'pause', save);
  listen(video, 'ended', () => store.set(key, 0));
  listen(window, 'pagehide', save);
}

/** Mounts every [data-streamfront-hls] / [data-streamfront-mp4] element not mounted yet. */
export function mountAll(root = document) {
  const found = root.querySelectorAll('[data-streamfront-hls], [data-streamfront-mp4]');
  return Array.from(found).filter((node) => !node.streamfront).map((node) => mount(node));
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => mountAll(), { once: true });
  } else {
    mountAll();
  }
}
