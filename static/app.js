// The dashboard: first paint from /api/history, then the live stream from
// /events resumed from the newest id drawn. Everything the server sends is
// put on the page as text (textContent), never parsed as HTML.

import * as fmt from "./format.js";
import { Series, bands, KIND_LOST, KIND_RESTART, GAP_FACTOR } from "./series.js";
import { Chart, DEFS, theme } from "./charts.js";
import { Log } from "./log.js";
import * as st from "./stream.js";
import { Fleet, hostSearch } from "./fleet.js";

const TOPICS = ["cpu", "memory", "load", "disk", "network"];
// {id, t, instance} of the newest event drawn, one entry per host: ids are
// per host (each host has its own stream), so switching hosts must not
// resume one host's stream from another's id.
const POS_PREFIX = "vitals.position.";
const LEGACY_POS_KEY = "vitals.position"; // before hosts: the own host's
const RANGE_KEY = "vitals.range";
const THEME_KEY = "vitals.theme";

const $ = (sel) => document.querySelector(sel);
const body = document.body;

const S = {
  // host is the host shown: "" is the server's own (no ?host=), which is
  // named self.
  self: body.dataset.self || "",
  host: "",
  gen: 0, // bumped on every host switch: late answers for the old host are dropped
  intervalMs: Number(body.dataset.intervalMs) || 1000,
  retentionMs: Number(body.dataset.retentionMs) || 3600000,
  rangeMs: 0,
  paused: false,
  series: Object.fromEntries(TOPICS.map((t) => [t, new Series()])),
  ticks: new Series(), // every sample time of any topic, for gaps
  marks: [], // {t, kind}: restart or not-retained notes for the bands
  latest: {}, // newest full payload per topic
  lastId: null,
  newestT: null,
  recvWall: 0, // wall ms when newestT arrived, to move the axis while offline
  instance: null,
  hello: null,
  live: 0,
  caughtUp: 0,
  fromHistory: 0,
  catchups: [], // last summaries, newest last
  resumeFromT: null, // t of the stored position a reload resumes from
  catchupFromT: null,
  catchupMinT: null,
  catchupMaxT: null,
  states: [], // last state changes, for the test hooks
  bands: [],
};

const log = new Log($("#log"), 200);
const charts = [];
let stream;

// ---- position in localStorage -------------------------------------------

// shownHost names the host on screen.
const shownHost = () => S.host || S.self;
const posKey = () => POS_PREFIX + shownHost();

function loadPosition() {
  try {
    let raw = localStorage.getItem(posKey());
    if (raw === null && !S.host) raw = localStorage.getItem(LEGACY_POS_KEY);
    const p = JSON.parse(raw || "null");
    if (p && typeof p.id === "string" && p.id) return p;
  } catch {
    /* a damaged entry is the same as none */
  }
  return null;
}

let posDirty = false;
function savePosition() {
  if (!posDirty || !S.lastId) return;
  posDirty = false;
  try {
    localStorage.setItem(posKey(), JSON.stringify({ id: S.lastId, t: S.newestT, instance: S.instance }));
  } catch {
    /* storage full or disabled: resuming after a reload just starts fresh */
  }
}

// ---- data ---------------------------------------------------------------

// slim keeps what the charts draw over time; per-device maps and the
// filesystem list matter only for the newest sample (S.latest).
function slim(topic, d) {
  if (topic === "disk") return { t: d.t, read_bps: d.read_bps, write_bps: d.write_bps, read_iops: d.read_iops, write_iops: d.write_iops };
  if (topic === "network") return { t: d.t, rx_bps: d.rx_bps, tx_bps: d.tx_bps, rx_pps: d.rx_pps, tx_pps: d.tx_pps };
  return d;
}

