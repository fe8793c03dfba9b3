// What a page knows about one server's stream, shared by the dashboard
// (app.js) and the <vitals-chart> element (embed.js): the samples per topic,
// the position to resume from, the restart and lost-history marks that turn
// gaps into labelled bands, the catch-up bookkeeping, and the words the
// catch-up line and the badge use. No DOM here (only timers in
// CatchupLine), so view_test.js runs it under node; each page puts the
// results on screen its own way.

import * as fmt from "./format.js";
import { Series, bands, shiftSeries, KIND_CLOCK, KIND_LATE, KIND_LOST, KIND_RESTART, GAP_FACTOR } from "./series.js";
import * as st from "./stream.js";
import { setHidden, setText } from "./dom.js";

// The last catch-up summaries kept, for the test hooks and debugging; a
// page open for days must not grow this.
const MAX_CATCHUPS = 20;

// How long the catch-up line stays after a catch-up, in ms: long enough to
// read; one that lost history stays longer, since it says something the
// person should notice. FADE_MS matches the CSS opacity transition (1 s)
// plus a little, so the line is hidden once it is invisible.
export const CATCHUP_LINGER_MS = 4000;
export const CATCHUP_LINGER_WARN_MS = 15000;
export const CATCHUP_FADE_MS = 1200;

// slim keeps what the charts draw over time; per-device maps and the
// filesystem list matter only for the newest sample (View.latest).
export function slim(topic, d) {
  if (topic === "disk") {
    return { t: d.t, read_bps: d.read_bps, write_bps: d.write_bps, read_iops: d.read_iops, write_iops: d.write_iops, devices: perName(d.devices, ["read_bps", "write_bps"]) };
  }
  if (topic === "network") {
    return { t: d.t, rx_bps: d.rx_bps, tx_bps: d.tx_bps, rx_pps: d.rx_pps, tx_pps: d.tx_pps, interfaces: perName(d.interfaces, ["kind", "rx_bps", "tx_bps"]) };
  }
  return d;
}

// perName keeps the given fields of each entry of a {name: {...}} map: what
// the per-interface and per-device charts (breakdown.js) draw.
function perName(m, fields) {
  if (!m || typeof m !== "object") return undefined;
  const out = {};
  for (const [name, d] of Object.entries(m)) {
    if (!d || typeof d !== "object") continue;
    const kept = {};
    for (const f of fields) if (d[f] !== undefined) kept[f] = d[f];
    out[name] = kept;
  }
  return out;
}

// parsePosition reads a stored {id, t, instance}; a damaged or empty entry
// is the same as none (null).
export function parsePosition(raw) {
  try {
    const p = JSON.parse(raw || "null");
    if (p && typeof p.id === "string" && p.id) return p;
  } catch {
    /* damaged: none */
  }
  return null;
}

// MAX_HISTORY_LIMIT is the largest limit /api/history accepts (maxLimit in
// handlers/api.go); above it the server answers 400.
export const MAX_HISTORY_LIMIT = 100000;

// historyLimit is the /api/history limit that covers the newest `ms` of
// `topics` topics: the API counts events, not time (one event per topic
// per interval, plus two for the edges), capped at what the server takes.
export function historyLimit(ms, intervalMs, topics) {
  return Math.min(MAX_HISTORY_LIMIT, Math.ceil(ms / intervalMs + 2) * topics);
}

