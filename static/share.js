// The pure parts of sharing one /events stream between the tabs and
// <vitals-chart> elements of a browser (shareworker.js runs the stream,
// sharedsource.js is a tab's end): which streams can be shared, the URL of
// the one stream that serves them all, and the window of recent events a
// tab that joins late resumes from. No DOM and no worker API here, so
// share_test.js runs it under node.

// Query parameters a shared stream merges across its tabs: the rest
// (host, token) must be equal for two tabs to share, so a stream never
// carries one token's events to a tab that holds another.
const MERGED = new Set(["topics", "fleet", "points", "lastEventId"]);

// OPT_IN are the topics the server sends only to a stream that names them
// (the minute rollups, docs/history.md). A stream asking for one can't
// ride on a stream of every topic, which comes without them, so it gets a
// group of its own: its key carries them as a fragment, which an
// EventSource never sends.
const OPT_IN = new Set(["rollup"]);

// WINDOW_EVENTS bounds the recent events the worker keeps for tabs that
// join or come back: 20,000 is about half an hour of every topic at 1 s,
// enough for a tab that was hidden or reconnecting; one that is further
// behind resumes from /api/history.
export const WINDOW_EVENTS = 20000;

// parseStreamURL reads an /events URL: the group it can share with (key:
// the URL without the merged parameters) and what it asks for.
export function parseStreamURL(href) {
  const u = new URL(href);
  const q = u.searchParams;
  const topics = q.get("topics");
  const want = {
    topics: topics ? new Set(topics.split(",").filter(Boolean)) : null, // null: every topic
    fleet: q.get("fleet") === "true",
    points: Number(q.get("points")) || 0,
    after: q.get("lastEventId") || null,
  };
  const rest = new URL(u.origin + u.pathname);
  for (const [k, v] of [...q].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (!MERGED.has(k)) rest.searchParams.append(k, v);
  const optIn = want.topics ? [...want.topics].filter((t) => OPT_IN.has(t)).sort() : [];
  if (optIn.length) rest.hash = optIn.join(",");
  return { key: rest.href, ...want };
}

// unionURL is the one stream that serves every want: all topics when one
// asks for all, the fleet when one asks for it (with the most points), and
// resumed after `after` when given.
export function unionURL(key, wants, after) {
  const u = new URL(key);
  let all = wants.length === 0;
  const topics = new Set();
  let fleet = false;
  let points = 0;
  for (const w of wants) {
    if (!w.topics) all = true;
    else for (const t of w.topics) topics.add(t);
    fleet ||= w.fleet;
    points = Math.max(points, w.points);
  }
  if (!all && topics.size) u.searchParams.set("topics", [...topics].sort().join(","));
  if (fleet) {
    u.searchParams.set("fleet", "true");
    if (points) u.searchParams.set("points", String(points));
  }
  if (after) u.searchParams.set("lastEventId", after);
  return u.href;
}

// covers says whether a stream opened for `have` serves `want` too.
export function covers(have, want) {
  if (want.fleet && (!have.fleet || have.points < want.points)) return false;
  if (!have.topics) return true;
  if (!want.topics) return false;
  for (const t of want.topics) if (!have.topics.has(t)) return false;
  return true;
}

// EventWindow is the newest events of a shared stream, in stream order:
// {id, type, data} with data the raw text.
export class EventWindow {
  constructor(max = WINDOW_EVENTS) {
    this.max = max;
    this.events = [];
    this.index = new Map(); // id -> its sequence number
    this.seq = 0; // sequence number of events[0]
  }

  push(e) {
    this.events.push(e);
    this.index.set(e.id, this.seq + this.events.length - 1);
    if (this.events.length > this.max) {
      // Drop a chunk at once: shifting one at a time is quadratic.
      const drop = Math.max(1, this.max >> 4);
      for (const old of this.events.splice(0, drop)) this.index.delete(old.id);
      this.seq += drop;
    }
  }

  // mark is the sequence number of the next event pushed.
  mark() {
    return this.seq + this.events.length;
  }

  // since lists the events from sequence number m on (m from mark()).
  since(m) {
    return this.events.slice(Math.max(0, m - this.seq));
  }

  // after lists the events after id, or null when id is not held.
  after(id) {
    const n = this.index.get(id);
    return n === undefined ? null : this.events.slice(n - this.seq + 1);
  }
}

// Outbox sends a port its messages in batches: every message posted in one
// task (the events of one chunk of the stream, which an EventSource
// dispatches together) goes out as one {batch: [...]} message after the
// task. A tab then files a whole tick in one task of its own and draws it
// in one animation frame; a message each let the browser draw between
// them, two or three frames a second instead of one. A batch holds at
// most BATCH_MAX messages, so a long catch-up still reaches the tab in
// tasks short enough for its progress line to move.
export const BATCH_MAX = 500;

// afterTask runs fn after the current task. A MessageChannel's message is
// a task of its own that, unlike a timer, a hidden leader tab does not
// hold back to once a second; a microtask would run after each event's
// listener, before the next event of the same chunk.
function afterTask() {
  if (typeof MessageChannel !== "function") return (fn) => setTimeout(fn, 0);
  const ch = new MessageChannel();
  let fns = [];
  ch.port1.onmessage = () => {
    const run = fns;
    fns = [];
    for (const fn of run) fn();
  };
  return (fn) => {
    fns.push(fn);
    if (fns.length === 1) ch.port2.postMessage(null);
  };
}

export class Outbox {
  // defer(fn) runs fn after the current task.
  constructor(defer = afterTask()) {
    this.defer = defer;
    this.queued = new Map(); // port -> [message]
  }

  post(port, msg) {
    let q = this.queued.get(port);
    if (!q) {
      this.queued.set(port, (q = []));
      if (this.queued.size === 1) this.defer(() => this.flush());
    }
    q.push(msg);
    if (q.length >= BATCH_MAX) {
      this.queued.delete(port);
      send(port, q);
    }
  }

  flush() {
    const all = this.queued;
    this.queued = new Map();
    for (const [port, q] of all) send(port, q);
  }
}

// send posts a port its queue. A port that fails (a tab gone mid-post)
// must not cost the other ports their messages.
function send(port, q) {
  try {
    port.postMessage(q.length === 1 ? q[0] : { batch: q });
  } catch (e) {
    report(e);
  }
}

// report hands an error to the page's or worker's error reporting (the
// console; an uncaught error event in a browser) and goes on.
export function report(e) {
  if (typeof reportError === "function") reportError(e);
  else console.error(e);
}