// ingest files one event from history, a replay or the live stream.
function ingest(topic, id, data, source) {
  const series = S.series[topic];
  const t = Number(data && data.t);
  if (!series || !Number.isFinite(t)) return;
  series.insert(t, slim(topic, data));
  S.ticks.insert(t, null);
  if (!S.latest[topic] || t >= S.latest[topic].t) S.latest[topic] = data;
  if (S.newestT === null || t >= S.newestT) {
    S.newestT = t;
    S.recvWall = Date.now();
  }
  if (id) {
    S.lastId = id;
    posDirty = true;
  }
  if (source === "live") S.live++;
  else if (source === "replay") {
    S.caughtUp++;
    S.catchupMinT = S.catchupMinT === null ? t : Math.min(S.catchupMinT, t);
    S.catchupMaxT = S.catchupMaxT === null ? t : Math.max(S.catchupMaxT, t);
  } else S.fromHistory++;
  if (source !== "history") log.add(source === "live" ? "live" : "replay", id, topic, data);
  trim();
  schedule();
}

// trim keeps only the selected window (plus two intervals so the left edge
// has a line), which bounds memory however long the page stays open.
function trim() {
  if (S.newestT === null) return;
  const tmin = S.newestT - S.rangeMs - 2 * S.intervalMs;
  if (S.ticks.length && S.ticks.t[0] >= tmin) return;
  for (const s of Object.values(S.series)) s.trimBefore(tmin);
  S.ticks.trimBefore(tmin);
  S.marks = S.marks.filter((m) => m.t >= tmin - S.rangeMs);
}

function connected() {
  return stream && (stream.state === st.STATE_LIVE || stream.state === st.STATE_CATCHUP);
}

// xRange is the shared time axis in unix ms. While the stream is down the
// right edge keeps moving with the clock, so the missing time shows as it
// grows; it is extrapolated from the newest sample's arrival so a skewed
// browser clock does not shift the axis.
function xRange() {
  const end = S.newestT === null ? Date.now() : connected() ? S.newestT : S.newestT + (Date.now() - S.recvWall);
  return [end - S.rangeMs, end];
}

function computeBands() {
  let pending = null;
  if (!connected() && S.newestT !== null) {
    const [, end] = xRange();
    if (end - S.newestT > S.intervalMs * GAP_FACTOR) pending = { from: S.newestT, to: end };
  }
  S.bands = bands(S.ticks.t, S.intervalMs, S.marks, pending);
}

// ---- history ------------------------------------------------------------

// fetchHistory draws the newest `ms` of every topic. The API counts events,
// not time: one event per topic per interval.
async function fetchHistory(ms) {
  const limit = Math.ceil(ms / S.intervalMs + 2) * TOPICS.length;
  const t0 = performance.now();
  const gen = S.gen;
  const q = new URLSearchParams({ limit: String(limit) });
  if (S.host) q.set("host", S.host);
  const res = await fetch(`/api/history?${q}`, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`history answered ${res.status}`);
  const h = await res.json();
  if (gen !== S.gen) return h; // another host was picked meanwhile
  const events = Array.isArray(h.events) ? h.events : [];
  for (const e of events) ingest(String(e.event), String(e.id), e.data, "history");
  if (!events.length && h.head) S.lastId = String(h.head);
  log.system(`drew ${events.length} events from history in ${Math.round(performance.now() - t0)} ms`);
  return h;
}

// ---- stream hooks -------------------------------------------------------

function onHello(h) {
  S.hello = h;
  if (Number(h.interval_ms) > 0) S.intervalMs = Number(h.interval_ms);
  if (Number(h.retention_ms) > 0) S.retentionMs = Number(h.retention_ms);
  const inst = String(h.instance ?? "");
  if (S.instance && inst && inst !== S.instance) {
    // The restart lies after the newest sample this page saw from the old
    // instance (or after the stored position on a reload), and before the
    // newest one it has now.
    const from = S.resumeFromT ?? S.newestT;
    if (from !== null) S.marks.push({ t: from, until: (S.newestT ?? from) + 5 * S.intervalMs, kind: KIND_RESTART });
    log.system(`server restarted (instance ${inst})`);
  }
  S.instance = inst || S.instance;
  posDirty = true;
  showHost(h);
  log.system(`hello from ${h.host ?? "?"}, newest id ${h.newest ?? "none"}`);
  schedule();
}