// View is one server's (one host's) data as a page holds it.
export class View {
  // positionFromHistory: whether ids read from /api/history move the
  // resume position. The dashboard reads history before it opens the
  // stream, so the newest id drawn is where the stream must resume (it
  // clears this when it opens the stream); the embed element reads history
  // beside an open stream, whose ids may already be newer.
  constructor(topics = [], { intervalMs = 1000, positionFromHistory = true } = {}) {
    this.series = {}; // topic -> Series
    for (const t of topics) this.addTopic(t);
    this.ticks = new Series(); // every sample time of any topic, for gaps
    this.marks = []; // {t, until, kind}: restarts, lost history, server's marks, for bands
    this.clockSteps = []; // t of each clock step taken (on the current clock)
    this.bands = [];
    this.latest = {}; // newest full payload per topic
    this.intervalMs = intervalMs;
    this.positionFromHistory = positionFromHistory;
    this.lastId = null;
    this.newestT = null;
    this.recvWall = 0; // wall ms when newestT arrived, to move the axis while offline
    this.instance = null;
    this.hello = null;
    this.posDirty = false; // lastId moved since the position was stored
    this.live = 0;
    this.caughtUp = 0;
    this.fromHistory = 0;
    this.catchups = []; // last summaries, newest last
    this.resumeFromT = null; // t of the stored position a reload resumes from
    this.catchupFromT = null;
    this.catchupMinT = null;
    this.catchupMaxT = null;
    this.restartSeen = false; // a hello since the last catch-up named a new instance
    // hostDown is the server's word that the host shown stopped publishing
    // (a "status" event): {since: its newest tick, t: the server's clock
    // then, wall: this page's clock then}; null while it publishes.
    this.hostDown = null;
  }

  addTopic(topic) {
    if (!this.series[topic]) this.series[topic] = new Series();
  }

  // resume takes a stored position: the next connect asks for what came
  // after it, and a restart since then is recognised by the instance id.
  resume(p) {
    this.lastId = p.id;
    if (p.instance) this.instance = String(p.instance);
    if (Number.isFinite(p.t)) this.resumeFromT = p.t;
  }

  // position is what a page stores to resume from after a reload.
  position() {
    return { id: this.lastId, t: this.newestT, instance: this.instance };
  }

  // ingest files one event from history ("history"), a catch-up replay
  // ("replay") or the live stream ("live"), and reports whether it was
  // taken (a topic this view doesn't hold, or a sample without a time, is
  // not).
  ingest(topic, id, data, source, now = Date.now()) {
    const series = this.series[topic];
    const t = Number(data && data.t);
    if (!series || !Number.isFinite(t)) return false;
    this.serverMarks(t, data);
    series.insert(t, slim(topic, data));
    this.ticks.insert(t, null);
    if (!this.latest[topic] || t >= this.latest[topic].t) this.latest[topic] = data;
    if (this.newestT === null || t >= this.newestT) {
      this.newestT = t;
      this.recvWall = now;
    }
    this.received(id, source, t);
    return true;
  }

  // received moves the stored position to id and counts the event by its
  // source: every event of the stream, whether a chart draws it or a panel
  // keeps it as a record (alerts), so the counters match what the server
  // sent and a resume starts after the newest event of any topic.
  received(id, source, t = null) {
    if (id && (source !== "history" || this.positionFromHistory)) {
      this.lastId = id;
      this.posDirty = true;
    }
    if (source === "live") this.live++;
    else if (source === "replay") {
      this.caughtUp++;
      if (t !== null) {
        this.catchupMinT = this.catchupMinT === null ? t : Math.min(this.catchupMinT, t);
        this.catchupMaxT = this.catchupMaxT === null ? t : Math.max(this.catchupMaxT, t);
      }
    } else this.fromHistory++;
  }

  // serverMarks takes what the server says about the tick at t: ticks it
  // skipped before it (a "sampler late" band, none for a single tick), a
  // restart since its previous run's newest tick, and a step of its wall
  // clock. They are part of the stored event, so history, a replay and the
  // live stream give the same bands. Every topic of the tick says the same,
  // so each is taken once per tick.
  serverMarks(t, data) {
    const iv = this.intervalMs;
    const skipped = Number(data.skipped);
    if (skipped > 0) this.mark({ t: t - (skipped + 1) * iv, until: t - iv, kind: KIND_LATE });
    const restart = Number(data.restart);
    if (restart > 0) {
      // The previous run's newest tick was stamped restart ms before this
      // one: the band is the gap that starts there.
      this.mark({ t: t - restart, until: t - iv, kind: KIND_RESTART });
      this.restartSeen = true;
    }
    const step = Number(data.clock_step);
    if (!step || this.clockSteps.includes(t)) return;
    // The samples before the step move onto the new clock, so the newest
    // sample is newest again after a step back (the axis follows it) and a
    // step forward leaves no hours-long hole. The server's clock_step puts
    // them right before this tick; one interval less leaves a gap for the
    // "clock changed" band, so no line is drawn across the step.
    this.shift(step - iv);
    this.clockSteps.push(t);
    const before = this.ticks.lastT();
    if (before !== null) this.marks.push({ t: before, until: before, kind: KIND_CLOCK, step });
  }

