// The player's controls: media-chrome web components around the <video>
// that hls.js drives. media-chrome reads the media element's own state
// (paused, volume, textTracks, playbackRate, PiP, fullscreen), so the
// captions and speed menus, hotkeys and remembered volume need no glue;
// only the quality menu is ours, because media-chrome's rendition menu
// wants a media element with a videoRenditions list, which hls.js does not
// provide on a plain <video>.

// Only the elements used below (plus what they create themselves: the
// gesture receiver, tooltips, previews, the shortcuts dialog on `?`), not
// the package's index, which defines every element it has.
import 'media-chrome/dist/media-controller.js';
import 'media-chrome/dist/media-gesture-receiver.js';
import 'media-chrome/dist/media-tooltip.js';
import 'media-chrome/dist/media-keyboard-shortcuts-dialog.js';
import 'media-chrome/dist/media-control-bar.js';
import 'media-chrome/dist/media-loading-indicator.js';
import 'media-chrome/dist/media-play-button.js';
import 'media-chrome/dist/media-mute-button.js';
import 'media-chrome/dist/media-volume-range.js';
import 'media-chrome/dist/media-time-display.js';
import 'media-chrome/dist/media-time-range.js';
import 'media-chrome/dist/media-pip-button.js';
import 'media-chrome/dist/media-fullscreen-button.js';
import 'media-chrome/dist/menu/media-chrome-menu.js';
import 'media-chrome/dist/menu/media-chrome-menu-item.js';
import 'media-chrome/dist/menu/media-chrome-menu-button.js';
import 'media-chrome/dist/menu/media-captions-menu.js';
import 'media-chrome/dist/menu/media-captions-menu-button.js';
import 'media-chrome/dist/menu/media-playback-rate-menu.js';
import 'media-chrome/dist/menu/media-playback-rate-menu-button.js';

// Speeds offered in the menu (issue 11: 0.5–2×).
export const playbackRates = [0.5, 0.75, 1, 1.25, 1.5, 2];

// Arrow keys seek by this much; j/l by media-chrome's 10 s.
export const arrowSeekSeconds = 5;

function el(tag, className, attrs = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

/**
 * buildChrome fills element with a media-controller holding a <video> and
 * the control bar, and returns the parts the player drives.
 */
export function buildChrome(element, opts) {
  element.classList.add('sf-player');
  element.replaceChildren();
  // Menus find their buttons by id; ids must be unique per page.
  const uid = `sf${Math.random().toString(36).slice(2, 10)}`;

  const stage = el('div', 'sf-stage');
  // media-chrome's own arrow-key seeks are 10 s like j/l; ours are 5 s
  // (hotkeys.js), so its arrow handling is switched off here.
  const controller = el('media-controller', 'sf-controller', {
    hotkeys: 'noarrowleft noarrowright',
    'keyboardforwardseekoffset': '10',
    'keyboardbackwardseekoffset': '10',
  });
  const video = el('video', 'sf-video', { slot: 'media', playsinline: '', preload: 'metadata' });
  if (opts.poster) video.poster = opts.poster;
  if (opts.title) video.setAttribute('aria-label', opts.title);

  const loading = el('media-loading-indicator', '', { slot: 'centered-chrome', noautohide: '' });

  const captionsMenu = el('media-captions-menu', 'sf-menu', { id: `${uid}-captions`, hidden: '', anchor: 'auto' });
  const rateMenu = el('media-playback-rate-menu', 'sf-menu', {
    id: `${uid}-rate`, hidden: '', anchor: 'auto', rates: playbackRates.join(' '),
  });
  const qualityMenu = el('media-chrome-menu', 'sf-menu sf-quality-menu', {
    id: `${uid}-quality`, hidden: '', anchor: 'auto', 'aria-label': 'Video quality',
  });
  const qualityTitle = el('div', '', { slot: 'header' });
  qualityTitle.textContent = 'Quality';
  qualityMenu.append(qualityTitle);

  // The timeline gets a bar of its own, full width, above the buttons.
  const timeBar = el('media-control-bar', 'sf-time-bar');
  timeBar.append(el('media-time-range', 'sf-time-range'));
  const bar = el('media-control-bar', 'sf-control-bar');
  const qualityButton = el('media-chrome-menu-button', 'sf-quality-button', {
    invoketarget: qualityMenu.id, 'aria-label': 'Video quality',
  });
  qualityButton.hidden = true;
  const qualityLabel = el('span', 'sf-level', { 'aria-hidden': 'true' });
  qualityLabel.textContent = 'Auto';
  qualityButton.append(qualityLabel);
  bar.append(
    el('media-play-button'),
    el('media-mute-button'),
    el('media-volume-range'),
    el('media-time-display', '', { showduration: '' }),
    el('span', 'sf-spacer'),
    el('media-captions-menu-button', '', { invoketarget: captionsMenu.id }),
    el('media-playback-rate-menu-button', '', { invoketarget: rateMenu.id, rates: playbackRates.join(' ') }),
    qualityButton,
    el('media-pip-button'),
    el('media-fullscreen-button'),
  );
  // Menus before the bars, as media-chrome lays them out; they open over
  // the timeline, so player.css puts them above it (z-index).
  controller.append(video, loading, captionsMenu, rateMenu, qualityMenu, timeBar, bar);

  const error = el('div', 'sf-error', { role: 'alert' });
  error.hidden = true;
  const errorText = el('p', 'sf-error-text');
  const errorDetail = el('p', 'sf-error-detail');
  error.append(errorText, errorDetail);

  // The engine name stays in the DOM for support requests and tests, out of
  // sight; it is not something a viewer acts on.
  const engine = el('span', 'sf-engine', { hidden: '' });
  stage.append(controller, error, engine);
  element.append(stage);
  return {
    video, controller, error, errorText, errorDetail, engine,
    quality: qualityButton, qualityMenu, level: qualityLabel,
  };
}

/**
 * renderQualityMenu keeps the quality menu in step with the levels: Auto
 * plus one radio item per level, highest first; the button shows what plays.
 * levels are {index, height, bitrate}; selected is -1 for Auto.
 */
export function renderQualityMenu(ui, levels, selected, playingLabel) {
  const wanted = ['-1', ...levels.map((l) => String(l.index))].join(' ');
  const menu = ui.qualityMenu;
  if (menu.dataset.levels !== wanted) {
    const items = [qualityItem('-1', 'Auto')];
    const sorted = [...levels].sort((a, b) => (b.height - a.height) || (b.bitrate - a.bitrate));
    for (const level of sorted) {
      const mbps = level.bitrate ? ` · ${(level.bitrate / 1e6).toFixed(1)} Mbps` : '';
      items.push(qualityItem(String(level.index), `${levelLabel(level)}${mbps}`));
    }
    menu.querySelectorAll('media-chrome-menu-item').forEach((item) => item.remove());
    menu.append(...items);
    menu.dataset.levels = wanted;
  }
  for (const item of menu.querySelectorAll('media-chrome-menu-item')) {
    item.checked = item.value === String(selected);
  }
  ui.level.textContent = selected === -1 ? (playingLabel ? `Auto · ${playingLabel}` : 'Auto') : playingLabel;
  ui.quality.setAttribute('aria-label', `Video quality: ${ui.level.textContent}`);
  ui.quality.hidden = levels.length < 2;
}

function qualityItem(value, text) {
  const item = el('media-chrome-menu-item', '', { type: 'radio', value });
  item.textContent = text;
  return item;
}

export function levelLabel(level) {
  if (!level) return '';
  if (level.height) return `${level.height}p`;
  return `${Math.round(level.bitrate / 1000)} kbps`;
}
