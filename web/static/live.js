// Live page of a stream that is not on the air: follows the stream's
// Server-Sent Events (/api/v1/live/{id}/events, proxied to the origin) and
// reloads the page when a broadcast begins, so the server renders the
// player; when a broadcast ends with a recording, the reload leads to it.
(function () {
  'use strict';

  var box = document.getElementById('live-status');
  if (!box || !window.EventSource) return;
  var source = new EventSource('/api/v1/live/' + encodeURIComponent(box.dataset.liveId) + '/events');
  var first = box.dataset.status;

  function onEvent(message) {
    var ev;
    try { ev = JSON.parse(message.data); } catch (e) { return; }
    if (ev.kind === 'connected' || ev.status === 'live' ||
        (ev.status === 'ended' && ev.video_id && first !== 'ended')) {
      source.close();
      window.location.reload();
    }
  }
  ['status', 'connected', 'ended', 'recording_ready'].forEach(function (kind) {
    source.addEventListener(kind, onEvent);
  });
})();
