// Watch page of a video that is not ready yet: follows its Server-Sent
// Events (/api/v1/videos/{id}/events, proxied to the origin), shows stage
// and percent, and reloads the page when the video is ready so that the
// server renders the player and its metadata.
(function () {
  'use strict';

  var box = document.getElementById('video-status');
  if (!box || box.dataset.status === 'failed' || !window.EventSource) return;

  function $(role) { return box.querySelector('[data-role="' + role + '"]'); }
  var source = new EventSource('/api/v1/videos/' + encodeURIComponent(box.dataset.videoId) + '/events');

  function onEvent(message) {
    var ev;
    try { ev = JSON.parse(message.data); } catch (e) { return; }
    var pct = Math.max(0, Math.min(100, Math.round(ev.percent || 0)));
    if (ev.status === 'ready') {
      source.close();
      window.location.reload();
      return;
    }
    if (ev.status === 'failed' || ev.status === 'deleted') {
      source.close();
      box.classList.remove('status-processing', 'status-uploading');
      box.classList.add('status-failed');
      $('title').textContent = ev.status === 'deleted'
        ? 'This video was deleted'
        : 'This video could not be processed';
      var error = $('error');
      error.textContent = (ev.video && ev.video.error) || ev.error ||
        (ev.status === 'deleted' ? 'It no longer exists.' : 'Packaging failed without saying why. Upload the video again.');
      error.hidden = false;
      $('progress').hidden = true;
      box.querySelector('.status-stage').hidden = true;
      box.querySelector('.status-note').hidden = true;
      return;
    }
    $('title').textContent = ev.status === 'uploading' ? 'Uploading…' : 'Processing…';
    $('stage').textContent = ev.stage || ev.status;
    $('percent').textContent = String(pct);
    $('progress').value = pct;
  }

  source.addEventListener('progress', onEvent);
  source.addEventListener('message', onEvent);
})();
