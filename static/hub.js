// Hub is a page's one data path to one server (one host): the position
// stored in localStorage, the history read from /api/history, the stream
// from /events resumed with that position, and the frames that put what
// arrived on screen. The dashboard (app.js) holds one for the host it
// shows and replaces it on a host switch; every <vitals-chart> naming the
// same server shares one (embed.js). The pages differ only in what they
// draw (hooks.frame) and in what they say about it (the other hooks).
//
// Two orders of history and stream, both resuming exactly:
//   - historyFirst (the dashboard): history is read before the stream
//     opens, so its newest id is where the stream resumes, unless a stored
//     position says otherwise;
//   - otherwise (the embed element): the stream opens at once and history
//     is read beside it after hello; history ids may then be older than
//     what the stream delivered, so they never move the position.
//
// No DOM work here: the browser parts it uses (localStorage, fetch,
// requestAnimationFrame) come in through env, so hub_test.js runs it under
// node.

import { View, CatchupLine, parsePosition, quietCatchup, historyLimit } from "./view.js";
import * as st from "./stream.js";

// The stream's last notes kept for the test hooks; a page open for days
// must not grow this.
const MAX_NOTES = 20;

const browserEnv = {
  storage: () => localStorage,
  fetch: (url, init) => fetch(url, init),
  raf: (fn) => requestAnimationFrame(fn),
  // Outside a page (the node tests) there is no document: always shown.
  hidden: () => typeof document !== "undefined" && document.visibilityState === "hidden",
  // onVisible calls fn each time the page is shown again; it returns the
  // function that stops that.
  onVisible: (fn) => {
    if (typeof document === "undefined") return () => {};
    const h = () => document.visibilityState === "visible" && fn();
    document.addEventListener("visibilitychange", h);
    return () => document.removeEventListener("visibilitychange", h);
  },
};

export class Hub {
  // opts:
  //   base: the server's URL without a trailing slash; "" for this page's.
  //   params: query values every request carries ({host} or {token}).
  //   streamParams: query values only the /events request carries
  //     ({fleet: true} for the fleet overview).
  //   topics: the topics drawn so far (addTopic adds more).
  //   subscribe: name the topics in the stream and history URLs; without
  //     it the server sends every topic it has.
  //   positionKeys: localStorage keys of the stored position. The first is
  //     written; all are read in order, and all are forgotten.
  //   historyFirst: see the file's comment.
  //   intervalMs: the sampling interval until hello says.
  //   rangeMs(): the widest window drawn; older samples are dropped.
  //   hooks, all optional: frame() draws (once per animation frame);
  //     hello(h, restarted); taken(topic, id, data, source) for each event
  //     filed; state(changed); system(text) for the stream's notes;
  //     record(topic, id, data, source) for an event of a topic that is not
  //     drawn as a series (alerts), true when it changed something;
  //     fleet(rows) for a "fleet" event.
  //   env: storage(), fetch(url, init), raf(fn), hidden(), onVisible(fn);
  //     the browser's by default.
  constructor(opts) {
    this.base = opts.base || "";
    this.params = opts.params || {};
    this.streamParams = opts.streamParams || {};
    this.subscribe = !!opts.subscribe;
    this.positionKeys = opts.positionKeys;
    this.historyFirst = !!opts.historyFirst;
    this.rangeMs = opts.rangeMs;
    this.hooks = opts.hooks || {};
    this.env = { ...browserEnv, ...opts.env };
    this.topics = new Set();
    this.view = new View([], { intervalMs: opts.intervalMs, positionFromHistory: this.historyFirst });
    for (const t of opts.topics || []) this.addTopic(t);
    this.loaded = new Map(); // topic -> ms of history held
    this.cu = new CatchupLine(() => this.schedule());
    this.stream = null;
    this.quietNext = false; // the next catch-up only follows a topic change
    this.opened = 0; // EventSources opened, for the test hooks
    this.notes = [];
    this.ticker = 0;
    this.framePending = false;
    this.heldWhileHidden = false; // a frame was due while the page was hidden
    this.frames = 0; // frames drawn, for the test hooks
    this.askedSinceTimer = false; // a frame was asked for since the timer's last run, not by it
    this.destroyed = false;
    // A hidden page draws nothing (events are still filed and the position
    // still saved); shown again, it draws once, at once, what it holds.
    this.stopVisible = this.env.onVisible ? this.env.onVisible(() => this.shown()) : () => {};
  }

  addTopic(topic) {
    this.topics.add(topic);
    this.view.addTopic(topic);
  }

