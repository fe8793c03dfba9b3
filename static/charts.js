// Charts: one uPlot per card, all on one shared time axis (the x range comes
// from the page, not from the data) with one synced cursor. Every chart
// draws the offline bands under its lines; lines break at gaps because
// series.columns inserts null points there.

import uPlot from "./vendor/uPlot.esm.js";
import * as fmt from "./format.js";
import { bandLabel, bandShortLabel, coreIDs, coreRows, coresText, fitBandLabel, lowerBound, snapIndex, topCores } from "./series.js";
import { tempStats, gpuStats, celsius } from "./whatsusing.js";
import { HEAT_STOPS, heatGradient } from "./palette.js";
import { clipToPlot, envelopePlugin } from "./envelope.js";
import { dateTime, dayLabel } from "./range.js";
import { spreadLabels } from "./labels.js";
import { Columns } from "./columns.js";
import { cursorKey, Announcer } from "./keyboard.js";
import { watchOnScreen } from "./onscreen.js";
import { setText } from "./dom.js";

// The y axis gets the same width on every chart (in ems of the axis font,
// wide enough for "128 MiB/s"), so the plot areas line up and one x
// position is one time on all of them.
const Y_AXIS_EMS = 6.5;

// The x axis below the plot, in px: a short tick, a gap, then one line of
// labels with room for descenders (the line is X_LINE_EMS of the axis
// font). uPlot's default of 50 px left about 30 px empty under each chart.
const X_TICK_PX = 4;
const X_GAP_PX = 3;
const X_LINE_EMS = 1.4;
// A plot narrower than this (a phone's) packs its time ticks closer.
const X_NARROW_PX = 420;
const X_LABEL_GAP_PX = 12;

// Padding around the plot, in px: room above for the top y label's upper
// half, and on the right for a little air after the newest sample.
const PAD_TOP_PX = 8;
const PAD_RIGHT_PX = 12;

// SNAP_PX is how near, in CSS px, the cursor must be to a sample to show it
// when two intervals are narrower than that: about a finger's slip.
const SNAP_PX = 6;

// The keyboard cursor's announcements: at most one per KEY_ANNOUNCE_MS
// while keys move it, and one per LIVE_ANNOUNCE_MS while it follows the
// newest sample of a live stream (a reader reading every tick would never
// stop talking).
const KEY_ANNOUNCE_MS = 400;
const LIVE_ANNOUNCE_MS = 10000;

const KIB = 1024;
// Binary steps for byte axes, so ticks read "256 MiB", "1 GiB" rather than
// "95.4 MiB".
const BYTE_INCRS = [];
for (let p = 0; p <= 5; p++) {
  for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]) BYTE_INCRS.push(m * KIB ** p);
}

const sum = (...vs) => (vs.some((v) => typeof v === "number") ? vs.reduce((a, v) => a + (typeof v === "number" ? v : 0), 0) : null);

// field is a series (or an extra) drawing the payload's field key.
function field(label, key, more) {
  return { label, key, get: (s) => s[key], ...more };
}

// count is an extra shown on hover as a whole number.
function count(label, key) {
  return field(label, key, { fmt: (v) => fmt.num(v, 0) });
}

// rateChart is a chart of byte rates, with counts on hover; opts.bits
// offers bits per second too, as the default (inBits).
function rateChart(topic, title, series, extras, opts = {}) {
  const def = { id: topic, topic, title, fmt: fmt.rate, bytes: true, axis: (v) => fmt.bytesAxis(v) + "/s", series, extras };
  return opts.bits ? inBits(def) : def;
}

// inBits gives a chart of byte rates the choice of bits per second (the
// wire carries bytes; the chart multiplies by 8). toShown puts an alert
// threshold, in the payload's unit, on the chart's axis.
function inBits(def) {
  const bits = {
    fmt: fmt.bitRate,
    bytes: false,
    axis: fmt.bitRateAxis,
    series: def.series.map((s) => ({ ...s, get: (x) => fmt.bytesToBits(s.get(x)) })),
    toShown: fmt.bytesToBits,
  };
  return { ...def, units: { bits, bytes: {} } };
}

// MEMORY_SERIES are the memory chart's lines; of names the field each is a
// percent of when the chart shows percent of total (swap of swap).
const MEMORY_SERIES = [
  { label: "used", key: "used", get: (s) => s.used, color: "--s1", fill: true, width: 2 },
  { label: "cache", key: "cached", get: (s) => sum(s.cached, s.buffers), color: "--s2" },
  { label: "available", key: "available", get: (s) => s.available, color: "--s6" },
  { label: "swap", key: "swap_used", get: (s) => s.swap_used, color: "--s4", dash: [4, 3], of: "swap_total" },
];

