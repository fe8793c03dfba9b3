// The dashboard: first paint from /api/history, then the live stream from
// /events resumed from the newest id drawn, both through a Hub (hub.js, the
// data path <vitals-chart> uses too); this file draws what it holds.
// Everything the server sends is put on the page as text (textContent),
// never parsed as HTML.

import * as fmt from "./format.js";
import * as dom from "./dom.js";
import { badge, shownState } from "./view.js";
import { Chart, DEFS } from "./charts.js";
import { theme, scheme, onSystemScheme } from "./palette.js";
import { Hub } from "./hub.js";
import { Log } from "./log.js";
import * as st from "./stream.js";
import { Fleet, hostSearch } from "./fleet.js";
import { bandLabel } from "./series.js";
import { ProcessTable, ContainerTable } from "./tables.js";
import { AlertsPanel, jumpRange } from "./alertspanel.js";
import { Pause } from "./pause.js";
import * as units from "./units.js";
import { LongRange, setupRangePicker } from "./longrange.js";
import { parseView } from "./range.js";
import { BREAKDOWNS, openDetails, detailSearch } from "./breakdown.js";
import { BreakdownCard } from "./breakdowncard.js";

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
  rangeMs: 0,
  pause: new Pause(),
  units: {}, // chart id -> the unit it is shown in (units.js)
  states: [], // last state changes, for the test hooks
};

const log = new Log($("#log"), 200);
const charts = [];
let tables = []; // the process and container tables (setupTables)
let breakdowns = []; // per-interface and per-device charts (setupBreakdowns)

// shownHost names the host on screen.
const shownHost = () => S.host || S.self;

// newHub is the data path (hub.js) to the host in S.host. The dashboard
// reads history before it opens the stream, so history ids are resume
// positions too, until show() opens the stream.
function newHub(intervalMs) {
  const keys = [POS_PREFIX + shownHost()];
  if (!S.host) keys.push(LEGACY_POS_KEY);
  const h = new Hub({
    params: { host: S.host },
    streamParams: { fleet: true, points: Number(body.dataset.fleetPoints) || 60 },
    topics: [...new Set([...charts.map((c) => c.def.topic), "processes", "containers"])],
    positionKeys: keys,
    historyFirst: true,
    intervalMs,
    rangeMs: () => S.rangeMs,
    hooks: {
      frame,
      hello: (hello) => {
        showHost(hello);
        showTopics(hello.topics);
      },
      taken: (topic, id, data, source) => {
        S.pause.take(source);
        if (source !== "history") log.add(source === "live" ? "live" : "replay", id, topic, data);
      },
      state: (changed) => {
        if (!changed) return;
        S.states.push({ state: h.stream.state, at: Date.now() });
        if (S.states.length > 50) S.states.shift();
        // A live region: its text is replaced, not edited, so every
        // screen reader hears the change.
        $("#announce").textContent = badgeText()[0];
      },
      system: (text) => log.system(text),
      record: (topic, id, data) => topic === "alerts" && alertsPanel.take(data),
      fleet: (rows) => fleet.take(rows),
    },
  });
  return h;
}

// hub holds the shown host's data; a host switch replaces it.
let hub = null;
const V = () => hub.view;
const schedule = () => hub.schedule();

// xRange is the shared time axis in unix ms (View.end says why it moves
// while offline).
const xRange = () => V().xRange(S.rangeMs, hub.connected());

const catchupEls = { box: $("#catchup"), bar: $("#catchup progress"), text: $("#catchup .catchup-text") };

// ---- header, badge, summary ---------------------------------------------

function setText(sel, v) {
  const el = typeof sel === "string" ? $(sel) : sel;
  if (el) dom.setText(el, v);
}

function showHost(h) {
  if (h.host) setText('[data-host="name"]', String(h.host));
  const os = osLine(str(h.os), str(h.platform), str(h.platform_version), str(h.arch));
  if (os) setText('[data-host="os"]', os);
  if (h.kernel) setText('[data-host="kernel"]', "kernel " + String(h.kernel));
  const cpus = Number(h.cpus);
  if (cpus > 0) setText('[data-host="cpus"]', cpus === 1 ? "1 CPU" : `${cpus} CPUs`);
  setText('[data-host="container"]', containerLine(h));
  if (Number(h.boot_time) > 0) body.dataset.bootTime = String(Number(h.boot_time));
  if (h.host) document.title = `${h.host} · vitals`;
  // The footer names the host shown, which may not be the server's own.
  if (h.host) setText('[data-foot="name"]', String(h.host));
  if (Number(h.interval_ms) > 0) setText('[data-foot="interval"]', fmt.duration(Number(h.interval_ms)));
  if (Number(h.retention_ms) > 0) setText('[data-foot="retention"]', fmt.duration(Number(h.retention_ms)));
  renderHeaderClock();
  // A phone shows the host line cut short (style.css); the whole of it is
  // the title.
  const meta = $(".top .meta");
  meta.title = [...meta.children].map((e) => e.textContent).filter(Boolean).join(" · ");
}