  // mark adds a server's mark once: every topic of a tick repeats it.
  mark(m) {
    if (!this.marks.some((x) => x.t === m.t && x.kind === m.kind)) this.marks.push(m);
  }

  // shift moves everything this view holds in time by ms.
  shift(ms) {
    for (const s of Object.values(this.series)) shiftSeries(s, ms);
    shiftSeries(this.ticks, ms);
    for (const m of this.marks) {
      m.t += ms;
      if (m.until !== undefined) m.until += ms;
    }
    this.clockSteps = this.clockSteps.map((x) => x + ms);
    for (const [topic, d] of Object.entries(this.latest)) this.latest[topic] = { ...d, t: d.t + ms };
    for (const k of ["newestT", "resumeFromT", "catchupFromT", "catchupMinT", "catchupMaxT"]) if (this[k] !== null) this[k] += ms;
  }

  // trim keeps only rangeMs (plus two intervals so the left edge has a
  // line), which bounds memory however long the page stays open.
  trim(rangeMs) {
    if (this.newestT === null) return;
    const tmin = this.newestT - rangeMs - 2 * this.intervalMs;
    if (this.ticks.length && this.ticks.t[0] >= tmin) return;
    for (const s of Object.values(this.series)) s.trimBefore(tmin);
    this.ticks.trimBefore(tmin);
    this.marks = this.marks.filter((m) => m.t >= tmin - rangeMs);
  }

  // onHello takes a hello and reports whether the server restarted since
  // the samples this view holds (a new instance id). That only words the
  // catch-up line; the "server restarted" band comes from the server's own
  // mark on the new run's first tick (serverMarks), which history and
  // every reload carry too.
  onHello(h) {
    this.hello = h;
    if (Number(h.interval_ms) > 0) this.intervalMs = Number(h.interval_ms);
    const inst = String(h.instance ?? "");
    const restarted = !!(this.instance && inst && inst !== this.instance);
    // A new stream: the server says again, after its catch-up, if the
    // host is still silent.
    this.hostDown = null;
    this.instance = inst || this.instance;
    this.posDirty = true;
    if (restarted) this.restartSeen = true;
    return restarted;
  }

  // onStatus takes a "status" event and reports whether it changed what
  // the view says about the host.
  onStatus(s, now = Date.now()) {
    const was = this.hostDown;
    if (s.live !== false) {
      this.hostDown = null;
      return was !== null;
    }
    const since = Number(s.last_seen) > 0 ? Number(s.last_seen) : this.newestT;
    this.hostDown = { since, t: Number(s.t) > 0 ? Number(s.t) : since, wall: now };
    return was === null;
  }

  // onCatchupStart begins a catch-up's bookkeeping and reports whether it
  // resumes a stored position (a reload), which makes it news.
  onCatchupStart() {
    const resumed = this.resumeFromT !== null;
    this.catchupFromT = this.resumeFromT ?? this.newestT;
    this.resumeFromT = null;
    this.catchupMinT = null;
    this.catchupMaxT = null;
    return resumed;
  }

  // onCatchupEnd files the stream's summary with the time it spans, marks
  // the history the server no longer had (complete false), and returns
  // the summary as the catch-up line words it.
  onCatchupEnd(sum, now = Date.now()) {
    const spanMs = this.catchupMaxT !== null ? this.catchupMaxT - (this.catchupFromT ?? this.catchupMinT) : 0;
    // Only a hello from a new instance says the server was down; a plain
    // drop (a proxy, the network) has no downtime to report.
    const downMs = this.restartSeen && this.catchupFromT !== null && this.catchupMaxT !== null
      ? downtime(this.ticks.t, this.catchupFromT, this.catchupMaxT, this.intervalMs)
      : null;
    this.restartSeen = false;
    const summary = { ...sum, spanMs, downMs, fromT: this.catchupFromT, firstT: this.catchupMinT, lastT: this.catchupMaxT, at: now };
    if (!sum.complete && this.catchupFromT !== null && this.catchupMinT !== null && this.catchupMinT > this.catchupFromT) {
      this.marks.push({ t: this.catchupFromT, until: this.catchupMinT, kind: KIND_LOST });
    }
    this.catchups.push(summary);
    if (this.catchups.length > MAX_CATCHUPS) this.catchups.shift();
    this.posDirty = true;
    return summary;
  }