function onCatchupStart(c) {
  const resumed = S.resumeFromT !== null;
  S.catchupFromT = S.resumeFromT ?? S.newestT;
  S.resumeFromT = null;
  S.catchupMinT = null;
  S.catchupMaxT = null;
  log.system(`catch-up after ${c.after || "nothing"}: ${c.count} events${c.complete ? "" : " (incomplete: " + c.reason + ")"}`);
  // The first connect right after the history paint usually has nothing to
  // catch up; only a reconnect, a resume or a gap deserves the indicator.
  // On the very first connect (no stored position) the catch-up only
  // bridges the history fetch and the stream: a tick or two, not news.
  catchupUI.quiet = c.complete && stream.reconnects === 0 && !resumed;
  if (!catchupUI.quiet) catchupUI.start(c.count);
}

function onCatchupEnd(sum) {
  const spanMs = S.catchupMaxT !== null ? S.catchupMaxT - (S.catchupFromT ?? S.catchupMinT) : 0;
  const summary = { ...sum, spanMs, fromT: S.catchupFromT, firstT: S.catchupMinT, lastT: S.catchupMaxT, at: Date.now() };
  if (!sum.complete && S.catchupFromT !== null && S.catchupMinT !== null && S.catchupMinT > S.catchupFromT) {
    S.marks.push({ t: S.catchupFromT, until: S.catchupMinT, kind: KIND_LOST });
  }
  S.catchups.push(summary);
  if (S.catchups.length > 20) S.catchups.shift();
  log.system(`caught up ${sum.count} events in ${sum.ms} ms`);
  if (!catchupUI.quiet) catchupUI.end(summary);
  schedule();
}

// ---- catch-up indicator -------------------------------------------------

const catchupUI = {
  el: $("#catchup"),
  bar: $("#catchup progress"),
  text: $("#catchup .catchup-text"),
  timer: 0,
  k: 0,
  n: 0,
  start(n) {
    clearTimeout(this.timer);
    this.k = 0;
    this.n = n;
    this.el.hidden = false;
    this.el.classList.remove("fade", "warn");
    this.bar.hidden = false;
    this.bar.max = Math.max(1, n);
    this.bar.value = 0;
    this.text.textContent = `Catching up 0 / ${n} events`;
  },
  progress(k) {
    this.k = k;
  },
  render() {
    if (!this.bar.hidden) {
      this.bar.value = this.k;
      this.text.textContent = `Catching up ${this.k} / ${this.n} events`;
    }
  },
  end(s) {
    this.bar.hidden = true;
    let text;
    if (s.count === 0) text = `Up to date: nothing missed (${s.ms} ms)`;
    else text = `Caught up ${s.count} events (${fmt.duration(s.spanMs)}) in ${s.ms} ms`;
    let linger = 4000;
    if (!s.complete) {
      // Say plainly what is missing and why; this stays up longer.
      const parts = [text + "."];
      if (s.firstT !== null) {
        parts.push(`History kept only from ${fmt.clock(s.firstT)}`);
        if (s.fromT !== null && s.firstT - s.fromT > S.intervalMs * GAP_FACTOR) {
          parts[parts.length - 1] += `; ${fmt.duration(s.firstT - s.fromT - S.intervalMs)} not retained.`;
        } else parts[parts.length - 1] += ".";
      }
      if (s.reason) parts.push(`(${s.reason})`);
      text = parts.join(" ");
      this.el.classList.add("warn");
      linger = 15000;
    }
    this.text.textContent = text;
    this.timer = setTimeout(() => {
      this.el.classList.add("fade");
      this.timer = setTimeout(() => (this.el.hidden = true), 1200);
    }, linger);
  },
};

// ---- header, badge, summary ---------------------------------------------

function setText(sel, v) {
  const el = typeof sel === "string" ? $(sel) : sel;
  if (el && el.textContent !== v) el.textContent = v;
}

function showHost(h) {
  if (h.host) setText('[data-host="name"]', String(h.host));
  const os = osLine(str(h.os), str(h.platform), str(h.platform_version), str(h.arch));
  if (os) setText('[data-host="os"]', os);
  if (h.kernel) setText('[data-host="kernel"]', "kernel " + String(h.kernel));
  const cpus = Number(h.cpus);
  if (cpus > 0) setText('[data-host="cpus"]', cpus === 1 ? "1 CPU" : `${cpus} CPUs`);
  if (Number(h.boot_time) > 0) body.dataset.bootTime = String(Number(h.boot_time));
  if (h.host) document.title = `${h.host} · vitals`;
  // The footer names the host shown, which may not be the server's own.
  if (h.host) setText('[data-foot="name"]', String(h.host));
  if (Number(h.interval_ms) > 0) setText('[data-foot="interval"]', fmt.duration(Number(h.interval_ms)));
  if (Number(h.retention_ms) > 0) setText('[data-foot="retention"]', fmt.duration(Number(h.retention_ms)));
  renderHeaderClock();
}