// DEFS describes every chart, and is the browser's only list of them:
// which topic feeds it, its title, its series and how values read. The
// topics a page draws are those of its charts; the stream's topics come
// from hello. A series' key names the payload field it draws (the embed
// element's fields="..." picks series by it). The dashboard's cards are
// rendered by the server (views/dashboard.go) with the same ids and titles.
export const DEFS = [
  {
    id: "cpu",
    topic: "cpu",
    title: "CPU",
    fmt: fmt.pct,
    axis: (v) => v + " %",
    range: () => [0, 100],
    series: [
      { label: "total", key: "total", get: (s) => s.total, color: "--s1", fill: true, width: 2 },
      { label: "user", key: "user", get: (s) => s.user, color: "--s2" },
      { label: "system", key: "system", get: (s) => s.system, color: "--s3" },
      { label: "iowait", key: "iowait", get: (s) => s.iowait, color: "--s4" },
      { label: "steal", key: "steal", get: (s) => s.steal, color: "--s5" },
    ],
  },
  { id: "cores", topic: "cpu", title: "Per-core CPU", heat: true },
  {
    id: "memory",
    topic: "memory",
    title: "Memory",
    fmt: fmt.bytes,
    bytes: true,
    axis: (v) => fmt.bytesAxis(v),
    // 0 to the larger of RAM and swap, so "used" reads against the total.
    range: (u, latest) => [0, Math.max(latest?.total || 0, latest?.swap_total || 0, u.data ? maxOf(u.data.slice(1)) : 0) || 1],
    series: MEMORY_SERIES,
    // Percent of total, so a 700 MiB line is not flattened against a 24 GiB
    // axis. An alert threshold is in bytes of one field or another, so
    // percent shows none (toShown).
    units: {
      bytes: {},
      percent: {
        fmt: fmt.pct,
        bytes: false,
        axis: (v) => v + " %",
        range: () => [0, 100],
        series: MEMORY_SERIES.map((d) => ({ ...d, get: (s) => fmt.percentOf(d.get(s), s[d.of || "total"]) })),
        toShown: () => null,
      },
    },
  },
  {
    id: "load",
    topic: "load",
    title: "Load average",
    fmt: (v) => fmt.num(v),
    axis: (v) => fmt.num(v, 1),
    range: (u, latest) => [0, Math.max((latest?.cpus || 1) * 1.15, maxOf(u.data ? u.data.slice(1) : []) * 1.1)],
    series: [
      { label: "1 min", key: "load1", get: (s) => s.load1, color: "--s1", width: 2 },
      { label: "5 min", key: "load5", get: (s) => s.load5, color: "--s2" },
      { label: "15 min", key: "load15", get: (s) => s.load15, color: "--s3" },
      { label: "CPUs", key: "cpus", get: (s) => s.cpus, color: "--ref", dash: [6, 4], width: 1 },
    ],
  },
  rateChart(
    "disk",
    "Disk I/O",
    [field("read", "read_bps", { color: "--s2", width: 2 }), field("write", "write_bps", { color: "--s3", width: 2 })],
    [count("read IOPS", "read_iops"), count("write IOPS", "write_iops")],
  ),
  rateChart(
    "network",
    "Network",
    [field("rx", "rx_bps", { color: "--s6", width: 2 }), field("tx", "tx_bps", { color: "--s5", width: 2 })],
    [count("rx packets/s", "rx_pps"), count("tx packets/s", "tx_pps")],
    { bits: true },
  ),
  // Hosts have from one sensor to hundreds: the chart draws their summary
  // (tempStats), with the lowest critical threshold as the line to watch.
  {
    id: "temperatures",
    topic: "sensors",
    title: "Temperatures",
    fmt: celsius,
    axis: (v) => v + " °C",
    range: (u, latest) => [0, Math.max(tempStats(latest).critical || 0, u.data ? maxOf(u.data.slice(1)) : 0, 50) * 1.08],
    series: [
      { label: "hottest", key: "hottest", get: (s) => tempStats(s).hottest, color: "--s3", width: 2 },
      { label: "average", key: "average", get: (s) => tempStats(s).average, color: "--s1" },
      { label: "critical", key: "critical", get: (s) => tempStats(s).critical, color: "--bad", dash: [6, 4], width: 1 },
    ],
  },
  {
    id: "gpu",
    topic: "gpu",
    title: "GPU",
    fmt: fmt.pct,
    axis: (v) => v + " %",
    range: () => [0, 100],
    series: [
      { label: "busiest", key: "util_pct", get: (s) => gpuStats(s).util, color: "--s1", fill: true, width: 2 },
      { label: "memory", key: "mem_pct", get: (s) => gpuStats(s).mem, color: "--s2" },
    ],
    extras: [
      { label: "hottest", key: "temp_c", get: (s) => gpuStats(s).temp, fmt: celsius },
      { label: "power", key: "power_w", get: (s) => gpuStats(s).power, fmt: (v) => (typeof v === "number" ? fmt.num(v, 0) + " W" : "—") },
    ],
  },
];

