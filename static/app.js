// The dashboard: first paint from /api/history, then the live stream from
// /events resumed from the newest id drawn. Everything the server sends is
// put on the page as text (textContent), never parsed as HTML.

import * as fmt from "./format.js";
import { View, CatchupLine, parsePosition, quietCatchup, badge, historyLimit } from "./view.js";
import { Chart, DEFS } from "./charts.js";
import { theme, scheme, onSystemScheme } from "./palette.js";
import { Log } from "./log.js";
import * as st from "./stream.js";
import { Fleet, hostSearch } from "./fleet.js";
import { bandLabel } from "./series.js";

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
  retentionMs: Number(body.dataset.retentionMs) || 3600000,
  rangeMs: 0,
  paused: false,
  states: [], // last state changes, for the test hooks
};

// V holds the shown host's data (view.js); a host switch replaces it. The
// dashboard reads history before it opens the stream, so history ids are
// resume positions too, until show() opens the stream.
const newView = (intervalMs) => new View(TOPICS, { intervalMs, positionFromHistory: true });
let V = newView(Number(body.dataset.intervalMs) || 1000);

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
    return parsePosition(raw);
  } catch {
    return null; // storage disabled: no position
  }
}

function savePosition() {
  if (!V.posDirty || !V.lastId) return;
  V.posDirty = false;
  try {
    localStorage.setItem(posKey(), JSON.stringify(V.position()));
  } catch {
    /* storage full or disabled: resuming after a reload just starts fresh */
  }
}

// ---- data ---------------------------------------------------------------

// ingest files one event from history, a replay or the live stream.
function ingest(topic, id, data, source) {
  if (!V.ingest(topic, id, data, source)) return;
  if (source !== "history") log.add(source === "live" ? "live" : "replay", id, topic, data);
  V.trim(S.rangeMs);
  schedule();
}

const connected = () => st.isUp(stream);

// xRange is the shared time axis in unix ms (View.end says why it moves
// while offline).
const xRange = () => V.xRange(S.rangeMs, connected());
const computeBands = () => V.computeBands(connected());

// ---- history ------------------------------------------------------------

// fetchHistory draws the newest `ms` of every topic. The API counts events,
// not time: one event per topic per interval.
async function fetchHistory(ms) {
  const limit = historyLimit(ms, V.intervalMs, TOPICS.length);
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
  if (!events.length && h.head && V.positionFromHistory) V.lastId = String(h.head);
  log.system(`drew ${events.length} events from history in ${Math.round(performance.now() - t0)} ms`);
  return h;
}

// ---- stream hooks -------------------------------------------------------

function onHello(h) {
  if (Number(h.retention_ms) > 0) S.retentionMs = Number(h.retention_ms);
  if (V.onHello(h)) log.system(`server restarted (instance ${V.instance})`);
  showHost(h);
  log.system(`hello from ${h.host ?? "?"}, newest id ${h.newest ?? "none"}`);
  schedule();
}

function onCatchupStart(c) {
  const resumed = V.onCatchupStart();
  log.system(`catch-up after ${c.after || "nothing"}: ${c.count} events${c.complete ? "" : " (incomplete: " + c.reason + ")"}`);
  catchup.begin(c.count, quietCatchup(c, { reconnects: stream.reconnects, resumed }));
}

function onCatchupEnd(sum) {
  const summary = V.onCatchupEnd(sum);
  log.system(`caught up ${sum.count} events in ${sum.ms} ms`);
  catchup.finish(summary, V.intervalMs);
  schedule();
}

// ---- catch-up indicator -------------------------------------------------

// catchup is the indicator's state (view.js), painted once per frame.
const catchup = new CatchupLine(() => schedule());
const catchupEls = { box: $("#catchup"), bar: $("#catchup progress"), text: $("#catchup .catchup-text") };

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

const badgeText = () => badge(stream, catchup);

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
  const l = V.latest;
  const parts = [];
  if (l.cpu) parts.push(`CPU ${fmt.pct(l.cpu.total)}`);
  if (l.memory) parts.push(`memory ${fmt.bytes(l.memory.used)} of ${fmt.bytes(l.memory.total)}`);
  if (l.load) parts.push(`load ${fmt.num(l.load.load1)}`);
  if (l.disk) parts.push(`disk read ${fmt.rate(l.disk.read_bps)}, write ${fmt.rate(l.disk.write_bps)}`);
  if (l.network) parts.push(`network in ${fmt.rate(l.network.rx_bps)}, out ${fmt.rate(l.network.tx_bps)}`);
  const at = V.newestT !== null ? ` (at ${fmt.clock(V.newestT)})` : "";
  setText("#summary", parts.length ? "Now: " + parts.join(" · ") + at : "Waiting for the first sample…");
}

