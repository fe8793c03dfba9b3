// Stream owns the EventSource: it opens /events with the last id, keeps
// catch-up bookkeeping, and reconnects by itself with backoff.
//
// Why not leave reconnection to the browser: an EventSource gives up for
// good (readyState CLOSED) on some failures, such as a non-200 answer from a
// proxy while the server restarts, and its own retry timer is invisible, so
// the page could not say when the next try is. Stream therefore closes the
// EventSource on every error and opens a new one on its own timer, always
// passing the newest id it has drawn as ?lastEventId=. The EventSource may
// be the browser's one shared stream (sharedsource.js): the same events,
// the same errors, one connection for every tab.

import { openEventSource } from "./sharedsource.js";

// Backoff before the next try after a failure, in ms, by failed attempt.
// Short on purpose: a person restarting the server in the demo should see
// the page back within a couple of seconds, and the server is on the LAN.
const BACKOFF = [1000, 2000, 3000, 5000];

// After this long without any connection the badge says "Offline since"
// instead of "Reconnecting": a restart takes seconds, so a longer outage is
// more than a blip and deserves the time it started.
export const OFFLINE_AFTER_MS = 15000;

export const STATE_CONNECTING = "connecting";
export const STATE_LIVE = "live";
export const STATE_CATCHUP = "catchup";
export const STATE_RECONNECTING = "reconnecting";
export const STATE_OFFLINE = "offline";
export const STATE_DISCONNECTED = "disconnected";

// isUp says whether a stream (or null, before one exists) is connected: live
// or catching up.
export function isUp(stream) {
  return !!stream && (stream.state === STATE_LIVE || stream.state === STATE_CATCHUP);
}

export class Stream {
  // hooks: onHello(hello), onEvent(topic, id, data, replay),
  // onCatchupStart(info), onCatchupProgress(k, n), onCatchupEnd(summary),
  // onStatus(status) (the server's word on another host, docs/events.md),
  // onFleet(rows) (the fleet overview a ?fleet=true stream carries),
  // onState(), onSystem(text), getLastId(), intervalMs().
  constructor(url, hooks) {
    this.url = url;
    this.h = hooks;
    this.es = null;
    this.state = STATE_CONNECTING;
    this.userClosed = false;
    this.failures = 0;
    this.outageSince = null; // wall ms of the first failure of this outage
    this.nextTryAt = null; // wall ms of the scheduled retry
    this.retryTimer = 0;
    this.connectedSince = null; // wall ms of the current connection's hello
    this.everConnected = false;
    this.reconnects = 0;
    this.lastMessageAt = 0;
    this.catchup = null; // {after, count, complete, reason, received, startedAt}
    this.listening = new Set();
    this.onOnline = () => {
      if (this.nextTryAt !== null) this.open();
    };
    window.addEventListener("online", this.onOnline);
  }

  // destroy closes the stream for good and stops its timers: the embed
  // element drops its Stream when the last chart for a server leaves the
  // page.
  destroy() {
    this.userClosed = true;
    this.closeES();
    this.clearRetry();
    window.removeEventListener("online", this.onOnline);
  }

  // connect opens a connection now (the Reconnect button, or the first
  // connect of the page).
  connect() {
    this.userClosed = false;
    this.open();
  }

  // disconnect closes the stream and stops retrying until connect().
  disconnect() {
    this.userClosed = true;
    this.closeES();
    this.clearRetry();
    if (this.outageSince === null) this.outageSince = Date.now();
    this.connectedSince = null;
    this.catchup = null;
    this.setState(STATE_DISCONNECTED);
    this.h.onSystem("disconnected by you");
  }

  open() {
    this.clearRetry();
    this.closeES();
    const last = this.h.getLastId();
    // this.url may carry a query already (topics, token) and may name
    // another origin (the embed element).
    const u = new URL(this.url, location.href);
    if (last) u.searchParams.set("lastEventId", last);
    const url = u.href;
    this.openedAt = performance.now();
    this.catchup = null;
    this.connectedSince = null;
    const es = openEventSource(url);
    this.es = es;
    this.lastMessageAt = Date.now();
    if (this.everConnected || this.outageSince !== null) {
      this.setState(this.outageLong() ? STATE_OFFLINE : STATE_RECONNECTING);
    }
    this.h.onSystem(last ? `connecting after id ${last}` : "connecting without a position");
    es.addEventListener("hello", (e) => this.onHello(es, e));
    es.addEventListener("catchup-start", (e) => this.onCatchupStart(es, e));
    es.addEventListener("catchup-end", (e) => this.onCatchupEnd(es, e));
    es.addEventListener("status", (e) => this.onStatus(es, e));
    es.addEventListener("fleet", (e) => this.onFleet(es, e));
    es.addEventListener("error", () => this.onError(es));
    // Topic listeners are added per EventSource when hello names the
    // server's topics: hello always comes first, and its handler runs
    // before the next event is dispatched.
    this.listening = new Set();
  }

  listen(es, topic) {
    if (this.listening.has(topic)) return;
    this.listening.add(topic);
    es.addEventListener(topic, (e) => this.onTopic(es, topic, e));
  }

