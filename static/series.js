// Pure data handling for the charts: a time-sorted, de-duplicated window of
// samples per topic, gap detection and the offline bands drawn on every
// chart. No DOM access, so series_test.js runs it under node.

import { dateTime } from "./range.js";

// A gap is any step between two samples longer than this many intervals.
// Samples tick on wall-clock multiples of the interval, so a healthy stream
// steps by exactly one interval; 1.5 tolerates a late tick's jitter without
// hiding a single missing sample.
export const GAP_FACTOR = 1.5;

// Series keeps one topic's samples sorted by t (unix ms). Inserting a t that
// is already present replaces the sample: a replay that overlaps what the
// page already drew can never draw a point twice.
export class Series {
  constructor() {
    this.t = [];
    this.v = [];
    // rev counts the changes other than appending at the end and dropping
    // from the start (a sample inserted or replaced in the middle, a clock
    // shift, a clear): a reader that follows appends (columns.js) must
    // start over when it moves.
    this.rev = 0;
  }

  get length() {
    return this.t.length;
  }

  // insert adds or replaces the sample at t and reports whether t was new.
  insert(t, sample) {
    const ts = this.t;
    const n = ts.length;
    if (n === 0 || t > ts[n - 1]) {
      ts.push(t);
      this.v.push(sample);
      return true;
    }
    const i = lowerBound(ts, t);
    this.rev++;
    if (ts[i] === t) {
      this.v[i] = sample;
      return false;
    }
    ts.splice(i, 0, t);
    this.v.splice(i, 0, sample);
    return true;
  }

  // trimBefore drops every sample older than tmin, so memory holds at most
  // the selected window.
  trimBefore(tmin) {
    const i = lowerBound(this.t, tmin);
    if (i > 0) {
      this.t.splice(0, i);
      this.v.splice(0, i);
    }
  }

  lastT() {
    return this.t.length ? this.t[this.t.length - 1] : null;
  }

  last() {
    return this.v.length ? this.v[this.v.length - 1] : null;
  }

  clear() {
    this.rev++;
    this.t.length = 0;
    this.v.length = 0;
  }
}

// shiftSeries moves every sample of s by ms: the samples before a step of
// the wall clock, moved onto the new clock.
export function shiftSeries(s, ms) {
  s.rev++;
  for (let i = 0; i < s.t.length; i++) s.t[i] += ms;
}

// lowerBound returns the first index whose value is >= x.
export function lowerBound(arr, x) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// findGaps lists every step longer than GAP_FACTOR intervals in the sorted
// times ts as {from, to}: from is the last sample before the gap, to the
// first one after it.
export function findGaps(ts, intervalMs) {
  const gaps = [];
  const limit = intervalMs * GAP_FACTOR;
  for (let i = 1; i < ts.length; i++) {
    if (ts[i] - ts[i - 1] > limit) gaps.push({ from: ts[i - 1], to: ts[i] });
  }
  return gaps;
}

// columns turns a Series into uPlot's aligned data: x in unix seconds and
// one column per getter. A null point is inserted inside every gap so a line
// is never drawn across missing samples. samples[i] is the source sample of
// point i (null for the inserted points), for tooltips.
export function columns(series, intervalMs, getters) {
  const limit = intervalMs * GAP_FACTOR;
  const xs = [];
  const cols = getters.map(() => []);
  const samples = [];
  const ts = series.t;
  const vs = series.v;
  for (let i = 0; i < ts.length; i++) {
    if (i > 0 && ts[i] - ts[i - 1] > limit) {
      xs.push((ts[i - 1] + intervalMs) / 1000);
      for (const c of cols) c.push(null);
      samples.push(null);
    }
    xs.push(ts[i] / 1000);
    const s = vs[i];
    for (let j = 0; j < getters.length; j++) {
      const v = getters[j](s);
      cols[j].push(typeof v === "number" && Number.isFinite(v) ? v : null);
    }
    samples.push(s);
  }
  return { data: [xs, ...cols], samples };
}

// Band kinds, in the words the page shows.
export const KIND_OFFLINE = "offline";
export const KIND_RESTART = "restart";
export const KIND_LOST = "lost";
export const KIND_PENDING = "pending";
// A gap the server explained: it skipped ticks because it was late, or its
// wall clock stepped (the samples before the step were moved onto the new
// clock, and the gap holds the marker).
export const KIND_LATE = "late";
export const KIND_CLOCK = "clock";

// bands turns the gaps of the merged tick times into labelled bands.
// marks are {t, until, kind}: what the server said about a span (it
// restarted after its tick at t, it was late, its clock stepped) or what the
// page found (history after t was not retained, catch-up with
// complete=false); until may be left out (no bound). The first unlabelled
// gap that overlaps [t, until] takes the mark's kind. pending, when set, is
// the still-open gap of a lost connection or a silent host {from, to}.
export function bands(ticks, intervalMs, marks, pending) {
  const out = findGaps(ticks, intervalMs).map((g) => ({ ...g, kind: KIND_OFFLINE }));
  const sorted = [...(marks || [])].sort((a, b) => a.t - b.t);
  for (const m of sorted) {
    const until = m.until ?? Infinity;
    const b = out.find((g) => g.to > m.t && g.from <= until && g.kind === KIND_OFFLINE);
    if (b) {
      b.kind = m.kind;
      if (m.step) b.step = m.step;
    }
  }
  // One skipped tick is not worth a band: the line just misses one point.
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i].kind === KIND_LATE && out[i].to - out[i].from <= 2 * intervalMs) out.splice(i, 1);
  }
  if (pending && pending.to > pending.from) {
    out.push({ from: pending.from, to: pending.to, kind: KIND_PENDING });
  }
  return out;
}

