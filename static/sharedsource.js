// A tab's end of the browser's shared /events stream (shareworker.js):
// openEventSource returns something stream.js uses as it would an
// EventSource (addEventListener, close, readyState), fed by the worker, so
// a browser holds one stream per server however many tabs and charts show
// it. Where a SharedWorker can't be had (no support, a page of another
// origin embedding <vitals-chart>, ?share=off) each tab opens its own
// EventSource, as before.

const WORKER_URL = new URL("./shareworker.js", import.meta.url);

let worker = null; // the SharedWorker's port, once started
let broken = false; // the worker failed to start: every stream is the tab's own
let nextSid = 0;
const sources = new Map(); // sid -> SharedSource

// sharing says whether this page can use the worker: same origin (a
// SharedWorker's script must be), and not turned off with ?share=off.
function sharing() {
  try {
    if (broken || typeof SharedWorker !== "function" || WORKER_URL.origin !== location.origin) return false;
    return new URLSearchParams(location.search).get("share") !== "off";
  } catch {
    return false;
  }
}

function port() {
  if (worker) return worker;
  const w = new SharedWorker(WORKER_URL, { type: "module", name: "vitals-events" });
  // A worker that can't start (a CSP, a proxy that blocks it) fails its
  // streams: each reconnects on its own timer, as a stream of its own.
  w.addEventListener("error", () => {
    broken = true;
    for (const src of [...sources.values()]) src.dispatch("error", "", "");
  });
  worker = w.port;
  worker.addEventListener("message", (m) => {
    const { sid, type, id, data } = m.data || {};
    const src = sources.get(sid);
    if (src) src.dispatch(type, id, data);
  });
  worker.start();
  // A tab going away says so: a port gives no sign when it closes.
  addEventListener("pagehide", () => {
    for (const sid of sources.keys()) worker.postMessage({ op: "close", sid });
  });
  return worker;
}

// SharedSource is one opened stream of this tab, served by the worker.
class SharedSource {
  constructor(url) {
    this.url = url;
    this.sid = ++nextSid;
    this.listeners = new Map(); // type -> [fn]
    this.readyState = 0; // CONNECTING, as an EventSource
    sources.set(this.sid, this);
    port().postMessage({ op: "open", sid: this.sid, url });
  }

  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }

  dispatch(type, id, data) {
    if (this.readyState === 2) return;
    if (type === "hello") this.readyState = 1;
    const e = { type, data, lastEventId: id || "" };
    for (const fn of this.listeners.get(type) || []) fn(e);
  }

  close() {
    if (this.readyState === 2) return;
    this.readyState = 2;
    sources.delete(this.sid);
    worker.postMessage({ op: "close", sid: this.sid });
  }
}

// openEventSource opens url (absolute) through the shared stream where it
// can, else as an EventSource of this tab's own.
export function openEventSource(url) {
  if (sharing()) {
    try {
      return new SharedSource(url);
    } catch {
      /* the worker could not start: a stream of this tab's own */
    }
  }
  return new EventSource(url);
}
