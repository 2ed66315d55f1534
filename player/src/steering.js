// Content steering support: the viewer's own latency to each edge.
//
// A Streamfront router answers the master playlist with HLS Content
// Steering (EXT-X-CONTENT-STEERING): one copy of every stream per edge
// (pathway), and a steering manifest that hls.js reloads every TTL and
// follows. The router ranks edges by its own latency to them; the viewer's
// latency is what matters, so the player measures it and reports it on
// every steering request as rtt.<pathway>=<milliseconds>.
//
// Where to measure comes from the steered master itself: one
// EXT-X-SESSION-DATA per pathway,
//
//   #EXT-X-SESSION-DATA:DATA-ID="com.streamfront.rtt-probe.edge-1",VALUE="https://edge-1.example/healthz"
//
// so a master without them (any other HLS source) costs nothing.
//
// Measuring is cheap and bounded: a few small GETs per edge, the edges in
// parallel, every edge's samples within one time budget; an edge that
// does not answer in time is simply not reported (the router then ranks
// it after the ones that answered).

export const probeDataIDPrefix = 'com.streamfront.rtt-probe.';
export const rttParamPrefix = 'rtt.';

/** Defaults of measureRTT and createSteeringProbe. */
export const steeringDefaults = Object.freeze({
  samples: 3,          // GETs per edge; the fastest counts
  timeoutMs: 1500,     // budget for all samples of all edges
  maxAgeMs: 60000,     // measure again before a steering request after this
  startupHoldMs: 10000, // the first steering request waits at most this for the first fragment
});

/**
 * Reads the probe URLs from hls.js's MANIFEST_LOADED sessionData
 * ({DATA-ID: {VALUE, ...}}).
 *
 * @returns {{pathway: string, url: string}[]}
 */
export function probeTargets(sessionData) {
  const out = [];
  if (!sessionData) return out;
  for (const [id, attrs] of Object.entries(sessionData)) {
    if (!id.startsWith(probeDataIDPrefix)) continue;
    const pathway = id.slice(probeDataIDPrefix.length);
    const url = attrs && attrs.VALUE;
    if (!/^[A-Za-z0-9._-]+$/.test(pathway) || typeof url !== 'string') continue;
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
      out.push({ pathway, url: u.href });
    } catch {
      // not a URL: not measured
    }
  }
  return out;
}

/**
 * Measures the round-trip time to each target: `samples` GETs one after the
 * other per target (the first also pays for the connection; the fastest
 * sample counts), all targets at once, everything within `timeoutMs`.
 * Resolves with {pathway: milliseconds} for the targets that answered;
 * never rejects.
 *
 * Any HTTP answer counts (the status says nothing about latency); CORS
 * mode is used so the response is a real one (edges send
 * Access-Control-Allow-Origin), cache: 'no-store' so no cache answers.
 */
export async function measureRTT(targets, options = {}) {
  const {
    samples = steeringDefaults.samples,
    timeoutMs = steeringDefaults.timeoutMs,
    fetchImpl = globalThis.fetch,
    now = () => performance.now(),
  } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const one = async (target) => {
    let best = Infinity;
    for (let i = 0; i < samples && !controller.signal.aborted; i++) {
      const start = now();
      try {
        const res = await fetchImpl(target.url, {
          cache: 'no-store', mode: 'cors', credentials: 'omit', signal: controller.signal,
        });
        const elapsed = now() - start;
        best = Math.min(best, elapsed);
        // Read the (tiny) body so the connection goes back to the pool and
        // the next sample does not pay for a new one; cancelling it would
        // close the connection.
        if (res && typeof res.arrayBuffer === 'function') await res.arrayBuffer().catch(() => {});
      } catch {
        // refused, unreachable or out of time: this sample does not count
      }
    }
    return [target.pathway, best];
  };
  try {
    const results = await Promise.all(targets.map(one));
    const rtt = {};
    for (const [pathway, ms] of results) {
      if (Number.isFinite(ms)) rtt[pathway] = Math.max(0, Math.round(ms * 10) / 10);
    }
    return rtt;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Returns url with its rtt.* parameters replaced by rtt (other parameters,
 * such as hls.js's _HLS_pathway, stay as they are).
 */
export function withViewerRTT(url, rtt) {
  const u = new URL(url);
  for (const name of [...u.searchParams.keys()]) {
    if (name.startsWith(rttParamPrefix)) u.searchParams.delete(name);
  }
  for (const pathway of Object.keys(rtt).sort()) {
    u.searchParams.set(rttParamPrefix + pathway, String(rtt[pathway]));
  }
  return u.href;
}

/**
 * Keeps the viewer's latest measurement of the targets. ready() resolves
 * with it, measuring first when there is none yet or it is older than
 * maxAgeMs; concurrent callers share one measurement.
 */
export function createSteeringProbe(targets, options = {}) {
  const { maxAgeMs = steeringDefaults.maxAgeMs, now = () => performance.now(), measure = measureRTT } = options;
  let rtt = {};
  let measuredAt = -Infinity;
  let running = null;
  const probe = {
    targets,
    get rtt() { return rtt; },
    get measuredAt() { return measuredAt; },
    ready() {
      if (running) return running;
      if (now() - measuredAt <= maxAgeMs) return Promise.resolve(rtt);
      running = measure(targets, options)
        .catch(() => ({}))
        .then((result) => {
          rtt = result;
          measuredAt = now();
          running = null;
          return rtt;
        });
      return running;
    },
  };
  return probe;
}

/**
 * Makes a loader class for hls.js (config.loader) that holds steering
 * manifest requests until prepare() resolves, and puts the viewer's RTTs it
 * resolves with ({pathway: ms}, possibly empty) in the URL. prepare() may
 * return null to send the request as it is. Every other request goes
 * straight to Base.
 */
export function steeringLoader(Base, prepare) {
  return class SteeringLoader extends Base {
    load(context, config, callbacks) {
      if (!context || context.type !== 'steering-manifest') {
        super.load(context, config, callbacks);
        return;
      }
      this.waiting = true;
      // hls.js may ask for the first steering manifest from inside its
      // MANIFEST_LOADED event, before the player's own listener for that
      // event has set up the measurement: call prepare once that dispatch
      // is over.
      Promise.resolve()
        .then(() => (this.waiting ? prepare() : null))
        .catch(() => null)
        .then((rtt) => {
          if (!this.waiting) return; // aborted or destroyed meanwhile
          this.waiting = false;
          if (rtt && Object.keys(rtt).length > 0) context.url = withViewerRTT(context.url, rtt);
          super.load(context, config, callbacks);
        });
    }

    abort() {
      this.waiting = false;
      super.abort();
    }

    destroy() {
      this.waiting = false;
      super.destroy();
    }
  };
}