  // end is the right edge of the time axis in unix ms. While the stream is
  // down it keeps moving with the clock, so the missing time shows as it
  // grows; it is extrapolated from the newest sample's arrival so a skewed
  // browser clock does not shift the axis. While the server says the host
  // is silent it moves from the server's clock in that word, which is right
  // after a reload too, when the newest sample came from history.
  end(connected, now = Date.now()) {
    if (this.newestT === null) return now;
    if (this.hostDown) return Math.max(this.newestT, this.hostDown.t + (now - this.hostDown.wall));
    return connected ? this.newestT : this.newestT + (now - this.recvWall);
  }

  xRange(rangeMs, connected, now = Date.now()) {
    const end = this.end(connected, now);
    return [end - rangeMs, end];
  }

  // computeBands refreshes this.bands: the gaps between samples, labelled
  // by the marks, plus the still-open gap while the stream or the host is
  // down.
  computeBands(connected, now = Date.now()) {
    let pending = null;
    if ((!connected || this.hostDown) && this.newestT !== null) {
      const end = this.end(false, now);
      if (end - this.newestT > this.intervalMs * GAP_FACTOR) pending = { from: this.newestT, to: end };
    }
    this.bands = bands(this.ticks.t, this.intervalMs, this.marks, pending);
    return this.bands;
  }

  // coreCount is how many rows the per-core strip has: the newest sample's
  // cores, else the hello's CPU count (0 when neither is known).
  coreCount() {
    const c = this.latest.cpu && Array.isArray(this.latest.cpu.cores) ? this.latest.cpu.cores.length : 0;
    return c || Number(this.hello && this.hello.cpus) || 0;
  }
}

// quietCatchup says whether a catch-up is not news and gets no line: the
// first connect's catch-up only bridges the history read and the stream (a
// tick or two), and so does the reopen after a topic was added. A
// reconnect, a reload's resume or lost history always shows.
export function quietCatchup(c, { reconnects, resumed, topicsChanged = false }) {
  return c.complete && (topicsChanged || (reconnects === 0 && !resumed));
}

// downtime is how long a restarted server published nothing between two
// sample times: the widest gap between the sorted sample times ts within
// [from, to], less the one interval any two samples are apart.
export function downtime(ts, from, to, intervalMs) {
  let widest = 0;
  let prev = null;
  for (const t of ts) {
    if (t < from) continue;
    if (t > to) break;
    if (prev !== null) widest = Math.max(widest, t - prev);
    prev = t;
  }
  return Math.max(0, widest - intervalMs);
}

// catchupMessage words a finished catch-up (View.onCatchupEnd's summary):
// the text, whether it warns, and how long it stays (ms). It keeps apart
// what people read as one number: how long the stream was away (spanMs),
// how much of that the server was down (downMs, known only from a restart),
// how many events were replayed, and how long replaying them took (ms).
// An incomplete one says plainly what is missing and why.
export function catchupMessage(s, intervalMs) {
  const events = s.count === 1 ? "1 missed event" : `${s.count} missed events`;
  let text;
  if (s.spanMs > 0) {
    const down = s.downMs > 0 ? ` (server down ${fmt.duration(s.downMs)})` : "";
    text = `Back after ${fmt.duration(s.spanMs)} away${down}: ` + (s.count === 0 ? "nothing missed" : `${events} replayed in ${s.ms} ms`);
  } else text = s.count === 0 ? `Up to date: nothing missed (${s.ms} ms)` : `${events[0].toUpperCase()}${events.slice(1)} replayed in ${s.ms} ms`;
  if (s.complete) return { text, warn: false, lingerMs: CATCHUP_LINGER_MS };
  const parts = [text + "."];
  if (s.firstT !== null && s.firstT !== undefined) {
    let kept = `History kept only from ${fmt.clock(s.firstT)}`;
    if (s.fromT !== null && s.fromT !== undefined && s.firstT - s.fromT > intervalMs * GAP_FACTOR) {
      // The first sample kept is one interval after the last one missing.
      kept += `; ${fmt.duration(s.firstT - s.fromT - intervalMs)} not retained.`;
    } else kept += ".";
    parts.push(kept);
  }
  if (s.reason) parts.push(`(${s.reason})`);
  return { text: parts.join(" "), warn: true, lingerMs: CATCHUP_LINGER_WARN_MS };
}