function timeLabel(ms, seconds) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return seconds ? `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` : `${p(d.getHours())}:${p(d.getMinutes())}`;
}

// textWidth returns a function measuring a string's width in CSS px in the
// given canvas font, on a canvas of its own (uPlot's context may be in the
// middle of drawing with another font).
function textWidth(font) {
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = font;
  const cache = new Map(); // labels repeat every frame; only a few differ
  return (text) => {
    let w = cache.get(text);
    if (w === undefined) {
      if (cache.size > 500) cache.clear(); // a page open for days sees many
      w = ctx.measureText(text).width;
      cache.set(text, w);
    }
    return w;
  };
}

// fitsX says whether a label w px wide, centred on x value v (seconds),
// stays inside the canvas.
function fitsX(u, v, w) {
  const x = u.valToPos(v, "x") + u.bbox.left / (devicePixelRatio || 1);
  return x - w / 2 >= 0 && x + w / 2 <= u.width;
}

function maxOf(cols) {
  let m = 0;
  for (const c of cols) for (const v of c) if (v !== null && v > m) m = v;
  return m;
}

// Chart is one card's uPlot plus its value line and tooltip.
export class Chart {
  // page supplies: intervalMs(), xRange() -> [minMs, maxMs], bands(),
  // latest(topic), coreCount(), and optionally height() and fontPx() (the
  // embed element sizes its chart from its own CSS, not the window's).
  constructor(def, card, page) {
    this.def = def;
    this.card = card;
    this.page = page;
    this.plotEl = card.querySelector("[data-plot]");
    this.valuesEl = card.querySelector("[data-values]");
    this.samples = [];
    this.hovered = false;
    this.cursorIdx = null;
    this.u = null;
    this.cols = null;
    this.drawnKey = null; // what the last setData drew, besides the data
    this.drawnLen = 0; // how many samples the last setData drew
    this.draws = 0; // setData calls, for the test hooks
    this.valueNodes = [];
    this.buildValues();
    this.setupKeyboard();
    // A chart scrolled out of sight keeps its columns current but is not
    // redrawn; it draws what it holds when it comes back into view.
    this.behind = false;
    this.seen = watchOnScreen(this.card, () => {
      if (this.behind && this.u && this.cols) {
        this.drawNow();
        this.updateValues();
      }
    });
  }

  // setupKeyboard makes the plot a focusable chart whose cursor the keys
  // move (keyboard.js), with a polite live region of its own saying the
  // values under it.
  setupKeyboard() {
    const el = this.plotEl;
    this.focused = false;
    this.keyT = null; // the time (s) the keyboard cursor is on
    this.keyFollow = false; // the cursor is on the newest sample and follows it
    el.tabIndex = 0;
    // "application" so a screen reader hands the arrow keys to the chart
    // instead of reading the page with them.
    el.setAttribute("role", "application");
    el.setAttribute("aria-roledescription", "chart");
    const what = el.getAttribute("aria-label") || this.def.title;
    el.setAttribute("aria-label", `${what}. Arrow keys move the cursor by one sample, Page Up and Page Down by a tenth of the window, Home and End to the oldest and newest; Escape leaves it.`);
    this.liveEl = document.createElement("div");
    this.liveEl.className = "sr-only";
    this.liveEl.setAttribute("aria-live", "polite");
    this.liveEl.dataset.announce = this.def.id;
    this.card.append(this.liveEl);
    // Key repeat is ~30 a second; a reader could not keep up with more
    // than a few texts a second.
    this.announcer = new Announcer(
      {
        say: (text) => (this.liveEl.textContent = text),
        now: () => performance.now(),
        setTimer: (fn, ms) => setTimeout(fn, ms),
        clearTimer: (id) => clearTimeout(id),
      },
      KEY_ANNOUNCE_MS,
    );
    el.addEventListener("focus", () => (this.focused = true));
    el.addEventListener("blur", () => {
      this.focused = false;
      this.keyT = null;
      this.keyFollow = false;
      this.announcer.stop();
      if (this.u) this.u.setCursor({ left: -10, top: -10 });
    });
    el.addEventListener("keydown", (e) => {
      if (!this.u || e.altKey || e.ctrlKey || e.metaKey) return;
      // The cursor moves over what uPlot holds: give it every point first.
      if (this.behind && this.cols) this.drawNow();
      const xs = this.u.data[0];
      const idx = this.keyT === null ? null : lowerBound(xs, this.keyT);
      const to = cursorKey(e.key, idx, xs.length, (i) => !!this.samples[i]);
      if (to === undefined) return;
      e.preventDefault();
      if (to === null) {
        this.keyT = null;
        this.keyFollow = false;
        this.announcer.stop();
        this.u.setCursor({ left: -10, top: -10 });
        return;
      }
      this.keyT = xs[to];
      this.keyFollow = to === xs.length - 1;
      this.placeKeyCursor();
      this.announcer.announce(this.valuesText());
    });
  }

