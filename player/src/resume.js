// Remembered playback position, per video, in localStorage. The player
// resumes only where it helps: past the first seconds (a viewer who watched
// 3 s has not really started) and not at the credits (a finished video
// starts over). Storage can be absent or full (private modes, quotas, a
// sandboxed embed): then nothing is remembered and nothing fails.

export const resumeDefaults = {
  minSeconds: 5,       // positions up to this are not worth resuming
  endMarginSeconds: 10, // nor positions this close to the end
  maxEntries: 50,      // oldest positions are forgotten beyond this
};

const storageKey = 'streamfront.positions';

/** Returns the position to resume at for a video of this duration, or 0. */
export function resumeAt(position, duration, opts = resumeDefaults) {
  if (!Number.isFinite(position) || position <= opts.minSeconds) return 0;
  if (Number.isFinite(duration) && duration > 0 && position > duration - opts.endMarginSeconds) return 0;
  return position;
}

/**
 * createPositionStore keeps positions keyed by video in storage (a Web
 * Storage object, or null). Entries are {key: [seconds, savedAtMs]}.
 */
export function createPositionStore(storage, opts = resumeDefaults) {
  const read = () => {
    try {
      const parsed = JSON.parse(storage.getItem(storageKey) || '{}');
      return parsed && typeof parsed === 'object' ? parsed : {};
    } catch {
      return {};
    }
  };
  return {
    get(key) {
      if (!storage || !key) return 0;
      const entry = read()[key];
      return Array.isArray(entry) && Number.isFinite(entry[0]) ? entry[0] : 0;
    },
    set(key, seconds, now = Date.now()) {
      if (!storage || !key) return;
      const all = read();
      if (seconds > 0) all[key] = [Math.round(seconds * 10) / 10, now];
      else delete all[key];
      // Forget the oldest beyond maxEntries so the entry never grows.
      const keys = Object.keys(all).sort((a, b) => all[b][1] - all[a][1]);
      for (const old of keys.slice(opts.maxEntries)) delete all[old];
      try {
        storage.setItem(storageKey, JSON.stringify(all));
      } catch {
        // Full or refused: positions are a convenience.
      }
    },
  };
}

/** Returns window.localStorage, or null where reading it throws. */
export function localStorageOrNull() {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}
