// Upload page: sends the chosen file with its title, description and tags
// through the site's proxy to the origin, then follows the video's
// Server-Sent Events until it is ready or failed.
//
// The file goes by tus (tus-js-client, /api/v1/uploads) in 8 MB chunks: a
// dropped connection is retried from the offset the server stored, and
// choosing the same file again after a reload resumes its upload (the
// library remembers the upload's URL, not the key). A server without tus
// (404/405 on creation) gets the one-request multipart upload instead.
(function () {
  'use strict';

  var KEY_STORAGE = 'streamfront.apiKey';
  var form = document.getElementById('upload-form');
  var panel = document.getElementById('upload-progress');
  if (!form || !panel) return;

  function $(root, role) { return root.querySelector('[data-role="' + role + '"]'); }
  var submit = $(form, 'submit');
  var cancel = $(form, 'cancel');
  var keyInput = form.elements.api_key;
  var current = null; // the XHR under way
  var following = null; // the EventSource of the last video uploaded

  try {
    if (!keyInput.value) keyInput.value = localStorage.getItem(KEY_STORAGE) || '';
  } catch (e) { /* storage disabled: the field just starts empty */ }

  function formatBytes(n) {
    var units = ['B', 'KB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }

  function show(role, text) {
    var node = $(panel, role);
    node.textContent = text;
    node.hidden = false;
    return node;
  }

  function showError(text) {
    show('error', text);
    busy(false);
  }

  function busy(on) {
    submit.disabled = on;
    cancel.hidden = !on;
    form.elements.file.disabled = on;
  }

  function reset() {
    // A new upload takes the panel: stop following the previous video.
    if (following) following.close();
    following = null;
    panel.hidden = false;
    $(panel, 'error').hidden = true;
    $(panel, 'result').hidden = true;
    panel.querySelector('[data-step="processing"]').hidden = true;
    $(panel, 'upload-bar').value = 0;
    $(panel, 'upload-text').textContent = '0%';
  }

  // errorSentence reads the API's {"error": "..."} answer.
  function errorSentence(xhr) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error) return body.error;
    } catch (e) { /* not JSON */ }
    if (xhr.status === 401 || xhr.status === 403) {
      return 'The API key was refused. Check it and try again.';
    }
    if (xhr.status === 413) return 'The file is larger than the server accepts.';
    return 'The upload failed with HTTP ' + xhr.status + '. Try again.';
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var file = form.elements.file.files[0];
    reset();
    if (!file) {
      showError('Choose a video file first.');
      return;
    }
    var key = keyInput.value.trim();
    try { localStorage.setItem(KEY_STORAGE, key); } catch (e) { /* not remembered */ }

    var title = form.elements.title.value.trim() || file.name.replace(/\.[^.]+$/, '');
    var fields = { title: title, description: form.elements.description.value, tags: form.elements.tags.value };
    busy(true);
    if (window.tus && window.tus.isSupported) {
      sendResumable(file, key, fields);
    } else {
      sendMultipart(file, key, fields);
    }
  });

  function progress(loaded, total) {
    var pct = total ? Math.floor((loaded / total) * 100) : 0;
    $(panel, 'upload-bar').value = pct;
    $(panel, 'upload-text').textContent =
      formatBytes(loaded) + ' of ' + formatBytes(total) + ' · ' + pct + '%';
  }

  function uploaded(video) {
    $(panel, 'upload-bar').value = 100;
    $(panel, 'upload-text').textContent = 'Done';
    follow(video);
  }

  // sendResumable uploads by tus, resuming an earlier upload of the same
  // file when the library remembers one.
  function sendResumable(file, key, fields) {
    var headers = {};
    if (key) headers.Authorization = 'Bearer ' + key;
    var upload = new window.tus.Upload(file, {
      endpoint: '/api/v1/uploads',
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      headers: headers,
      metadata: { filename: file.name, filetype: file.type, title: fields.title, description: fields.description, tags: fields.tags },
      removeFingerprintOnSuccess: true,
      onProgress: progress,
      onError: function (err) {
        current = null;
        var res = err && err.originalResponse;
        var status = res ? res.getStatus() : 0;
        if (!upload.url && (status === 404 || status === 405)) {
          sendMultipart(file, key, fields); // this server has no tus
          return;
        }
        if (status) {
          showError(errorSentence({ status: status, responseText: res.getBody() || '' }));
        } else if (cancelled) {
          showError('Upload cancelled.');
        } else {
          showError('The upload was interrupted by a network error. Choose the same file again to resume where it stopped.');
        }
      },
      onSuccess: function () {
        current = null;
        // The upload's URL ends in {video id}+{multipart id}.
        var last = decodeURIComponent(upload.url.split('/').pop() || '');
        uploaded({ id: last.split('+')[0], title: fields.title });
      },
    });
    var cancelled = false;
    current = { abort: function () { cancelled = true; upload.abort(); upload.options.onError(null); } };
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  }

  // sendMultipart is the one-request upload, for servers without tus.
  function sendMultipart(file, key, fields) {
    var data = new FormData();
    // The fields go before the file so that a server reading the stream
    // knows the title before gigabytes of video arrive.
    data.append('title', fields.title);
    data.append('description', fields.description);
    data.append('tags', fields.tags);
    data.append('file', file, file.name);

    var xhr = new XMLHttpRequest();
    current = xhr;
    xhr.open('POST', '/api/v1/videos');
    xhr.setRequestHeader('Accept', 'application/json');
    if (key) xhr.setRequestHeader('Authorization', 'Bearer ' + key);
    xhr.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable) progress(e.loaded, e.total);
    });
    xhr.addEventListener('load', function () {
      current = null;
      if (xhr.status !== 201 && xhr.status !== 200) {
        showError(errorSentence(xhr));
        return;
      }
      var video;
      try { video = JSON.parse(xhr.responseText); } catch (e) { video = null; }
      if (!video || !video.id) {
        showError('The server accepted the upload but did not say which video it made.');
        return;
      }
      uploaded(video);
    });
    xhr.addEventListener('error', function () {
      current = null;
      showError('The upload was interrupted by a network error. Check your connection and try again.');
    });
    xhr.addEventListener('abort', function () {
      current = null;
      showError('Upload cancelled.');
    });
    xhr.send(data);
  }

  cancel.addEventListener('click', function () {
    if (current) current.abort();
  });

  // follow shows packaging progress from /api/v1/videos/{id}/events until
  // the video is ready (link to its page) or failed (the API's sentence).
  function follow(video) {
    var step = panel.querySelector('[data-step="processing"]');
    step.hidden = false;
    var watchURL = '/watch/' + encodeURIComponent(video.id);
    var done = false;
    var ready = false;
    var source = new EventSource('/api/v1/videos/' + encodeURIComponent(video.id) + '/events');

    following = source;

    // release frees the form: after a success it is cleared for the next
    // video, after a failure it keeps what was typed for a retry.
    function release(succeeded) {
      busy(false);
      if (!succeeded) return;
      form.reset();
      try { keyInput.value = localStorage.getItem(KEY_STORAGE) || ''; } catch (e) { /* ignore */ }
    }

    // finish stops following.
    function finish(succeeded) {
      done = true;
      source.close();
      if (following === source) following = null;
      if (!ready) release(succeeded);
    }

    function onEvent(message) {
      var ev;
      try { ev = JSON.parse(message.data); } catch (e) { return; }
      var v = ev.video || {};
      var pct = Math.max(0, Math.min(100, Math.round(ev.percent || 0)));
      $(panel, 'stage').textContent = (ev.stage || ev.status || 'working') + (ev.queue_position ? ' (#' + ev.queue_position + ' in line)' : '');
      $(panel, 'processing-bar').value = pct;
      $(panel, 'processing-text').textContent = pct + '%';
      if (ev.status === 'ready') {
        // Playable now; while other qualities are still being encoded the
        // event has a stage, and the stream goes on until they are done.
        if (!ready) {
          ready = true;
          release(true); // the next video can be uploaded meanwhile
          var result = show('result', '');
          var link = document.createElement('a');
          link.href = watchURL;
          link.textContent = 'Watch “' + (v.title || video.title || 'your video') + '” →';
          result.replaceChildren('Your video is ready. ', link);
        }
        if (ev.stage) {
          $(panel, 'stage').textContent = 'ready · ' + ev.stage + (ev.queue_position ? ' (#' + ev.queue_position + ' in line)' : '');
          return;
        }
        finish(true);
        $(panel, 'processing-bar').value = 100;
        $(panel, 'processing-text').textContent = 'Ready';
      } else if (ev.status === 'failed') {
        finish(false);
        showError(v.error || ev.error || 'Processing failed without saying why. Upload the video again.');
      } else if (ev.status === 'deleted') {
        finish(false);
        showError('The video was deleted while it was being processed.');
      }
    }

    source.addEventListener('progress', onEvent);
    source.addEventListener('message', onEvent);
    source.addEventListener('error', function () {
      if (done) return;
      // EventSource reconnects by itself after a dropped connection; it
      // gives up (CLOSED) only when the server refuses the stream.
      if (source.readyState === EventSource.CLOSED) {
        done = true;
        busy(false);
        var result = show('result', '');
        var link = document.createElement('a');
        link.href = watchURL;
        link.textContent = 'its page';
        result.replaceChildren('Progress updates stopped, but the video keeps processing. Follow it on ', link, '.');
      }
    });
  }
})();