// ---- filesystem bars ------------------------------------------------------

const fsRows = new Map();
function renderFilesystems() {
  const box = $("[data-fs]");
  const list = (V.latest.disk && Array.isArray(V.latest.disk.filesystems) ? V.latest.disk.filesystems : [])
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
  const vis = V.bands.filter((b) => b.to > x0 && b.from < x1);
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

// bandLabelText is the band's chart label, capitalised for the list.
function bandLabelText(b) {
  const text = bandLabel(b, fmt);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---- stream panel -------------------------------------------------------------

function renderPanel() {
  setText("#c-live", String(V.live));
  setText("#c-caught", String(V.caughtUp));
  setText("#c-reconnects", String(stream ? stream.reconnects : 0));
  setText("#c-connected", stream && stream.connectedSince ? fmt.clockDuration(Date.now() - stream.connectedSince) : "—");
  setText("#c-lastid", V.lastId || "none");
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
    for (const c of charts) c.update(V.series[c.def.topic]);
    renderGaps();
    renderFilesystems();
  }
  renderSummary();
  catchup.paint(catchupEls);
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
  let stored = 0;
  try {
    stored = Number(localStorage.getItem(RANGE_KEY));
  } catch {
    /* storage disabled: the default range */
  }
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
      } else V.trim(S.rangeMs);
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

function setupTheme() {
  const btn = $("#theme");
  const label = () => {
    const dark = scheme() === "dark";
    btn.setAttribute("aria-pressed", String(dark));
    btn.textContent = dark ? "Light theme" : "Dark theme";
  };
  label();
  btn.addEventListener("click", () => {
    const next = scheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      /* only a preference */
    }
    label();
    rebuildCharts();
  });
  onSystemScheme(() => {
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
    V.lastId = null;
    V.posDirty = false;
    log.system("position forgotten: the next connect starts without an id");
    schedule();
  });
  $("#btn-clear").addEventListener("click", () => log.clear());
}

// ---- charts ---------------------------------------------------------------------

const page = {
  intervalMs: () => V.intervalMs,
  xRange,
  bands: () => V.bands,
  latest: (topic) => V.latest[topic],
  coreCount: () => V.coreCount() || Number(body.dataset.cpus) || 0,
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
      for (const [k, s] of Object.entries(V.series)) points[k] = s.length;
      const first = {};
      for (const [k, s] of Object.entries(V.series)) first[k] = s.length ? s.t[0] : null;
      return JSON.parse(
        JSON.stringify({
          state: stream ? stream.state : "connecting",
          badge: badgeText().join(" ").trim(),
          lastId: V.lastId,
          instance: V.instance,
          live: V.live,
          caughtUp: V.caughtUp,
          fromHistory: V.fromHistory,
          reconnects: stream ? stream.reconnects : 0,
          catchups: V.catchups,
          bands: V.bands,
          ticks: V.ticks.t,
          points,
          first,
          newestT: V.newestT,
          intervalMs: V.intervalMs,
          rangeMs: S.rangeMs,
          paused: S.paused,
          states: S.states,
          logSize: log.size(),
          drawn: Object.fromEntries(charts.map((c) => [c.def.id, c.u ? c.u.data[0].length : 0])),
          catchupText: catchup.line(),
          host: shownHost(),
          helloHost: V.hello ? V.hello.host : null,
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
    V.resume(stored);
    log.system(`resuming from stored id ${stored.id}`);
  }
  // From here on the stream owns the position: a wider range refetches
  // history beside it, and those (older) ids must not move lastId back, or
  // a reconnect would replay what is drawn.
  V.positionFromHistory = false;
  const q = S.host ? "?" + new URLSearchParams({ host: S.host }) : "";
  stream = new st.Stream("/events" + q, {
    onHello,
    onEvent: (topic, id, data, replay) => ingest(topic, id, data, replay ? "replay" : "live"),
    onCatchupStart,
    onCatchupProgress: (k) => {
      catchup.progress(k);
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
    getLastId: () => V.lastId,
    intervalMs: () => V.intervalMs,
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
  V = newView(V.intervalMs);
  gapsKey = "";
  catchup.hide();
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