// showTopics shows the sections of the topics the host provides and
// hides the others (no GPU, no sensors): hello lists what it has.
function showTopics(topics) {
  if (!Array.isArray(topics)) return;
  for (const el of document.querySelectorAll("[data-topic]")) dom.setHidden(el, !topics.includes(el.dataset.topic));
}

const str = (v) => (v === null || v === undefined ? "" : String(v));

// osLine matches views.OSLine: "Debian 12.5 (linux/amd64)".
// containerLine is views.ContainerLine: "docker container, limits 1.5 CPUs,
// 512 MiB" for a host that is a container, "" otherwise.
function containerLine(h) {
  if (!h.container) return "";
  const limits = [];
  if (Number(h.cpu_limit) > 0) limits.push(`${Number(h.cpu_limit)} CPUs`);
  if (Number(h.memory_limit) > 0) limits.push(fmt.bytes(Number(h.memory_limit)));
  return `${str(h.container)} container` + (limits.length ? `, limits ${limits.join(", ")}` : "");
}

function osLine(os, platform, version, arch) {
  const name = ((platform ? platform[0].toUpperCase() + platform.slice(1) : "") + " " + version).trim();
  const sys = [os, arch].filter(Boolean).join("/");
  if (!sys) return name;
  return name ? `${name} (${sys})` : sys;
}

const badgeText = () => badge(hub.stream, hub.cu, V().hostDown);

// renderBadge says the stream's state, or while paused that the view holds
// still and how much waits to be drawn.
function renderBadge() {
  const held = S.pause.badge();
  const [main, sub] = held || badgeText();
  const badge = $("#badge");
  const state = held ? "paused" : shownState(hub.stream, V().hostDown);
  // The badge's styles key on its state: an unchanged one is not rewritten.
  if (badge.dataset.state !== state) badge.dataset.state = state;
  setText(badge, main);
  setText("#badge-sub", sub);
}

function renderHeaderClock() {
  const boot = Number(body.dataset.bootTime);
  if (boot > 0) setText('[data-host="uptime"]', "up " + fmt.duration(Date.now() - boot * 1000));
}

// netText is a network rate in the unit the network chart shows.
const netText = (v) => (S.units.network === "bytes" ? fmt.rate(v) : fmt.bitRate(fmt.bytesToBits(v)));

// ownRow is the host shown's newest figures as the page holds them, in
// the fields of a fleet row, so its row reads what the Now line reads.
function ownRow() {
  const l = V().latest;
  if (!l.cpu && !l.memory) return null;
  const row = { t: V().newestT };
  if (l.cpu) row.cpu = l.cpu.total;
  if (l.memory) Object.assign(row, { memory_percent: l.memory.percent, memory_used: l.memory.used, memory_total: l.memory.total });
  if (l.load) row.load1 = l.load.load1;
  if (l.network) Object.assign(row, { rx_bps: l.network.rx_bps, tx_bps: l.network.tx_bps });
  return row;
}

// renderSummary is the "Now" line, in the units the charts show.
function renderSummary() {
  const l = V().latest;
  const parts = [];
  const net = netText;
  if (l.cpu) parts.push(`CPU ${fmt.pct(l.cpu.total)}`);
  if (l.memory && S.units.memory === "percent") parts.push(`memory ${fmt.pct(fmt.percentOf(l.memory.used, l.memory.total))} of ${fmt.bytes(l.memory.total)}`);
  else if (l.memory) parts.push(`memory ${fmt.bytes(l.memory.used)} of ${fmt.bytes(l.memory.total)}`);
  if (l.load) parts.push(`load ${fmt.num(l.load.load1)}`);
  if (l.disk) parts.push(`disk read ${fmt.rate(l.disk.read_bps)}, write ${fmt.rate(l.disk.write_bps)}`);
  if (l.network) parts.push(`network in ${net(l.network.rx_bps)}, out ${net(l.network.tx_bps)}`);
  const at = V().newestT !== null ? ` (at ${fmt.clock(V().newestT)})` : "";
  // A silent host's newest values are not "now": say how old they are.
  const lead = V().hostDown ? `Offline; last values (${fmt.duration(V().end(true) - V().newestT)} ago): ` : "Now: ";
  setText("#summary", parts.length ? lead + parts.join(" · ") + at : "Waiting for the first sample…");
}