// bandLabel is the text drawn on a band and listed under the charts,
// e.g. "server offline 12:00:01–12:00:15 (14 s)".
export function bandLabel(b, fmt) {
  const what = {
    [KIND_OFFLINE]: "server offline",
    [KIND_RESTART]: "server restarted",
    [KIND_LOST]: "not retained",
    [KIND_PENDING]: "no data since",
    [KIND_LATE]: "sampler late",
    [KIND_CLOCK]: "clock changed",
  }[b.kind];
  if (b.kind === KIND_CLOCK) {
    const by = b.step ? ` by ${b.step > 0 ? "+" : "−"}${fmt.duration(Math.abs(b.step))}` : "";
    return `${what}${by} at ${fmt.clock(b.to)}`;
  }
  if (b.kind === KIND_PENDING) return `${what} ${fmt.clock(b.from)} (${fmt.duration(b.to - b.from)})`;
  // A band of a long range (longrange.js marks them) says its dates: a
  // time of day alone is ambiguous on a chart of weeks.
  const span = b.dated ? `${dateTime(b.from)}–${dateTime(b.to)}` : fmt.span(b.from, b.to);
  return `${what} ${span} (${fmt.duration(b.to - b.from)})`;
}

// snapIndex is the sample a chart's cursor shows: idx, the index of the
// time in xs closest to the cursor's time x, when that sample lies within
// maxDist of it, else null. Over an empty stretch of the axis (before the
// first sample, across an outage) the nearest sample can be minutes away,
// and showing it as "here" would be wrong.
export function snapIndex(xs, idx, x, maxDist) {
  if (idx === null || idx === undefined || idx < 0 || idx >= xs.length || !Number.isFinite(x)) return null;
  return Math.abs(xs[idx] - x) <= maxDist ? idx : null;
}

// bandShortLabel is a band's label in a word or two, for a band too narrow
// for bandLabel.
export function bandShortLabel(b) {
  if (b.kind === "alert") return b.severity;
  return { [KIND_RESTART]: "restarted", [KIND_PENDING]: "no data", [KIND_LOST]: "not retained", [KIND_LATE]: "late", [KIND_CLOCK]: "clock" }[b.kind] || "offline";
}

// fitBandLabel decides how a band's label is written so that it is whole
// or left out, never clipped. texts are the labels to try, longest first;
// each is tried across the band (it must fit the band's width w) and then
// up its left edge (the band must be a line wide, the text must fit the
// plot's height h). measure(text) gives widths in the units of w and h;
// line is the text's height and pad the margin kept on each side. It
// returns {text, vertical}, or null when nothing fits.
export function fitBandLabel(texts, measure, { w, h, line, pad }) {
  for (const text of texts) {
    const tw = measure(text);
    if (tw + 2 * pad <= w && line + 2 * pad <= h) return { text, vertical: false };
    if (line + pad <= w && tw + 2 * pad <= h) return { text, vertical: true };
  }
  return null;
}

// coreIDs is the kernel's CPU number of each element of a cpu sample's
// cores: its core_ids, or the positions for a sample from a server that
// did not send them (every CPU online then, so position is number).
export function coreIDs(s) {
  const cores = s && Array.isArray(s.cores) ? s.cores : [];
  if (Array.isArray(s && s.core_ids) && s.core_ids.length === cores.length) return s.core_ids;
  return cores.map((_, i) => i);
}

// coreRows is the sorted union of the CPU numbers in samples: one heat
// strip row per CPU that was online at any time in view, so a CPU that goes
// offline keeps its row (blank while it is away) and no other moves.
export function coreRows(samples) {
  const seen = new Set();
  for (const s of samples) if (s) for (const id of coreIDs(s)) seen.add(id);
  return [...seen].sort((a, b) => a - b);
}

// coreSummary describes one cpu sample by CPU number: how many CPUs it
// has, the busiest (lowest number on a tie) and the average of those with
// a value; null when it has no per-core values.
export function coreSummary(s) {
  const ids = coreIDs(s);
  if (!ids.length) return null;
  let busiest = null;
  let hi = -1;
  let sum = 0;
  let n = 0;
  ids.forEach((id, i) => {
    const v = s.cores[i];
    if (typeof v !== "number") return;
    sum += v;
    n++;
    if (v > hi) ((hi = v), (busiest = id));
  });
  return { count: ids.length, busiest, busiestPct: busiest === null ? null : hi, avg: n ? sum / n : null };
}

// topCores lists the n busiest CPUs of a sample as [number, percent],
// busiest first.
export function topCores(s, n) {
  const ids = coreIDs(s);
  return ids
    .map((id, i) => [id, s.cores[i]])
    .sort((a, b) => (b[1] || 0) - (a[1] || 0))
    .slice(0, n);
}

// coresText is the heat strip's value line for one cpu sample, naming
// CPUs by the kernel's number: "3 cores · busiest cpu3 90 % · average 32.7 %".
export function coresText(s, fmt) {
  const c = coreSummary(s);
  if (!c) return "no per-core data";
  return `${c.count} cores · busiest cpu${c.busiest} ${fmt.pct(c.busiestPct)} · average ${fmt.pct(c.avg)}`;
}