  // url is base + path with the query values, then the common ones.
  url(path, query = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...query, ...this.params })) if (v !== "" && v !== undefined) q.set(k, String(v));
    const s = q.toString();
    return this.base + path + (s ? "?" + s : "");
  }

  eventsURL() {
    const q = { ...this.streamParams };
    if (this.subscribe) q.topics = [...this.topics].sort().join(",");
    return this.url("/events", q);
  }

  note(text) {
    this.notes.push(text);
    if (this.notes.length > MAX_NOTES) this.notes.shift();
    if (this.hooks.system) this.hooks.system(text);
  }

  // ---- position --------------------------------------------------------

  loadPosition() {
    try {
      const storage = this.env.storage();
      for (const k of this.positionKeys) {
        const raw = storage.getItem(k);
        if (raw !== null) return parsePosition(raw);
      }
    } catch {
      /* storage disabled: no position */
    }
    return null;
  }

  savePosition() {
    const v = this.view;
    if (!v.posDirty || !v.lastId) return;
    v.posDirty = false;
    try {
      this.env.storage().setItem(this.positionKeys[0], JSON.stringify(v.position()));
    } catch {
      /* storage full or disabled: a reload then starts without a position */
    }
  }

  // forgetPosition clears the stored position and the one held, so the
  // next connect starts without an id.
  forgetPosition() {
    try {
      const storage = this.env.storage();
      for (const k of this.positionKeys) storage.removeItem(k);
    } catch {
      /* nothing stored then */
    }
    this.view.lastId = null;
    this.view.posDirty = false;
  }

  // resume takes a stored position: the next connect asks for what came
  // after it.
  resume(p) {
    this.view.resume(p);
  }

  // ---- data ------------------------------------------------------------

  // ingest files one event from history, a replay or the live stream.
  // A topic that is records, not a series (alerts), goes to hooks.record.
  ingest(topic, id, data, source) {
    if (!this.view.ingest(topic, id, data, source)) {
      if (this.hooks.record && !this.view.series[topic] && this.hooks.record(topic, id, data, source)) {
        this.view.received(id, source);
        this.schedule();
      }
      return;
    }
    if (this.hooks.taken) this.hooks.taken(topic, id, data, source);
    this.trim();
    this.schedule();
  }

  // trim drops what lies outside the widest window drawn; what was dropped
  // must be read again if the window grows.
  trim() {
    const ms = this.rangeMs();
    this.view.trim(ms);
    for (const [t, held] of this.loaded) if (held > ms) this.loaded.set(t, ms);
  }

  // loadHistory draws the newest rangeMs() of every topic that lacks it.
  // The API counts events, not time: one event per topic per interval.
  async loadHistory() {
    const ms = this.rangeMs();
    const want = [...this.topics].filter((t) => (this.loaded.get(t) || 0) < ms).sort();
    if (!want.length) return;
    for (const t of want) this.loaded.set(t, ms);
    const limit = historyLimit(ms, this.view.intervalMs, want.length);
    const t0 = performance.now();
    try {
      const res = await this.env.fetch(this.url("/api/history", this.subscribe ? { topics: want.join(","), limit } : { limit }), {
        headers: { Accept: "application/json" },
      });
      if (!res.ok) throw new Error(`history answered ${res.status}`);
      const h = await res.json();
      if (this.destroyed) return; // another host was picked meanwhile
      const events = Array.isArray(h.events) ? h.events : [];
      for (const e of events) this.ingest(String(e.event), String(e.id), e.data, "history");
      if (!events.length && h.head && this.view.positionFromHistory) this.view.lastId = String(h.head);
      this.note(`drew ${events.length} events from history in ${Math.round(performance.now() - t0)} ms`);
    } catch (e) {
      for (const t of want) this.loaded.delete(t);
      this.note("history: " + e.message);
    }
  }

  // ---- stream ------------------------------------------------------------

  // open starts the stream, resumed from the newest id drawn. From here on
  // the stream owns the position: history read beside it may be older,
  // and must not move it back, or a reconnect would replay what is drawn.
  open() {
    this.view.positionFromHistory = false;
    if (!this.stream) {
      this.stream = new st.Stream(this.eventsURL(), {
        onHello: (h) => this.onHello(h),
        onEvent: (topic, id, data, replay) => this.ingest(topic, id, data, replay ? "replay" : "live"),
        onCatchupStart: (c) => this.onCatchupStart(c),
        onCatchupProgress: (k) => {
          this.cu.progress(k);
          this.schedule();
        },
        onCatchupEnd: (s) => this.onCatchupEnd(s),
        onStatus: (s) => this.onStatus(s),
        onFleet: (rows) => {
          if (this.hooks.fleet) this.hooks.fleet(rows);
          this.schedule();
        },
        onState: (changed) => {
          if (this.hooks.state) this.hooks.state(changed);
          this.schedule();
        },
        onSystem: (text) => this.note(text),
        getLastId: () => this.view.lastId,
        intervalMs: () => this.view.intervalMs,
      });
      // The page's one timer, once a second: the stream's own checks, the
      // badge's countdown, and while offline the moving right edge of the
      // axis.
      this.ticker = setInterval(() => this.tick(), 1000);
    }
    this.opened++;
    this.stream.connect();
    this.schedule();
  }

  // sync opens the stream, or reopens it when the topics changed (the URL
  // names them) after the newest id drawn, and reads the history a new
  // topic lacks. The replay after a reopen is a tick or two and not news,
  // so the catch-up line stays quiet.
  sync() {
    if (!this.stream) return this.open();
    const url = this.eventsURL();
    if (url !== this.stream.url) {
      this.stream.url = url;
      this.quietNext = true;
      this.opened++;
      this.stream.connect();
    }
    if (this.view.hello) this.loadHistory();
  }

  connected() {
    return st.isUp(this.stream);
  }

  onHello(h) {
    const restarted = this.view.onHello(h);
    if (restarted) this.note(`server restarted (instance ${this.view.instance})`);
    this.note(`hello from ${h.host ?? "?"}, newest id ${h.newest ?? "none"}`);
    if (this.hooks.hello) this.hooks.hello(h, restarted);
    // Beside the stream, history waits for hello: it gives the interval,
    // so the event count for the window is known.
    if (!this.historyFirst) this.loadHistory();
    this.schedule();
  }

  onCatchupStart(c) {
    const resumed = this.view.onCatchupStart();
    this.note(`catch-up after ${c.after || "nothing"}: ${c.count} events${c.complete ? "" : " (incomplete: " + c.reason + ")"}`);
    const quiet = quietCatchup(c, { reconnects: this.stream.reconnects, resumed, topicsChanged: this.quietNext });
    this.quietNext = false;
    this.cu.begin(c.count, quiet);
    this.schedule();
  }

  onCatchupEnd(sum) {
    const summary = this.view.onCatchupEnd(sum);
    this.note(`caught up ${sum.count} events in ${sum.ms} ms`);
    this.cu.finish(summary, this.view.intervalMs);
    this.schedule();
  }

  // onStatus takes the server's word on the host shown: it stopped
  // publishing, or is back.
  onStatus(s) {
    if (!this.view.onStatus(s)) return;
    const down = this.view.hostDown;
    this.note(down ? `host ${s.host ?? "?"} stopped publishing (last tick ${new Date(down.since).toISOString()})` : `host ${s.host ?? "?"} publishing again`);
    if (this.hooks.state) this.hooks.state(true);
    this.schedule();
  }

  // tick is the page's timer, once a second. While the stream is live
  // and frames come with the ticks, what moves with time (the badge, the
  // stream's age, uptime) moves in those frames: a frame of the timer's
  // own would be a second full frame every second, a good part of what an
  // idle page costs. So a live page's timer draws only in a second in
  // which nothing else asked for a frame (an interval longer than a
  // second, a stalled stream); reconnecting, offline and a silent host
  // draw every second. Counting asks per timer period, not time since a
  // frame, needs no slack for how late an animation frame runs.
  tick() {
    if (!this.stream) return;
    this.stream.tick();
    const asked = this.askedSinceTimer;
    this.askedSinceTimer = false;
    if (asked && this.connected() && !this.view.hostDown) return;
    this.schedule(true);
  }

  // ---- frames ------------------------------------------------------------

  // schedule asks for a frame; byTimer is for tick's own asks.
  schedule(byTimer = false) {
    if (!byTimer) this.askedSinceTimer = true;
    if (this.framePending || this.destroyed) return;
    if (this.env.hidden && this.env.hidden()) {
      this.heldWhileHidden = true;
      this.savePosition();
      return;
    }
    this.framePending = true;
    this.env.raf(() => this.frame());
  }

  // shown draws what arrived while the page was hidden, without waiting for
  // an animation frame (the browser may not give one to a page it has just
  // shown until it paints, which is what this frame is for).
  shown() {
    if (!this.heldWhileHidden || this.destroyed) return;
    this.heldWhileHidden = false;
    this.frame();
  }

  // frame does all DOM and chart work, at most once per animation frame
  // however many events arrived since the last one.
  frame() {
    this.framePending = false;
    if (this.destroyed) return;
    this.frames++;
    this.view.computeBands(this.connected());
    if (this.hooks.frame) this.hooks.frame();
    this.savePosition();
  }

  // destroy stores the position and closes the stream for good.
  destroy() {
    this.destroyed = true;
    this.stopVisible();
    clearInterval(this.ticker);
    this.cu.hide();
    this.savePosition();
    if (this.stream) this.stream.destroy();
    this.stream = null;
  }
}