// ---- filesystem bars ------------------------------------------------------

const fsRows = new Map();
let fsDrawn = null; // the disk sample the bars show
function renderFilesystems() {
  const box = $("[data-fs]");
  const latest = V().latest;
  // Every frame comes here, the badge's once-a-second one included: the
  // bars are rewritten only for a new disk sample (another host's too).
  if (latest.disk === fsDrawn) return;
  fsDrawn = latest.disk;
  const list = (latest.disk && Array.isArray(latest.disk.filesystems) ? latest.disk.filesystems : [])
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
    // The bar and its text say the same: df's percent, of what users can
    // fill; the empty part of the bar is the free space.
    const fs = fmt.filesystem(f);
    const p = fs.pct ?? 0;
    setText(name, f.mount);
    dom.setAttr(name, "title", f.fstype ? `${f.mount} (${f.fstype})` : f.mount);
    dom.setAttr(bar, "aria-label", `${f.mount} used`);
    dom.setAttr(bar, "aria-valuetext", fs.text);
    dom.setAttr(bar, "aria-valuenow", String(Math.round(p)));
    // A tenth of a percent is under a pixel; written as the browser reads
    // it back ("42%", not "42.0%"), so an unchanged width is not rewritten.
    const width = Math.round(Math.max(0, Math.min(100, p)) * 10) / 10 + "%";
    if (bar.firstChild.style.width !== width) bar.firstChild.style.width = width;
    dom.setAttr(bar, "data-level", p >= 90 ? "crit" : p >= 75 ? "warn" : "ok");
    setText(txt, fs.text);
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
  const [x0, x1] = page.xRange();
  const vis = page.bands().filter((b) => b.to > x0 && b.from < x1);
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
  dom.setHidden($("#gaps-box"), labels.length === 0);
}

// bandLabelText is the band's chart label, capitalised for the list.
function bandLabelText(b) {
  const text = bandLabel(b, fmt);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---- stream panel -------------------------------------------------------------

const streamPanel = $("#stream");
if (streamPanel) streamPanel.addEventListener("toggle", () => schedule());

// renderPanel fills the stream panel's counters while it is open (opening
// it draws a frame); closed, its once-a-second texts would be layout work
// for nobody.
function renderPanel() {
  if (streamPanel && !streamPanel.open) return;
  const v = V();
  const stream = hub.stream;
  setText("#c-live", String(v.live));
  setText("#c-caught", String(v.caughtUp));
  setText("#c-reconnects", String(stream ? stream.reconnects : 0));
  setText("#c-connected", stream && stream.connectedSince ? fmt.clockDuration(Date.now() - stream.connectedSince) : "—");
  setText("#c-lastid", v.lastId || "none");
}

// ---- frames ---------------------------------------------------------------------

// frame draws the shown host: the hub calls it at most once per animation
// frame however many events arrived since the last one, and from its
// timer in a second with no other frame (the badge's countdown, the
// connected-for counter, an offline axis). While paused the view holds
// still: only the badge's waiting count, the host picker, the stream
// panel and the log move.
function frame() {
  if (S.pause.draws()) {
    // A hidden card (a topic the host lacks) costs nothing.
    for (const c of charts) if (!c.card.hidden) c.update(long.active ? long.series(c.def.topic) : V().series[c.def.topic]);
    for (const b of breakdowns) b.update(V().series[b.b.topic]);
    renderGaps();
    renderFilesystems();
    for (const t of tables) t.render();
    renderSummary();
    fleet.renderRows(); // the host shown's row reads what the Now line reads
    hub.cu.paint(catchupEls);
  }
  // The picker is how a user leaves a paused view: it keeps up.
  fleet.renderPicker();
  renderBadge();
  renderPanel();
  renderHeaderClock();
  alertsPanel.render();
  log.flush();
}

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
  // The address's range (a shared link) over the browser's last choice.
  const asked = parseView(location.search)?.ms;
  const pick =
    buttons.find((b) => Number(b.dataset.rangeMs) === asked && !b.disabled) ||
    buttons.find((b) => Number(b.dataset.rangeMs) === stored && !b.disabled) ||
    pressed;
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
      // Narrower: drop what fell out; wider: read what is missing.
      if (S.rangeMs < before) hub.trim();
      else await hub.loadHistory();
      // A range picked while paused is shown: the user asked for it.
      S.pause.redrawOnce();
      schedule();
    });
  }
}