  onHello(es, e) {
    if (es !== this.es) return;
    let hello;
    try {
      hello = JSON.parse(e.data);
    } catch {
      this.h.onSystem("hello was not JSON; ignored");
      return;
    }
    this.lastMessageAt = Date.now();
    if (Array.isArray(hello.topics)) for (const t of hello.topics) this.listen(es, String(t));
    if (this.everConnected) this.reconnects++;
    this.everConnected = true;
    this.failures = 0;
    this.outageSince = null;
    this.connectedSince = Date.now();
    this.h.onHello(hello);
    // With a position the server always sends catchup-start next; without
    // one the stream is live at once.
    this.setState(this.h.getLastId() ? STATE_CATCHUP : STATE_LIVE);
  }

  onCatchupStart(es, e) {
    if (es !== this.es) return;
    this.lastMessageAt = Date.now();
    // A bracket we can't read keeps its defaults: the replay still follows.
    const info = parseObject(e.data);
    this.catchup = {
      after: String(info.after ?? ""),
      count: Number(info.count) || 0,
      complete: info.complete !== false,
      reason: String(info.reason ?? ""),
      received: 0,
      startedAt: this.openedAt,
    };
    this.setState(STATE_CATCHUP);
    this.h.onCatchupStart(this.catchup);
  }

  onCatchupEnd(es, e) {
    if (es !== this.es) return;
    this.lastMessageAt = Date.now();
    // Unreadable: count what arrived instead.
    const info = parseObject(e.data);
    const c = this.catchup || { after: "", count: 0, complete: true, reason: "", received: 0, startedAt: this.openedAt };
    this.catchup = null;
    this.h.onCatchupEnd({
      after: c.after,
      announced: c.count,
      count: c.received,
      head: String(info.head ?? ""),
      complete: c.complete,
      reason: c.reason,
      ms: Math.round(performance.now() - c.startedAt),
    });
    this.setState(STATE_LIVE);
  }

  onStatus(es, e) {
    if (es !== this.es) return;
    this.lastMessageAt = Date.now();
    if (this.h.onStatus) this.h.onStatus(parseObject(e.data));
  }

  onFleet(es, e) {
    if (es !== this.es) return;
    this.lastMessageAt = Date.now();
    if (this.h.onFleet) this.h.onFleet(parseObject(e.data));
  }

  onTopic(es, topic, e) {
    if (es !== this.es) return;
    this.lastMessageAt = Date.now();
    let data;
    try {
      data = JSON.parse(e.data);
    } catch {
      this.h.onSystem(`${topic} event ${e.lastEventId} was not JSON; ignored`);
      return;
    }
    const replay = this.catchup !== null;
    if (replay) {
      this.catchup.received++;
      this.h.onCatchupProgress(this.catchup.received, this.catchup.count);
    }
    this.h.onEvent(topic, e.lastEventId, data, replay);
  }

  onError(es) {
    if (es !== this.es) return;
    this.fail("connection lost");
  }

  // checkStale reconnects a stream that went silent: samples arrive every
  // interval, so ten missed intervals (at least 20 s, above the 15 s
  // heartbeat) means a dead peer that TCP has not noticed yet, e.g. after
  // the laptop slept.
  checkStale() {
    if (!this.es || this.userClosed) return;
    const limit = Math.max(20000, 10 * this.h.intervalMs());
    if (Date.now() - this.lastMessageAt > limit) this.fail("no data for " + Math.round(limit / 1000) + " s");
  }

  fail(why) {
    this.closeES();
    this.connectedSince = null;
    this.catchup = null;
    if (this.userClosed) return;
    if (this.outageSince === null) this.outageSince = Date.now();
    const delay = BACKOFF[Math.min(this.failures, BACKOFF.length - 1)];
    this.failures++;
    this.nextTryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.h.onSystem(`${why}; next try in ${Math.round(delay / 1000)} s`);
    this.setState(this.outageLong() ? STATE_OFFLINE : STATE_RECONNECTING);
  }

  // tick re-evaluates time-based state; its owner (hub.js) calls it once
  // a second from the page's one timer.
  tick() {
    this.checkStale();
    if ((this.state === STATE_RECONNECTING || this.state === STATE_OFFLINE) && this.nextTryAt !== null) {
      this.setState(this.outageLong() ? STATE_OFFLINE : STATE_RECONNECTING);
    }
  }

  outageLong() {
    return !navigator.onLine || (this.outageSince !== null && Date.now() - this.outageSince >= OFFLINE_AFTER_MS);
  }

  // secondsToRetry is the countdown shown in the badge, or null.
  secondsToRetry() {
    if (this.nextTryAt === null) return null;
    return Math.max(0, Math.ceil((this.nextTryAt - Date.now()) / 1000));
  }

  closeES() {
    if (this.es) {
      this.es.close();
      this.es = null;
    }
  }

  clearRetry() {
    clearTimeout(this.retryTimer);
    this.nextTryAt = null;
  }

  setState(s) {
    const changed = s !== this.state;
    this.state = s;
    this.h.onState(changed);
  }
}

// parseObject reads a JSON object from event data; anything else (bad JSON,
// null, a number) reads as {} so callers fall back to their defaults.
export function parseObject(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}