const str = (v) => (v === null || v === undefined ? "" : String(v));

// osLine matches views.OSLine: "Debian 12.5 (linux/amd64)".
function osLine(os, platform, version, arch) {
  const name = ((platform ? platform[0].toUpperCase() + platform.slice(1) : "") + " " + version).trim();
  const sys = [os, arch].filter(Boolean).join("/");
  if (!sys) return name;
  return name ? `${name} (${sys})` : sys;
}

function badgeText() {
  const s = stream ? stream.state : st.STATE_CONNECTING;
  const retry = stream ? stream.secondsToRetry() : null;
  switch (s) {
    case st.STATE_LIVE:
      return ["Live", ""];
    case st.STATE_CATCHUP:
      return [`Catching up ${catchupUI.k} / ${catchupUI.n}`, ""];
    case st.STATE_RECONNECTING:
      return [retry === null ? "Reconnecting (trying now)" : `Reconnecting (next try in ${retry} s)`, ""];
    case st.STATE_OFFLINE:
      return [`Offline since ${fmt.clock(stream.outageSince)}`, retry === null ? "trying now" : `next try in ${retry} s`];
    case st.STATE_DISCONNECTED:
      return [`Offline since ${fmt.clock(stream.outageSince)}`, "disconnected"];
    default:
      return ["Connecting…", ""];
  }
}

function renderBadge() {
  const [main, sub] = badgeText();
  const badge = $("#badge");
  badge.dataset.state = stream ? stream.state : st.STATE_CONNECTING;
  setText(badge, main);
  setText("#badge-sub", sub);
}

function renderHeaderClock() {
  const boot = Number(body.dataset.bootTime);
  if (boot > 0) setText('[data-host="uptime"]', "up " + fmt.duration(Date.now() - boot * 1000));
}

function renderSummary() {
  const l = S.latest;
  const parts = [];
  if (l.cpu) parts.push(`CPU ${fmt.pct(l.cpu.total)}`);
  if (l.memory) parts.push(`memory ${fmt.bytes(l.memory.used)} of ${fmt.bytes(l.memory.total)}`);
  if (l.load) parts.push(`load ${fmt.num(l.load.load1)}`);
  if (l.disk) parts.push(`disk read ${fmt.rate(l.disk.read_bps)}, write ${fmt.rate(l.disk.write_bps)}`);
  if (l.network) parts.push(`network in ${fmt.rate(l.network.rx_bps)}, out ${fmt.rate(l.network.tx_bps)}`);
  const at = S.newestT !== null ? ` (at ${fmt.clock(S.newestT)})` : "";
  setText("#summary", parts.length ? "Now: " + parts.join(" · ") + at : "Waiting for the first sample…");
}

// ---- filesystem bars ------------------------------------------------------

const fsRows = new Map();
function renderFilesystems() {
  const box = $("[data-fs]");
  const list = (S.latest.disk && Array.isArray(S.latest.disk.filesystems) ? S.latest.disk.filesystems : [])
    .filter((f) => f && typeof f.mount === "string")
    .slice(0, 12); // a host with dozens of mounts would push the charts away
  const seen = new Set();
  for (const f of list) {
    seen.add(f.mount);
    let row = fsRows.get(f.mount);
    if (!row) {
      row = document.createElement("div");
      row.className = "fsrow";
      const name = document.createElement("span");
      name.className = "fsname";
      const bar = document.createElement("span");
      bar.className = "fsbar";
      bar.setAttribute("role", "meter");
      bar.setAttribute("aria-valuemin", "0");
      bar.setAttribute("aria-valuemax", "100");
      const fill = document.createElement("span");
      bar.append(fill);
      const txt = document.createElement("span");
      txt.className = "fstext";
      row.append(name, bar, txt);
      box.append(row);
      fsRows.set(f.mount, row);
    }
    const [name, bar, txt] = row.children;
    const p = fmt.isNum(f.percent) ? f.percent : fmt.isNum(f.used) && f.total ? (100 * f.used) / f.total : 0;
    setText(name, f.mount);
    name.title = f.fstype ? `${f.mount} (${f.fstype})` : f.mount;
    bar.setAttribute("aria-label", `${f.mount} used`);
    bar.setAttribute("aria-valuenow", String(Math.round(p)));
    bar.firstChild.style.width = Math.max(0, Math.min(100, p)) + "%";
    bar.dataset.level = p >= 90 ? "crit" : p >= 75 ? "warn" : "ok";
    setText(txt, `${fmt.bytes(f.used)} / ${fmt.bytes(f.total)} · ${fmt.pct(p)}`);
  }
  for (const [m, row] of fsRows) {
    if (!seen.has(m)) {
      row.remove();
      fsRows.delete(m);
    }
  }
}

