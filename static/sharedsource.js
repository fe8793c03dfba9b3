// A tab's end of the browser's shared /events stream: openEventSource
// returns something stream.js uses as it would an EventSource
// (addEventListener, close, readyState), fed by the tab's ShareHub
// (sharehub.js), so a browser holds one stream per server however many
// tabs and charts show it. The hub runs, in order of preference:
//   - in a SharedWorker (shareworker.js), where the browser has one and the
//     page is on the worker's origin;
//   - else in one tab elected leader with a Web Lock, the others reaching
//     it over a BroadcastChannel; when the leader goes away, the next tab
//     to get the lock takes over and every tab comes back by its own
//     position, as after a dropped connection;
//   - else (or with ?share=off) each tab opens its own EventSource, as
//     before. ?share=leader skips the worker, for tests.

import { ShareHub } from "./sharehub.js";
import { report } from "./share.js";

const WORKER_URL = new URL("./shareworker.js", import.meta.url);
const CHANNEL = "vitals-events"; // BroadcastChannel and Web Lock names
const LOCK = "vitals-events-leader";

let link = null; // {send(msg)}: how this tab reaches the hub, once chosen
let broken = false; // the worker failed to start: every stream is the tab's own
let nextSid = 0;
const sources = new Map(); // sid -> SharedSource

// mode is how this page shares: "worker", "leader" or "own".
function mode() {
  try {
    const asked = new URLSearchParams(location.search).get("share");
    if (broken || asked === "off") return "own";
    if (asked !== "leader" && typeof SharedWorker === "function" && WORKER_URL.origin === location.origin) return "worker";
    if (typeof BroadcastChannel === "function" && navigator.locks && typeof navigator.locks.request === "function") return "leader";
  } catch {
    /* no location or storage access: a stream of its own */
  }
  return "own";
}

// deliver hands a message of the hub, or each of a batch (share.js,
// Outbox), to the source it is for. A listener that throws loses its own
// event only, never the rest of the batch.
function deliver(msg) {
  if (msg.batch) {
    for (const m of msg.batch) deliver(m);
    return;
  }
  const src = sources.get(msg.sid);
  if (!src) return;
  try {
    src.dispatch(msg.type, msg.id, msg.data);
  } catch (e) {
    report(e);
  }
}

// failAll tells every open source its stream failed: each reconnects on
// its own timer, by its own position.
function failAll() {
  for (const src of [...sources.values()]) src.dispatch("error", "", "");
}

function workerLink() {
  const w = new SharedWorker(WORKER_URL, { type: "module", name: "vitals-events" });
  // A worker that can't start (a CSP, a proxy that blocks it) fails its
  // streams: each reconnects on its own timer, as a stream of its own.
  w.addEventListener("error", () => {
    broken = true;
    failAll();
  });
  w.port.addEventListener("message", (m) => deliver(m.data || {}));
  w.port.start();
  return { send: (msg) => w.port.postMessage(msg) };
}

function leaderLink() {
  const tab = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const ch = new BroadcastChannel(CHANNEL);
  let hub = null; // set while this tab is the leader
  const own = { id: tab, postMessage: deliver }; // this tab's sources, served in place
  const others = new Map(); // tab -> a port that answers it over the channel
  const serve = (port, msg) => (msg.op === "open" ? hub.open(port, msg.sid, msg.url) : hub.close(port, msg.sid));
  ch.addEventListener("message", (m) => {
    const msg = m.data || {};
    if (msg.to !== undefined) {
      if (msg.to === tab) deliver(msg);
      return;
    }
    if (msg.op === "leader") return failAll(); // a new leader: come back to it
    if (!hub || (msg.op !== "open" && msg.op !== "close")) return;
    let port = others.get(msg.tab);
    if (!port) others.set(msg.tab, (port = { id: msg.tab, postMessage: (r) => ch.postMessage({ ...r, to: msg.tab }) }));
    serve(port, msg);
  });
  navigator.locks.request(LOCK, () => {
    hub = new ShareHub({ idleMs: 0 });
    ch.postMessage({ op: "leader", tab });
    // What this tab asked for before was asked of no one, or of the old
    // leader: ask again.
    failAll();
    return new Promise(() => {}); // held for this tab's life
  });
  return { send: (msg) => (hub ? serve(own, msg) : ch.postMessage({ ...msg, tab })) };
}

function connect(how) {
  if (link) return link;
  link = how === "worker" ? workerLink() : leaderLink();
  // A tab going away says so: a port gives no sign when it closes.
  addEventListener("pagehide", () => {
    for (const sid of sources.keys()) link.send({ op: "close", sid });
  });
  return link;
}

// SharedSource is one opened stream of this tab, served by the hub.
class SharedSource {
  constructor(url, link) {
    this.url = url;
    this.link = link;
    this.sid = ++nextSid;
    this.listeners = new Map(); // type -> [fn]
    this.readyState = 0; // CONNECTING, as an EventSource
    sources.set(this.sid, this);
    link.send({ op: "open", sid: this.sid, url });
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
    this.link.send({ op: "close", sid: this.sid });
  }
}

// openEventSource opens url (absolute) through the shared stream where it
// can, else as an EventSource of this tab's own.
export function openEventSource(url) {
  const how = mode();
  if (how !== "own") {
    try {
      return new SharedSource(url, connect(how));
    } catch {
      /* the worker could not start: a stream of this tab's own */
    }
  }
  return new EventSource(url);
}