  // placeKeyCursor puts the cursor on the keyboard's sample, as a pointer
  // there would (the other charts follow through the cursor sync).
  placeKeyCursor() {
    const u = this.u;
    const xs = u.data[0];
    if (this.keyFollow) this.keyT = xs.length ? xs[xs.length - 1] : null;
    if (this.keyT === null) return;
    u.setCursor({ left: u.valToPos(this.keyT, "x"), top: u.bbox.height / (devicePixelRatio || 1) / 2 });
    // The key chose the sample: what is said names it, whatever index
    // uPlot's cursor hook settles on from the pixel position.
    const idx = lowerBound(xs, this.keyT);
    if (idx !== this.cursorIdx) {
      this.cursorIdx = idx;
      this.updateValues();
      this.updateTip(u);
    }
  }

  // valuesText is what the cursor shows, in words: "CPU at 10:42:13:
  // total 12 %, user 8 %".
  valuesText() {
    const s = this.sampleAt();
    const idx = this.cursorIdx;
    const t = idx !== null && this.u ? this.u.data[0][idx] * 1000 : null;
    const at = t !== null ? ` at ${fmt.clock(t)}` : "";
    if (!s) return `${this.def.title}${at}: no sample`;
    if (this.def.heat) return `${this.def.title}${at}: ${coresText(s, fmt)}`;
    const parts = this.def.series.map((d) => `${d.label} ${this.def.fmt(d.get(s))}`);
    for (const x of this.def.extras || []) parts.push(`${x.label} ${x.fmt(x.get(s))}`);
    return `${this.def.title}${at}: ${parts.join(", ")}`;
  }

  // buildValues creates the text line of current values once; updates only
  // change textContent, so the DOM never grows.
  buildValues() {
    this.valuesEl.replaceChildren();
    this.valueNodes = [];
    if (this.def.heat) {
      const v = document.createElement("span");
      this.valuesEl.append(v, this.heatLegend());
      this.valueNodes.push(v);
      return;
    }
    for (const s of this.def.series) {
      const item = document.createElement("span");
      item.className = "val";
      const sw = document.createElement("i");
      sw.className = "sw";
      sw.dataset.color = s.color;
      if (s.dash) sw.classList.add("dash");
      const label = document.createElement("span");
      label.className = "lbl";
      label.textContent = s.label;
      const value = document.createElement("b");
      value.textContent = "—";
      item.append(sw, label, value);
      this.valuesEl.append(item);
      this.valueNodes.push(value);
    }
    for (const x of this.def.extras || []) {
      const item = document.createElement("span");
      item.className = "val extra";
      const label = document.createElement("span");
      label.className = "lbl";
      label.textContent = x.label;
      const value = document.createElement("b");
      value.textContent = "—";
      item.append(label, value);
      this.valuesEl.append(item);
      this.valueNodes.push(value);
    }
  }