// CatchupLine is the state of the catch-up indicator: a progress bar while
// a catch-up runs, then its summary, which fades out. changed() is called
// when the line changes by itself (a timer), so the page redraws it.
export class CatchupLine {
  constructor(changed = () => {}) {
    this.changed = changed;
    this.shown = false;
    this.bar = false;
    this.k = 0;
    this.n = 0;
    this.text = "";
    this.warn = false;
    this.fade = false;
    this.quiet = false;
    this.timer = 0;
  }

  // begin starts the line for a catch-up of n events, unless it is quiet.
  begin(n, quiet) {
    this.quiet = quiet;
    if (quiet) return;
    clearTimeout(this.timer);
    Object.assign(this, { shown: true, bar: true, k: 0, n, text: "", warn: false, fade: false });
  }

  progress(k) {
    this.k = k;
  }

  // finish shows a summary (View.onCatchupEnd's) for a while, then fades.
  finish(summary, intervalMs) {
    if (this.quiet) return;
    const m = catchupMessage(summary, intervalMs);
    Object.assign(this, { bar: false, text: m.text, warn: m.warn });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fade = true;
      this.changed();
      this.timer = setTimeout(() => {
        this.shown = false;
        this.changed();
      }, CATCHUP_FADE_MS);
    }, m.lingerMs);
  }

  hide() {
    clearTimeout(this.timer);
    this.shown = false;
  }

  // paint puts the line on its elements: a box (hidden when the line is),
  // a <progress> and a text span. Text only, never HTML.
  paint({ box, bar, text }) {
    setHidden(box, !this.shown);
    if (!this.shown) return;
    box.classList.toggle("warn", this.warn);
    box.classList.toggle("fade", this.fade);
    setHidden(bar, !this.bar);
    if (this.bar) {
      bar.max = Math.max(1, this.n);
      bar.value = this.k;
    }
    const line = this.line();
    setText(text, line);
  }

  // line is the text shown now ("" when hidden).
  line() {
    if (!this.shown) return "";
    return this.bar ? `Catching up ${this.k} / ${this.n} events` : this.text;
  }
}

// shownState is the state a badge shows: the stream's, or "offline" while
// the stream is up but the server says its host stopped publishing.
export function shownState(stream, hostDown) {
  if (!stream) return st.STATE_CONNECTING;
  return hostDown && st.isUp(stream) ? st.STATE_OFFLINE : stream.state;
}

// badge words a stream's state as [main, detail]: "Live", "Reconnecting
// (next try in 2 s)", "Offline since 12:00:01" with "next try in 5 s" or
// "disconnected", or "host not publishing" when the server says so
// (hostDown, View's). A quiet catch-up (see quietCatchup) reads as Live.
export function badge(stream, line, hostDown = null) {
  if (!stream) return ["Connecting…", ""];
  if (hostDown && st.isUp(stream)) return [`Offline since ${fmt.clock(hostDown.since)}`, "host not publishing"];
  const retry = stream.secondsToRetry();
  const next = retry === null ? "trying now" : `next try in ${retry} s`;
  switch (stream.state) {
    case st.STATE_LIVE:
      return ["Live", ""];
    case st.STATE_CATCHUP:
      return line.quiet ? ["Live", ""] : [`Catching up ${line.k} / ${line.n}`, ""];
    case st.STATE_RECONNECTING:
      return [retry === null ? "Reconnecting (trying now)" : `Reconnecting (next try in ${retry} s)`, ""];
    case st.STATE_OFFLINE:
      return [`Offline since ${fmt.clock(stream.outageSince)}`, next];
    case st.STATE_DISCONNECTED:
      return [`Offline since ${fmt.clock(stream.outageSince)}`, "disconnected"];
  }
  return ["Connecting…", ""];
}