// setupPause wires the Pause button; Resume draws what waited.
function setupPause() {
  $("#pause").addEventListener("click", () => {
    S.pause.toggle();
    showPause();
    schedule();
  });
}

function showPause() {
  const btn = $("#pause");
  const paused = S.pause.paused;
  btn.setAttribute("aria-pressed", String(paused));
  btn.textContent = paused ? "Resume" : "Pause";
  body.classList.toggle("paused", paused);
}

// UNIT_CHOICES are the units of the charts that have a choice (charts.js
// DEFS), default first.
const UNIT_CHOICES = units.choicesOf(DEFS);

// setupUnits reads the chart units (the address over the browser's last
// choice over the default) and gives each chart with a choice a toggle in
// its header; a press rebuilds that chart and keeps the choice in both.
// keepHeaderClear tells the page how tall the sticky header is now (it
// wraps on narrow screens), so what the keyboard focuses or a link scrolls
// to is never left under it (style.css: scroll-padding-top).
function keepHeaderClear() {
  const header = document.querySelector("header.top");
  if (!header || typeof ResizeObserver === "undefined") return;
  new ResizeObserver(() => document.documentElement.style.setProperty("--header-h", `${header.offsetHeight}px`)).observe(header);
}

function setupUnits() {
  let stored = null;
  try {
    stored = localStorage.getItem(units.STORAGE_KEY);
  } catch {
    /* storage disabled: the address or the defaults */
  }
  S.units = units.pickUnits(location.search, stored, UNIT_CHOICES);
  for (const c of charts) {
    const base = DEFS.find((d) => d.id === c.def.id);
    if (!base.units) continue;
    c.def = units.withUnit(base, S.units[base.id]);
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "unit-toggle";
    btn.dataset.unitToggle = base.id;
    const label = () => {
      const next = units.nextUnit(UNIT_CHOICES, base.id, S.units[base.id]);
      btn.textContent = units.LABELS[S.units[base.id]];
      btn.title = `${base.title} in ${units.LABELS[S.units[base.id]]}; press for ${units.LABELS[next]}`;
    };
    label();
    btn.addEventListener("click", () => {
      S.units[base.id] = units.nextUnit(UNIT_CHOICES, base.id, S.units[base.id]);
      c.def = units.withUnit(base, S.units[base.id]);
      label();
      try {
        localStorage.setItem(units.STORAGE_KEY, JSON.stringify(S.units));
      } catch {
        /* only a preference */
      }
      history.replaceState(history.state, "", location.pathname + units.unitsSearch(location.search, S.units, UNIT_CHOICES) + location.hash);
      c.build(c.plotEl.clientWidth, theme());
      // The user asked for it: show it even while paused.
      S.pause.redrawOnce();
      schedule();
    });
    c.card.querySelector("header").append(btn);
  }
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
  // The stream is null for a moment while another host's history loads.
  $("#btn-disconnect").addEventListener("click", () => hub.stream && hub.stream.disconnect());
  $("#btn-reconnect").addEventListener("click", () => {
    if (!hub.stream) return;
    log.system("reconnect requested");
    hub.stream.connect();
  });
  $("#btn-forget").addEventListener("click", () => {
    hub.forgetPosition();
    log.system("position forgotten: the next connect starts without an id");
    schedule();
  });
  $("#btn-clear").addEventListener("click", () => log.clear());
}

// ---- charts ---------------------------------------------------------------------

// long is the long view (longrange.js): while it is shown, the charts draw
// its points, axis and bands instead of the live window's.
const long = new LongRange({
  url: (path, q) => hub.url(path, q),
  // The charts shown: a topic the host lacks (no GPU) has its card hidden.
  topics: () => [...new Set(charts.filter((c) => !c.card.hidden).map((c) => c.def.topic))],
  width: () => Math.max(0, ...charts.map((c) => c.plotEl.clientWidth)),
  // A range the user picked is drawn even while paused; live minutes
  // wait like live samples do.
  changed: (picked) => {
    if (picked) S.pause.redrawOnce();
    schedule();
  },
  system: (text) => log.system(text),
  intervalMs: () => V().intervalMs,
});
let goRange = () => {};

