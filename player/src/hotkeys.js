// Keyboard shortcuts media-chrome lacks or does differently. media-chrome's
// media-controller already handles space/k (play-pause), j/l (∓10 s),
// m (mute), f (fullscreen), c (captions), ↑/↓ (volume) and </> (speed)
// while focus is inside the player; the arrows seek by 5 s here, as in
// YouTube, so they are disabled there (hotkeys="noarrowleft noarrowright")
// and handled below.

/** seekTarget is where an arrow key moves the playhead, or null for other keys. */
export function seekTarget(key, currentTime, duration, step) {
  let t;
  if (key === 'ArrowLeft') t = currentTime - step;
  else if (key === 'ArrowRight') t = currentTime + step;
  else return null;
  if (Number.isFinite(duration) && duration > 0) t = Math.min(t, duration);
  return Math.max(0, t);
}

/** installArrowSeek makes ←/→ seek by step seconds; returns the undo. */
export function installArrowSeek(controller, video, step) {
  const onKey = (e) => {
    if (e.metaKey || e.altKey || e.ctrlKey || e.shiftKey) return;
    // A focused slider (time or volume) moves itself with the arrows.
    const tag = e.target && e.target.tagName ? e.target.tagName.toLowerCase() : '';
    if (tag === 'media-time-range' || tag === 'media-volume-range' || tag === 'input') return;
    const t = seekTarget(e.key, video.currentTime, video.duration, step);
    if (t === null) return;
    e.preventDefault();
    video.currentTime = t;
  };
  controller.addEventListener('keydown', onKey);
  return () => controller.removeEventListener('keydown', onKey);
}
