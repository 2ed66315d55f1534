// A view is reported once per page load, after 30 s of playback, or after
// 75 % of a video shorter than 40 s (the rule; YouTube and Mux
// count on a similar threshold). Only time actually played counts: a seek
// is not watching, so a jump between two timeupdate events longer than
// maxStep is ignored.

export const viewDefaults = { minSeconds: 30, shortFraction: 0.75, maxStep: 1.5 };

/**
 * createViewTracker returns {update(currentTime, duration, playing)}: call
 * it on every timeupdate; report() is called once when the viewer has
 * watched enough.
 */
export function createViewTracker(report, options = {}) {
  const o = { ...viewDefaults, ...options };
  let played = 0;
  let last = null;
  let done = false;
  return {
    get played() { return played; },
    get reported() { return done; },
    update(currentTime, duration, playing) {
      if (done) return;
      if (playing && last !== null) {
        const step = currentTime - last;
        if (step > 0 && step <= o.maxStep) played += step;
      }
      last = currentTime;
      const short = Number.isFinite(duration) && duration > 0 && duration < o.minSeconds / o.shortFraction;
      const enough = short ? played >= o.shortFraction * duration : played >= o.minSeconds;
      if (enough) {
        done = true;
        report();
      }
    },
  };
}

// sendView posts the view; keepalive lets it finish if the page closes.
export function sendView(url) {
  try {
    fetch(url, { method: 'POST', keepalive: true, credentials: 'same-origin' }).catch(() => {});
  } catch {
    // a view not counted is not worth an error for the viewer
  }
}