// ---- gaps list ------------------------------------------------------------

let gapsKey = "";
function renderGaps() {
  const [x0, x1] = xRange();
  const vis = S.bands.filter((b) => b.to > x0 && b.from < x1);
  const labels = vis.map((b) => (b.kind === "pending" ? null : b)).filter(Boolean);
  const key = labels.map((b) => b.kind + b.from + "-" + b.to).join(",");
  if (key === gapsKey) return;
  gapsKey = key;
  const ul = $("#gaps");
  ul.replaceChildren(
    ...labels.map((b) => {
      const li = document.createElement("li");
      li.dataset.kind = b.kind;
      li.textContent = bandLabelText(b);
      return li;
    }),
  );
  $("#gaps-box").hidden = labels.length === 0;
}

function bandLabelText(b) {
  const what = { offline: "Server offline", restart: "Server restarted", lost: "Not retained" }[b.kind] || "Gap";
  return `${what} ${fmt.span(b.from, b.to)} (${fmt.duration(b.to - b.from)})`;
}

// ---- stream panel -------------------------------------------------------------

function renderPanel() {
  setText("#c-live", String(S.live));
  setText("#c-caught", String(S.caughtUp));
  setText("#c-reconnects", String(stream ? stream.reconnects : 0));
  setText("#c-connected", stream && stream.connectedSince ? fmt.clockDuration(Date.now() - stream.connectedSince) : "—");
  setText("#c-lastid", S.lastId || "none");
}

// ---- frames ---------------------------------------------------------------------

let framePending = false;
function schedule() {
  if (framePending) return;
  framePending = true;
  requestAnimationFrame(frame);
}

// frame does all DOM and chart work, at most once per animation frame
// however many events arrived since the last one.
function frame() {
  framePending = false;
  computeBands();
  if (!S.paused) {
    for (const c of charts) c.update(S.series[c.def.topic]);
    renderGaps();
    renderFilesystems();
  }
  renderSummary();
  catchupUI.render();
  renderBadge();
  renderPanel();
  log.flush();
  savePosition();
}

// Once a second: badge countdown, uptime, connected-for, and while offline
// the moving right edge of the axis.
setInterval(() => {
  if (stream) stream.tick();
  renderHeaderClock();
  if (!connected()) schedule();
  else {
    renderBadge();
    renderPanel();
  }
}, 1000);

// ---- controls ---------------------------------------------------------------------

function setupRange() {
  const buttons = [...document.querySelectorAll("[data-range-ms]")];
  const stored = Number(localStorage.getItem(RANGE_KEY));
  const pressed = buttons.find((b) => b.getAttribute("aria-pressed") === "true") || buttons[0];
  const pick = buttons.find((b) => Number(b.dataset.rangeMs) === stored && !b.disabled) || pressed;
  const apply = (btn) => {
    for (const b of buttons) b.setAttribute("aria-pressed", String(b === btn));
    const before = S.rangeMs;
    S.rangeMs = Number(btn.dataset.rangeMs);
    return before;
  };
  apply(pick);
  for (const b of buttons) {
    b.addEventListener("click", async () => {
      const before = apply(b);
      try {
        localStorage.setItem(RANGE_KEY, String(S.rangeMs));
      } catch {
        /* only a preference */
      }
      if (S.rangeMs > before) {
        try {
          await fetchHistory(S.rangeMs);
        } catch (e) {
          log.system("history: " + e.message);
        }
      } else trim();
      schedule();
    });
  }
}