  build(width, th) {
    this.destroy();
    const def = this.def;
    this.th = th;
    for (const sw of this.valuesEl.querySelectorAll(".sw")) sw.style.background = th[sw.dataset.color];
    if (this.scaleEl) this.scaleEl.style.background = heatGradient(th);
    const page = this.page;
    // Axis text follows the page's root size (larger on 4K screens).
    const rootPx = page.fontPx ? page.fontPx() : parseFloat(getComputedStyle(document.documentElement).fontSize);
    const axisPx = Math.round(0.75 * (rootPx || 15));
    const axisFont = `${axisPx}px ${th["--font"] || "system-ui"}`;
    const labelWidth = textWidth(axisFont);
    const xAxis = {
      stroke: th["--axis"],
      grid: { stroke: th["--grid"], width: 1 },
      ticks: { stroke: th["--grid"], width: 1, size: X_TICK_PX },
      gap: X_GAP_PX,
      size: X_TICK_PX + X_GAP_PX + Math.ceil(X_LINE_EMS * axisPx),
      font: axisFont,
      // Ticks at least a label and a gap apart: 70 px on a wide plot, less
      // on a phone's, where 70 px left one label on a 5-minute chart (a
      // minute is 50 px of a 250 px plot).
      space: (u, ai, min, max, dim) => (dim < X_NARROW_PX ? Math.ceil(labelWidth("00:00")) + X_LABEL_GAP_PX : 70),
      // Local wall-clock time, seconds only when the ticks are seconds
      // apart. A label is centred on its tick, so one whose tick is less
      // than half a label from the canvas's edge would be cut ("09:55:!");
      // it is left out instead, and comes back as the axis moves on.
      values: (u, splits, ai, space, incr) => {
        const labels = splits.map((v) => (incr >= 86400 ? dayLabel(v * 1000, incr) : timeLabel(v * 1000, incr < 60)));
        const shown = labels.map((text, i) => (fitsX(u, splits[i], labelWidth(text)) ? text : null));
        this.xLabels = shown.filter((x) => x !== null).length;
        return shown;
      },
    };
    const yAxis = {
      stroke: th["--axis"],
      grid: { stroke: th["--grid"], width: 1 },
      ticks: { show: false },
      size: Math.round(Y_AXIS_EMS * axisPx),
      font: axisFont,
      values: def.heat ? () => [] : (u, splits) => splits.map((v) => def.axis(v)),
    };
    if (def.bytes) yAxis.incrs = BYTE_INCRS;
    const series = [{}];
    if (def.heat) {
      series.push({ label: "cores", paths: () => null, points: { show: false } });
    } else {
      for (const s of def.series) {
        const color = th[s.color];
        series.push({
          label: s.label,
          stroke: color,
          width: s.width || 1.5,
          dash: s.dash,
          fill: s.fill ? color + "22" : undefined,
          points: { show: false },
          spanGaps: false,
        });
      }
    }
    const self = this;
    const opts = {
      width: Math.max(200, width),
      height: this.height(),
      legend: { show: false },
      padding: [PAD_TOP_PX, PAD_RIGHT_PX, 0, 0],
      cursor: {
        sync: { key: "vitals", setSeries: false },
        // The points mark a series only where the cursor is near a sample.
        dataIdx: (u, si, idx, x) => self.snap(u, idx, x),
        points: { size: 6 },
        // A drag selects a span to zoom into (page.zoom); the page, not
        // uPlot, sets the range, so every chart follows.
        drag: { x: !!page.zoom, y: false, setScale: false },
        y: false,
      },
      scales: {
        x: { time: true, auto: false, range: () => page.xRange().map((ms) => ms / 1000) },
        y: def.heat
          ? { auto: false, range: () => [0, 1] }
          : { range: def.range ? (u) => def.range(u, page.latest(def.topic)) : (u, min, max) => [0, Math.max(max || 0, 1) * 1.1] },
      },
      axes: [xAxis, yAxis],
      series,
      plugins: [this.bandsPlugin(), envelopePlugin(this), this.thresholdsPlugin(), this.tooltipPlugin()],
      hooks: {
        setCursor: [(u) => self.onCursor(u)],
        setSelect: [(u) => self.onSelect(u)],
        draw: def.heat ? [(u) => self.drawHeat(u)] : [],
      },
    };
    // The columns follow the def's getters: a new unit starts them over.
    this.cols = new Columns(def.heat ? [() => null] : def.series.map((s) => s.get));
    this.drawnKey = null;
    this.drawnX0 = null;
    this.drawnX1 = null;
    this.u = new uPlot(opts, this.emptyData(), this.plotEl);
    this.u.over.addEventListener("mouseenter", () => (this.hovered = true));
    this.u.over.addEventListener("mouseleave", () => {
      this.hovered = false;
      this.tip.hidden = true;
    });
  }

  // height is the same for every chart, the heat strip included, so cards
  // in a row line up; the strip divides it among the cores.
  height() {
    if (this.page.height) return this.page.height();
    return window.innerWidth < 600 ? 170 : window.innerWidth > 2500 ? 300 : 210;
  }

  emptyData() {
    const n = this.def.heat ? 1 : this.def.series.length;
    return [[], ...Array.from({ length: n }, () => [])];
  }

  // update redraws the chart from the topic's window, and only when
  // something it shows moved: new samples, the time axis, the bands or
  // the threshold lines. A frame for another topic's event, or the
  // once-a-second frame for the badge, costs a comparison.
  update(series) {
    if (!this.u || !series) return;
    const changed = this.cols.sync(series, this.page.intervalMs());
    const [x0, x1] = this.page.xRange();
    const key = this.drawKey(x0, x1);
    if (!changed && key === this.drawnKey && x0 === this.drawnX0 && x1 === this.drawnX1) return;
    if (!this.seen.on && this.drawnKey !== null && !this.cols.rebuilt) {
      this.behind = true;
      return;
    }
    // On a long range a tick moves the lines by less than a pixel: they
    // are redrawn once the axis has moved a whole pixel (an hour on 560 px
    // is 6.4 s a pixel), the values line at every tick. The columns grew
    // in place, so what is drawn next is all of it. Only a drawn picture
    // waits: a chart's first samples draw at once.
    const msPerPx = (x1 - x0) / Math.max(1, this.u.bbox.width / (devicePixelRatio || 1));
    const creeping = this.drawnLen > 0 && x1 >= this.drawnX1 && x1 - this.drawnX1 < msPerPx;
    if (!this.cols.rebuilt && key === this.drawnKey && creeping && !(this.focused && this.keyT !== null)) {
      this.behind = true; // uPlot has not drawn the newest points yet
      this.updateValues();
      return;
    }
    this.drawnKey = key;
    this.drawnX0 = x0;
    this.drawnX1 = x1;
    this.drawNow();
    if (this.focused && this.keyT !== null) {
      this.placeKeyCursor();
      // Following the newest sample: the live values, now and then.
      if (this.keyFollow) this.announcer.announce(this.valuesText(), LIVE_ANNOUNCE_MS);
    }
    this.updateValues();
  }