const page = {
  intervalMs: () => (long.active ? long.stepMs() : V().intervalMs),
  xRange: () => (long.active ? long.xRange() : xRange()),
  bands: () => (long.active ? long.bands() : V().bands),
  // A drag across a chart shows that span (charts.js).
  zoom: (from, to) => goRange({ from: Math.floor(from), to: Math.ceil(to) }),
  latest: (topic) => V().latest[topic],
  coreCount: () => V().coreCount() || Number(body.dataset.cpus) || 0,
  alertBands: (def) => alertsPanel.bandsFor(def),
  thresholds: (def) => alertsPanel.linesFor(def),
};

// alertsPanel is the header's alert badge and the alerts panel; its
// records come from the shown host's hub (hooks.record).
const alertsPanel = new AlertsPanel({
  defs: DEFS,
  url: (path, q) => hub.url(path, q),
  schedule: () => schedule(),
  jump: showChartAt,
});

// showChartAt shows a chart at time t: the narrowest range holding t, and
// the chart scrolled into view.
function showChartAt(chartId, t) {
  const btn = jumpRange(t, [...document.querySelectorAll("[data-range-ms]")]);
  if (btn && btn.getAttribute("aria-pressed") !== "true") btn.click();
  const card = document.querySelector(`[data-chart="${chartId}"]`);
  if (card) card.scrollIntoView({ block: "center" });
}

function rebuildCharts() {
  const th = theme();
  for (const c of charts) c.build(c.plotEl.clientWidth, th);
  for (const b of breakdowns) b.rebuild();
  // A rebuilt chart is empty: draw it again even while paused.
  S.pause.redrawOnce();
  schedule();
}

// setupBreakdowns gives the network and disk charts their per-interface
// and per-device breakdowns, open as the address says (?detail=).
function setupBreakdowns() {
  const open = openDetails(location.search);
  for (const b of BREAKDOWNS) {
    const anchor = document.querySelector(`[data-chart="${b.of}"]`);
    if (!anchor) continue;
    const card = new BreakdownCard(b, anchor, page, {
      open: open.has(b.of),
      bits: () => b.of === "network" && S.units.network === "bits",
      theme,
      onToggle: (isOpen) => {
        const now = openDetails(location.search);
        if (isOpen) now.add(b.of);
        else now.delete(b.of);
        history.replaceState(history.state, "", location.pathname + detailSearch(location.search, now) + location.hash);
        S.pause.redrawOnce();
        schedule();
      },
    });
    breakdowns.push(card);
  }
}

function setupTables() {
  const tpage = {
    latest: (topic) => V().latest[topic],
    series: (topic) => V().series[topic],
    intervalMs: () => V().intervalMs,
    hostCores: () => page.coreCount(),
    hostMemory: () => (V().latest.memory ? Number(V().latest.memory.total) || 0 : 0),
  };
  tables = [new ProcessTable($("#processes"), tpage), new ContainerTable($("#containers"), tpage)];
}