function setupPause() {
  const btn = $("#pause");
  btn.addEventListener("click", () => {
    S.paused = !S.paused;
    btn.setAttribute("aria-pressed", String(S.paused));
    btn.textContent = S.paused ? "Resume" : "Pause";
    body.classList.toggle("paused", S.paused);
    schedule();
  });
}

function currentTheme() {
  return document.documentElement.dataset.theme || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

function setupTheme() {
  const btn = $("#theme");
  const label = () => {
    const dark = currentTheme() === "dark";
    btn.setAttribute("aria-pressed", String(dark));
    btn.textContent = dark ? "Light theme" : "Dark theme";
  };
  label();
  btn.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      /* only a preference */
    }
    label();
    rebuildCharts();
  });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!document.documentElement.dataset.theme) {
      label();
      rebuildCharts();
    }
  });
}

function setupPanel() {
  // stream is null for a moment while another host's history loads.
  $("#btn-disconnect").addEventListener("click", () => stream && stream.disconnect());
  $("#btn-reconnect").addEventListener("click", () => {
    if (!stream) return;
    log.system("reconnect requested");
    stream.connect();
  });
  $("#btn-forget").addEventListener("click", () => {
    try {
      localStorage.removeItem(posKey());
      if (!S.host) localStorage.removeItem(LEGACY_POS_KEY);
    } catch {
      /* nothing stored then */
    }
    S.lastId = null;
    posDirty = false;
    log.system("position forgotten: the next connect starts without an id");
    schedule();
  });
  $("#btn-clear").addEventListener("click", () => log.clear());
}

// ---- charts ---------------------------------------------------------------------

const page = {
  intervalMs: () => S.intervalMs,
  xRange,
  bands: () => S.bands,
  latest: (topic) => S.latest[topic],
  coreCount: () => {
    const c = S.latest.cpu && Array.isArray(S.latest.cpu.cores) ? S.latest.cpu.cores.length : 0;
    return c || Number(S.hello && S.hello.cpus) || Number(body.dataset.cpus) || 0;
  },
};

function rebuildCharts() {
  const th = theme();
  for (const c of charts) c.build(c.plotEl.clientWidth, th);
  schedule();
}

function setupCharts() {
  for (const def of DEFS) {
    const card = document.querySelector(`[data-chart="${def.id}"]`);
    if (card) charts.push(new Chart(def, card, page));
  }
  rebuildCharts();
  const ro = new ResizeObserver((entries) => {
    for (const e of entries) {
      const c = charts.find((c) => c.plotEl === e.target);
      if (c) c.resize(Math.floor(e.contentRect.width));
    }
  });
  for (const c of charts) ro.observe(c.plotEl);
}

// ---- test and debugging hook --------------------------------------------------

// window.vitals is a read-only view of the page's state: every read returns
// a fresh copy, and nothing on it changes the page.
Object.defineProperty(window, "vitals", {
  value: Object.freeze({
    snapshot() {
      computeBands();
      const points = {};
      for (const [k, s] of Object.entries(S.series)) points[k] = s.length;
      const first = {};
      for (const [k, s] of Object.entries(S.series)) first[k] = s.length ? s.t[0] : null;
      return JSON.parse(
        JSON.stringify({
          state: stream ? stream.state : "connecting",
          badge: badgeText().join(" ").trim(),
          lastId: S.lastId,
          instance: S.instance,
          live: S.live,
          caughtUp: S.caughtUp,
          fromHistory: S.fromHistory,
          reconnects: stream ? stream.reconnects : 0,
          catchups: S.catchups,
          bands: S.bands,
          ticks: S.ticks.t,
          points,
          first,
          newestT: S.newestT,
          intervalMs: S.intervalMs,
          rangeMs: S.rangeMs,
          paused: S.paused,
          states: S.states,
          logSize: log.size(),
          drawn: Object.fromEntries(charts.map((c) => [c.def.id, c.u ? c.u.data[0].length : 0])),
          catchupText: $("#catchup").hidden ? "" : $("#catchup .catchup-text").textContent,
          host: shownHost(),
          helloHost: S.hello ? S.hello.host : null,
          fleet: fleet.snapshot(),
        }),
      );
    },
  }),
  enumerable: true,
});