  // drawNow hands uPlot the columns as they are and redraws.
  drawNow() {
    this.samples = this.cols.samples;
    this.u.setData(this.cols.data);
    this.drawnLen = this.cols.data[0].length;
    this.behind = false;
    this.draws++;
  }

  // drawKey sums up what a chart draws besides its data and its time axis
  // (x0..x1, the visible window), so an unchanged one is not redrawn.
  drawKey(x0, x1) {
    const parts = [];
    for (const b of this.page.bands()) if (b.to > x0 && b.from < x1) parts.push(b.kind, b.from, b.to, b.label || "");
    const page = this.page;
    for (const b of page.alertBands ? page.alertBands(this.def) : []) if (b.to > x0 && b.from < x1) parts.push(b.severity, b.from, b.to, b.label || "");
    for (const l of page.thresholds ? page.thresholds(this.def) : []) parts.push(l.rule, l.level, l.value);
    return parts.join(",");
  }

  resize(width) {
    if (this.u) this.u.setSize({ width: Math.max(200, width), height: this.height() });
  }

  // snap is the sample index the cursor at time x (seconds) shows, or
  // null: near means within two intervals, or a few pixels where an
  // interval is narrower than that (a long range).
  snap(u, idx, x) {
    const xs = u.data[0];
    const pxSec = u.bbox.width > 0 ? (u.scales.x.max - u.scales.x.min) / (u.bbox.width / (devicePixelRatio || 1)) : 0;
    return snapIndex(xs, idx, x, Math.max((2 * this.page.intervalMs()) / 1000, SNAP_PX * pxSec));
  }

  // onSelect zooms into a span dragged across the chart (a few px at
  // least: a click is not a zoom). The synced charts see the same
  // selection: only the one under the pointer zooms.
  onSelect(u) {
    const { left, width } = u.select;
    if (width < 5 || !this.page.zoom) return;
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (this.hovered) this.page.zoom(u.posToVal(left, "x") * 1000, u.posToVal(left + width, "x") * 1000);
  }

  onCursor(u) {
    const left = u.cursor.left;
    const idx = left === undefined || left < 0 ? null : this.snap(u, u.cursor.idx, u.posToVal(left, "x"));
    this.cursorIdx = idx;
    this.updateValues();
    this.updateTip(u);
  }

  // sampleAt is the sample under the cursor, or the newest one.
  sampleAt() {
    if (this.cursorIdx !== null && this.cursorIdx >= 0 && this.cursorIdx < this.samples.length) {
      return this.samples[this.cursorIdx];
    }
    for (let i = this.samples.length - 1; i >= 0; i--) if (this.samples[i]) return this.samples[i];
    return null;
  }

  updateValues() {
    const s = this.sampleAt();
    const put = (i, v) => setText(this.valueNodes[i], v);
    if (this.def.heat) {
      put(0, coresText(s, fmt));
      return;
    }
    let i = 0;
    for (const d of this.def.series) put(i++, s ? this.def.fmt(d.get(s)) : "—");
    for (const x of this.def.extras || []) put(i++, s ? x.fmt(x.get(s)) : "—");
  }

  tooltipPlugin() {
    const self = this;
    return {
      hooks: {
        init: (u) => {
          self.tip = document.createElement("div");
          self.tip.className = "tip";
          self.tip.hidden = true;
          u.over.append(self.tip);
        },
      },
    };
  }

  updateTip(u) {
    const tip = this.tip;
    if (!tip) return;
    const idx = this.cursorIdx;
    if (!(this.hovered || (this.focused && this.keyT !== null)) || idx === null) {
      tip.hidden = true;
      return;
    }
    const s = this.samples[idx];
    const rows = [];
    const t = u.data[0][idx] * 1000;
    rows.push(["", s && s.__note ? dateTime(t) : fmt.clock(t)]);
    // On a rollup tier: which one, and how many samples the point holds.
    if (s && s.__note) rows.push(["", s.__note]);
    if (!s) {
      rows.push(["", "no sample"]);
    } else if (this.def.heat) {
      const count = coreIDs(s).length;
      // The busiest eight: a tooltip with 64 rows would hide the chart.
      for (const [id, v] of topCores(s, 8)) rows.push([`cpu${id}`, fmt.pct(v)]);
      if (count > 8) rows.push(["", `${count - 8} more`]);
    } else {
      for (const d of this.def.series) rows.push([d.label, this.def.fmt(d.get(s)), d.color]);
      for (const x of this.def.extras || []) rows.push([x.label, x.fmt(x.get(s))]);
    }
    const nodes = rows.map(([k, v, color]) => {
      const row = document.createElement("div");
      if (color) {
        const sw = document.createElement("i");
        sw.className = "sw";
        sw.style.background = this.th[color];
        row.append(sw);
      }
      if (k) {
        const key = document.createElement("span");
        key.textContent = k;
        row.append(key);
      }
      const val = document.createElement("b");
      val.textContent = v;
      row.append(val);
      return row;
    });
    tip.replaceChildren(...nodes);
    tip.hidden = false;
    const left = u.cursor.left;
    const w = u.over.clientWidth;
    const tw = tip.offsetWidth;
    tip.style.left = (left + 14 + tw > w ? Math.max(0, left - 14 - tw) : left + 14) + "px";
    tip.style.top = "6px";
  }