function setupCharts() {
  for (const def of DEFS) {
    const card = document.querySelector(`[data-chart="${def.id}"]`);
    if (card) charts.push(new Chart(def, card, page));
  }
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
      const v = hub.view;
      const stream = hub.stream;
      v.computeBands(hub.connected());
      const points = {};
      for (const [k, s] of Object.entries(v.series)) points[k] = s.length;
      const first = {};
      for (const [k, s] of Object.entries(v.series)) first[k] = s.length ? s.t[0] : null;
      return JSON.parse(
        JSON.stringify({
          state: stream ? stream.state : "connecting",
          hostDown: v.hostDown,
          summary: $("#summary").textContent,
          badge: badgeText().join(" ").trim(),
          lastId: v.lastId,
          instance: v.instance,
          live: v.live,
          caughtUp: v.caughtUp,
          fromHistory: v.fromHistory,
          reconnects: stream ? stream.reconnects : 0,
          catchups: v.catchups,
          bands: v.bands,
          ticks: v.ticks.t,
          points,
          first,
          newestT: v.newestT,
          intervalMs: v.intervalMs,
          rangeMs: S.rangeMs,
          paused: S.pause.paused,
          units: S.units,
          range: long.snapshot(),
          envelopes: Object.fromEntries(charts.map((c) => [c.def.id, c.envelopes || 0])),
          waiting: S.pause.waiting,
          states: S.states,
          logSize: log.size(),
          // Charts of topics the host lacks (sensors, gpu) are hidden
          // and left out.
          drawn: Object.fromEntries(charts.filter((c) => !c.card.hidden).map((c) => [c.def.id, c.u ? c.u.data[0].length : 0])),
          // How often each chart was given data, and frames drawn: a chart
          // whose topic got nothing new is not redrawn.
          redraws: Object.fromEntries(charts.map((c) => [c.def.id, c.draws])),
          frames: hub.frames,
          // How many time labels each chart's x axis shows.
          xLabels: Object.fromEntries(charts.map((c) => [c.def.id, c.xLabels || 0])),
          // The sample index each chart's cursor shows, null when none.
          cursors: Object.fromEntries(charts.map((c) => [c.def.id, c.cursorIdx])),
          // The newest time each chart has drawn (unix ms), null if none.
          drawnNewest: Object.fromEntries(charts.map((c) => [c.def.id, c.u && c.u.data[0].length ? Math.round(c.u.data[0][c.u.data[0].length - 1] * 1000) : null])),
          visibility: document.visibilityState,
          catchupText: hub.cu.line(),
          host: shownHost(),
          helloHost: v.hello ? v.hello.host : null,
          fleet: fleet.snapshot(),
          breakdowns: Object.fromEntries(breakdowns.map((b) => [b.b.of, b.snapshot()])),
          processes: tables[0].snapshot(),
          containers: tables[1].snapshot(),
          alerts: {
            counts: alertsPanel.book.counts(),
            records: alertsPanel.book.byId.size,
            bands: Object.fromEntries(charts.map((c) => [c.def.id, alertsPanel.bandsFor(c.def)])),
            thresholds: Object.fromEntries(charts.map((c) => [c.def.id, alertsPanel.linesFor(c.def)])),
          },
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
  const h = hub;
  const stored = h.loadPosition();
  await h.loadHistory();
  if (h !== hub) return; // another host was picked while history loaded
  // Resume from the stored position when there is one (a reload then shows
  // what it missed); the replay overlaps what history drew, and the series
  // replace duplicates by time, so nothing is drawn twice.
  if (stored) {
    h.resume(stored);
    log.system(`resuming from stored id ${stored.id}`);
  }
  h.open();
}

// switchHost shows another host: the old host's position is saved, its
// stream closed, everything drawn dropped, and the new host drawn as on a
// page load. push records the choice in the address (?host=), so a reload
// or a bookmark keeps it; the back button comes here with push false.
async function switchHost(name, push = true) {
  const host = name === S.self ? "" : String(name || "");
  if (host === S.host) return;
  const intervalMs = hub.view.intervalMs;
  hub.destroy();
  S.host = host;
  if (push) history.pushState({ host }, "", location.pathname + hostSearch(location.search, host, S.self) + location.hash);
  hub = newHub(intervalMs);
  if (long.active) long.show(long.view); // the same range of the new host
  // Another host is shown live: a pause held the old host's view.
  S.pause.resume();
  showPause();
  for (const t of tables) t.reset();
  alertsPanel.load(true);
  resetHeader();
  log.system(`showing host ${shownHost()}`);
  fleet.render();
  schedule();
  await show();
}

// resetHeader forgets the previous host's header and gaps. The header
// shows the new name at once; the rest of it comes with the hello.
function resetHeader() {
  gapsKey = "";
  setText('[data-host="name"]', shownHost() || "this host");
  for (const f of ["os", "kernel", "cpus", "uptime"]) setText(`[data-host="${f}"]`, "");
  body.dataset.bootTime = "";
  document.title = `${shownHost()} · vitals`;
}

const fleet = new Fleet({
  current: shownHost,
  onPick: (name) => switchHost(name),
  points: Number(body.dataset.fleetPoints) || 60,
  overlay: ownRow,
  net: netText,
});

async function start() {
  const asked = new URLSearchParams(location.search).get("host") || "";
  S.host = asked === S.self ? "" : asked;
  setupRange();
  keepHeaderClear();
  setupPause();
  setupTheme();
  setupPanel();
  setupCharts();
  setupUnits();
  setupBreakdowns();
  setupTables();
  hub = newHub(Number(body.dataset.intervalMs) || 1000);
  goRange = setupRangePicker({ long, charts, host: shownHost, changed: schedule });
  rebuildCharts();
  renderHeaderClock();
  if (S.host) resetHeader(); // the server rendered its own host's header
  addEventListener("popstate", () => switchHost(new URLSearchParams(location.search).get("host") || S.self, false));
  fleet.start();
  await alertsPanel.load();
  await show();
}

start();