// ---- start ------------------------------------------------------------------------

// show draws the host in S.host: its history first, then its stream,
// resumed from the position stored for that host.
async function show() {
  const gen = S.gen;
  const stored = loadPosition();
  if (stored && stored.instance) S.instance = String(stored.instance);
  try {
    await fetchHistory(S.rangeMs);
  } catch (e) {
    log.system("history: " + e.message);
  }
  if (gen !== S.gen) return; // another host was picked while history loaded
  // Resume from the stored position when there is one (a reload then shows
  // what it missed); the replay overlaps what history drew, and the series
  // replace duplicates by time, so nothing is drawn twice.
  if (stored) {
    if (stored.instance && S.instance !== stored.instance) S.instance = String(stored.instance);
    S.lastId = stored.id;
    if (Number.isFinite(stored.t)) S.resumeFromT = stored.t;
    log.system(`resuming from stored id ${stored.id}`);
  }
  const q = S.host ? "?" + new URLSearchParams({ host: S.host }) : "";
  stream = new st.Stream("/events" + q, {
    onHello,
    onEvent: (topic, id, data, replay) => ingest(topic, id, data, replay ? "replay" : "live"),
    onCatchupStart,
    onCatchupProgress: (k) => {
      catchupUI.progress(k);
      schedule();
    },
    onCatchupEnd,
    onState: (changed) => {
      if (changed) {
        S.states.push({ state: stream.state, at: Date.now() });
        if (S.states.length > 50) S.states.shift();
        setText("#announce", badgeText()[0]);
      }
      schedule();
    },
    onSystem: (text) => log.system(text),
    getLastId: () => S.lastId,
    intervalMs: () => S.intervalMs,
  });
  stream.connect();
  schedule();
}

// switchHost shows another host: the old host's position is saved, its
// stream closed, everything drawn dropped, and the new host drawn as on a
// page load. push records the choice in the address (?host=), so a reload
// or a bookmark keeps it; the back button comes here with push false.
async function switchHost(name, push = true) {
  const host = name === S.self ? "" : String(name || "");
  if (host === S.host) return;
  savePosition();
  if (stream) {
    stream.destroy();
    stream = null;
  }
  S.gen++;
  S.host = host;
  if (push) history.pushState({ host }, "", location.pathname + hostSearch(location.search, host, S.self) + location.hash);
  resetData();
  log.system(`showing host ${shownHost()}`);
  fleet.render();
  schedule();
  await show();
}

// resetData forgets everything drawn for the previous host. The header
// shows the new name at once; the rest of it comes with the hello.
function resetData() {
  for (const t of TOPICS) S.series[t] = new Series();
  S.ticks = new Series();
  Object.assign(S, {
    marks: [], latest: {}, lastId: null, newestT: null, recvWall: 0, instance: null, hello: null,
    live: 0, caughtUp: 0, fromHistory: 0, catchups: [], resumeFromT: null,
    catchupFromT: null, catchupMinT: null, catchupMaxT: null, bands: [],
  });
  posDirty = false;
  gapsKey = "";
  clearTimeout(catchupUI.timer);
  catchupUI.el.hidden = true;
  setText('[data-host="name"]', shownHost() || "this host");
  for (const f of ["os", "kernel", "cpus", "uptime"]) setText(`[data-host="${f}"]`, "");
  body.dataset.bootTime = "";
  document.title = `${shownHost()} · vitals`;
}

const fleet = new Fleet({
  current: shownHost,
  onPick: (name) => switchHost(name),
  points: Number(body.dataset.fleetPoints) || 60,
});

async function start() {
  setupRange();
  setupPause();
  setupTheme();
  setupPanel();
  setupCharts();
  renderHeaderClock();
  const asked = new URLSearchParams(location.search).get("host") || "";
  S.host = asked === S.self ? "" : asked;
  if (S.host) resetData(); // the server rendered its own host's header
  addEventListener("popstate", () => switchHost(new URLSearchParams(location.search).get("host") || S.self, false));
  fleet.start();
  await show();
}

start();