  // thresholdsPlugin draws the alert rules' warn and crit lines (dashed,
  // labelled at the right) on the chart whose series the rule judges.
  thresholdsPlugin() {
    const self = this;
    return {
      hooks: {
        draw: [
          (u) => {
            const lines = self.page.thresholds ? self.page.thresholds(self.def) : [];
            if (!lines.length) return;
            const { left, top, width, height } = u.bbox;
            const ctx = u.ctx;
            const dpr = devicePixelRatio || 1;
            ctx.save();
            ctx.font = `${Math.round(10 * dpr)}px ${self.th["--font"] || "system-ui"}`;
            ctx.textAlign = "right";
            ctx.textBaseline = "bottom";
            ctx.setLineDash([6 * dpr, 4 * dpr]);
            ctx.lineWidth = dpr;
            const shown = [];
            for (const l of lines) {
              const value = self.def.toShown ? self.def.toShown(l.value) : l.value;
              if (value === null) continue;
              const y = u.valToPos(value, "y", true);
              if (!(y >= top && y <= top + height)) continue;
              const color = self.th[l.level === "crit" ? "--crit" : "--warn"];
              ctx.strokeStyle = color;
              ctx.beginPath();
              ctx.moveTo(left, y);
              ctx.lineTo(left + width, y);
              ctx.stroke();
              shown.push({ y, color, text: `${l.rule} ${l.level} ${self.def.fmt ? self.def.fmt(value) : value}` });
            }
            // Each label sits just above its line, unless another label is
            // there: then the nearest free line of text (labels.js).
            const at = spreadLabels(
              shown.map((l) => l.y - 2 * dpr),
              Math.round(12 * dpr),
              top,
              top + height,
            );
            shown.forEach((l, i) => {
              if (at[i] === null) return;
              ctx.fillStyle = l.color;
              ctx.fillText(l.text, left + width - 4 * dpr, at[i]);
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  // bandsPlugin shades offline periods under the lines and labels them.
  bandsPlugin() {
    const self = this;
    const px = (u, ms) => u.valToPos(ms / 1000, "x", true);
    // Alert firing periods (alerts.js) are bands of this chart alone,
    // drawn the same way, with their own colour and label.
    const visible = (u) => {
      const [x0, x1] = self.page.xRange();
      const alertBands = self.page.alertBands ? self.page.alertBands(self.def) : [];
      return [...self.page.bands(), ...alertBands].filter((b) => b.to > x0 && b.from < x1);
    };
    const fillFor = (b) =>
      b.kind === "alert"
        ? self.th[b.severity === "critical" ? "--band-crit" : "--band-warn"]
        : b.kind === "restart"
          ? self.th["--band-restart"]
          : b.kind === "lost"
            ? self.th["--band-lost"]
            : self.th["--band"];
    return {
      hooks: {
        drawClear: [
          (u) => {
            const { top, height } = u.bbox;
            const ctx = clipToPlot(u);
            for (const b of visible(u)) {
              const a = px(u, b.from);
              const z = px(u, b.to);
              ctx.fillStyle = fillFor(b);
              ctx.fillRect(a, top, Math.max(1, z - a), height);
            }
            ctx.restore();
          },
        ],
        draw: [
          (u) => {
            if (self.def.heat) return;
            const { left, top, width, height } = u.bbox;
            const ctx = u.ctx;
            const dpr = devicePixelRatio || 1;
            ctx.save();
            ctx.beginPath();
            ctx.rect(left, top, width, height);
            ctx.clip();
            const fontPx = Math.round(11 * dpr);
            ctx.font = `${fontPx}px ${self.th["--font"] || "system-ui"}`;
            ctx.fillStyle = self.th["--band-text"];
            ctx.textBaseline = "top";
            for (const b of visible(u)) {
              const a = Math.max(px(u, b.from), left);
              const z = Math.min(px(u, b.to), left + width);
              // Whole or not at all: a label cut by the band's edge or the
              // plot's reads as nonsense ("s)").
              const fit = fitBandLabel([b.label || bandLabel(b, fmt), bandShortLabel(b)], (t) => ctx.measureText(t).width, {
                w: z - a,
                h: height,
                line: fontPx,
                pad: 4 * dpr,
              });
              if (!fit) continue;
              if (!fit.vertical) {
                ctx.fillText(fit.text, a + 4 * dpr, top + 4 * dpr);
                continue;
              }
              ctx.save();
              ctx.translate(a + 2 * dpr, top + 4 * dpr + ctx.measureText(fit.text).width);
              ctx.rotate(-Math.PI / 2);
              ctx.fillText(fit.text, 0, 0);
              ctx.restore();
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  // drawHeat paints the per-core strip: one row per CPU number seen in the
  // window (coreRows), one pixel column per time slice, colour by busy %. It
  // writes an ImageData of plot width x cores and scales it, so the cost is
  // O(width x cores), not one rectangle per sample per core.
  drawHeat(u) {
    const samples = this.samples;
    const rows = coreRows(samples);
    const rowOf = new Map(rows.map((id, r) => [id, r]));
    const cores = rows.length;
    if (!cores || !samples.length) return;
    const { left, top, width, height } = u.bbox;
    const W = Math.max(1, Math.round(width));
    if (!this.heatCanvas) this.heatCanvas = document.createElement("canvas");
    const hc = this.heatCanvas;
    if (hc.width !== W || hc.height !== cores) {
      hc.width = W;
      hc.height = cores;
    }
    const hctx = hc.getContext("2d");
    // One image and one row of maxima, kept while the size holds: a
    // redraw each tick must not allocate width x cores x 4 bytes.
    if (!this.heatImg || this.heatImg.width !== W || this.heatImg.height !== cores) {
      this.heatImg = hctx.createImageData(W, cores);
      this.heatMax = new Float32Array(cores);
    }
    const img = this.heatImg;
    const px = img.data;
    px.fill(0);
    const lut = this.heatLUT();
    const xs = u.data[0];
    const interval = this.page.intervalMs() / 1000;
    const [x0, x1] = u.scales.x.min !== undefined ? [u.scales.x.min, u.scales.x.max] : [xs[0], xs[xs.length - 1]];
    const perPx = (x1 - x0) / W;
    const maxv = this.heatMax;
    let j = 0;
    for (let c = 0; c < W; c++) {
      const a = x0 + c * perPx;
      const b = a + perPx;
      maxv.fill(-1);
      while (j < xs.length && xs[j] < a) j++;
      let any = false;
      let k = j;
      // Samples inside this pixel column: take the busiest, so a one-second
      // spike stays visible in the 1-hour view.
      for (; k < xs.length && xs[k] < b; k++) any = take(samples[k], maxv) || any;
      // Zoomed in, one sample covers several columns: use the one before.
      if (!any && j > 0 && a - xs[j - 1] < interval) any = take(samples[j - 1], maxv);
      if (!any) continue;
      for (let r = 0; r < cores; r++) {
        const v = maxv[r];
        if (v < 0) continue;
        const o = (r * W + c) * 4;
        const col = lut[Math.max(0, Math.min(100, Math.round(v)))];
        px[o] = col[0];
        px[o + 1] = col[1];
        px[o + 2] = col[2];
        px[o + 3] = 255;
      }
    }
    hctx.putImageData(img, 0, 0);
    const ctx = u.ctx;
    ctx.save();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(hc, 0, 0, W, cores, left, top, width, height);
    ctx.restore();

    function take(s, out) {
      if (!s || !Array.isArray(s.cores)) return false;
      coreIDs(s).forEach((id, i) => {
        const r = rowOf.get(id);
        const v = s.cores[i];
        if (typeof v === "number" && v > out[r]) out[r] = v;
      });
      return true;
    }
  }

  // heatLegend is the strip's colour scale, 0 to 100 % busy; build paints
  // its gradient from the theme, as the strip's own colours.
  heatLegend() {
    const box = document.createElement("span");
    box.className = "heat-legend";
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", "colour scale: 0 % busy to 100 % busy");
    const lo = document.createElement("span");
    lo.textContent = "0 %";
    this.scaleEl = document.createElement("i");
    this.scaleEl.className = "heat-scale";
    const hi = document.createElement("span");
    hi.textContent = "100 %";
    box.append(lo, this.scaleEl, hi);
    return box;
  }

  // heatLUT maps 0..100 % to colours between the theme's heat stops.
  heatLUT() {
    if (this.lut && this.lutTheme === this.th) return this.lut;
    const stops = HEAT_STOPS.map((n) => hexRGB(this.th[n]));
    const lut = [];
    for (let v = 0; v <= 100; v++) {
      const f = (v / 100) * (stops.length - 1);
      const i = Math.min(stops.length - 2, Math.floor(f));
      const w = f - i;
      lut.push(stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * w)));
    }
    this.lut = lut;
    this.lutTheme = this.th;
    return lut;
  }

  destroy() {
    if (this.announcer) this.announcer.stop();
    if (this.u) {
      this.u.destroy();
      this.u = null;
    }
  }
}

function hexRGB(hex) {
  const h = (hex || "#888888").replace("#", "");
  const n = parseInt(h.length === 3 ? h.replace(/./g, "$&$&") : h, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
