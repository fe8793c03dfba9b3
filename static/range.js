// Pure logic of the long ranges (no DOM, so range_test.js runs it under
// node): the range picker's choices and their place in the address, the
// samples a chart draws from an /api/range answer, and the fold of live
// minute rollups into the answer's buckets by tier.Stat's Merge rule (min
// of mins, max of maxes, sum of sums, n of ns).

const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// RANGES are the picker's ranges by their key in the address (?range=7d).
export const RANGES = {
  "5m": 5 * MIN,
  "15m": 15 * MIN,
  "1h": HOUR,
  "6h": 6 * HOUR,
  "24h": DAY,
  "7d": 7 * DAY,
  "30d": 30 * DAY,
  "90d": 90 * DAY,
  "1y": 365 * DAY,
};

// rangeKey is the address key of a range of ms, or "".
export function rangeKey(ms) {
  for (const [k, v] of Object.entries(RANGES)) if (v === ms) return k;
  return "";
}

// parseView reads the view from an address's query: {ms} for a range
// ending now (?range=7d), {from, to} in unix ms for a fixed one
// (?from=&to=, from a custom range or a zoom), or null for none.
export function parseView(search) {
  const q = new URLSearchParams(search);
  const from = Number(q.get("from"));
  const to = Number(q.get("to"));
  if (q.has("from") && q.has("to") && Number.isFinite(from) && Number.isFinite(to) && from >= 0 && to > from) {
    return { from: Math.floor(from), to: Math.floor(to) };
  }
  const ms = RANGES[q.get("range")];
  return ms ? { ms } : null;
}

// viewSearch is search with view in it, replacing any earlier one and
// keeping every other parameter (host, units).
export function viewSearch(search, view) {
  const q = new URLSearchParams(search);
  for (const k of ["range", "from", "to"]) q.delete(k);
  if (view && view.ms) q.set("range", rangeKey(view.ms) || String(view.ms));
  else if (view) {
    q.set("from", String(view.from));
    q.set("to", String(view.to));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// viewSpan is a view's [from, to] in unix ms at time now.
export function viewSpan(view, now) {
  return view.ms ? [now - view.ms, now] : [view.from, view.to];
}

// ARRAY_KEYS are the payload's arrays of objects and the field that names
// each element in a field path ("filesystems./.used").
const ARRAY_KEYS = { filesystems: "mount", sensors: "id", gpus: "id", containers: "name" };

// unflatten turns {path: value} back into the shape of a live payload, so
// the charts' getters read a rollup point like a sample: "cores.3" into
// cores and core_ids, "interfaces.eth0.rx_bps" into objects, and
// "filesystems./.used" into an array of objects named by their mount. A
// path's first dot ends the top key and its last dot starts the field:
// names in between may hold dots (a VLAN "eth0.100", a mount "/a.b").
export function unflatten(fields) {
  const out = {};
  const arrays = {};
  const cores = [];
  for (const [path, v] of Object.entries(fields)) {
    const first = path.indexOf(".");
    if (first < 0) {
      out[path] = v;
      continue;
    }
    const top = path.slice(0, first);
    const rest = path.slice(first + 1);
    if (top === "cores") {
      cores.push([Number(rest), v]);
      continue;
    }
    const last = rest.lastIndexOf(".");
    if (last < 0) {
      (out[top] ||= {})[rest] = v;
      continue;
    }
    const name = rest.slice(0, last);
    const leaf = rest.slice(last + 1);
    if (ARRAY_KEYS[top]) {
      const byName = (arrays[top] ||= new Map());
      if (!byName.has(name)) byName.set(name, { [ARRAY_KEYS[top]]: name });
      byName.get(name)[leaf] = v;
    } else {
      ((out[top] ||= {})[name] ||= {})[leaf] = v;
    }
  }
  for (const [top, byName] of Object.entries(arrays)) out[top] = [...byName.values()];
  if (cores.length) {
    cores.sort((a, b) => a[0] - b[0]);
    out.cores = cores.map((c) => c[1]);
    out.core_ids = cores.map((c) => c[0]);
  }
  return out;
}

// TIER_NAMES say a tier in the tooltip's words.
const TIER_NAMES = { raw: "raw samples", "1m": "1-minute rollups", "1h": "1-hour rollups" };

// Buckets is one topic's answer, kept as exact rollups per bucket so live
// minutes fold in: t[i] is bucket i's start (unix ms, a multiple of step),
// count[i] its ticks, stats[field] = {min, max, sum, n} columns.
export class Buckets {
  // fromAnswer reads an /api/range answer.
  static fromAnswer(ans) {
    const b = new Buckets(ans.step, ans.tier);
    b.newestEnd = Number(ans.newest_end) || 0;
    for (let i = 0; i < ans.t.length; i++) {
      b.t.push(ans.t[i]);
      b.count.push(ans.count[i]);
    }
    for (const [f, s] of Object.entries(ans.series || {})) {
      const col = b.column(f);
      for (let i = 0; i < ans.t.length; i++) {
        const n = s.n ? s.n[i] : s.mean[i] === null ? 0 : ans.count[i];
        col.n[i] = n;
        col.min[i] = s.min[i];
        col.max[i] = s.max[i];
        col.sum[i] = s.mean[i] === null ? 0 : s.mean[i] * n;
      }
    }
    return b;
  }

  constructor(step, tier) {
    this.step = step;
    this.tier = tier;
    this.t = [];
    this.count = [];
    this.stats = {};
    this.newestEnd = 0;
  }

  column(f) {
    if (!this.stats[f]) {
      const len = this.t.length;
      this.stats[f] = { min: Array(len).fill(null), max: Array(len).fill(null), sum: Array(len).fill(0), n: Array(len).fill(0) };
    }
    return this.stats[f];
  }

  // index is the bucket of time t, appending empty buckets up to it.
  index(t) {
    const start = Math.floor(t / this.step) * this.step;
    if (!this.t.length) this.push(start);
    if (start < this.t[0]) return -1;
    while (this.t[this.t.length - 1] < start) this.push(this.t[this.t.length - 1] + this.step);
    return (start - this.t[0]) / this.step;
  }

  push(t) {
    this.t.push(t);
    this.count.push(0);
    for (const c of Object.values(this.stats)) {
      c.min.push(null);
      c.max.push(null);
      c.sum.push(0);
      c.n.push(0);
    }
  }

  // fold merges one live minute of this topic ({count, fields: {f: [min,
  // max, sum, n]}}) that starts at t. A minute already counted (before
  // newestEnd: the answer had it, or it came twice across a reconnect)
  // is ignored, so folding is exact however the stream resumes. It says
  // whether the minute was new.
  fold(t, point, stepMs = MIN) {
    if (t < this.newestEnd) return false;
    this.newestEnd = t + stepMs;
    const i = this.index(t);
    if (i < 0) return false;
    this.count[i] += Number(point.count) || 0;
    for (const [f, st] of Object.entries(point.fields || {})) {
      const [min, max, sum, n] = st;
      if (!n) continue;
      const c = this.column(f);
      c.min[i] = c.n[i] ? Math.min(c.min[i], min) : min;
      c.max[i] = c.n[i] ? Math.max(c.max[i], max) : max;
      c.sum[i] += sum;
      c.n[i] += n;
    }
    return true;
  }

  // trimBefore drops buckets that end before t: the range slid past them.
  trimBefore(t) {
    let k = 0;
    while (k < this.t.length && this.t[k] + this.step <= t) k++;
    if (!k) return;
    this.t.splice(0, k);
    this.count.splice(0, k);
    for (const c of Object.values(this.stats)) for (const a of [c.min, c.max, c.sum, c.n]) a.splice(0, k);
  }

  // series is what a chart draws (series.js columns' input): the buckets
  // with samples, each as a payload-shaped mean, with the min and max
  // payloads beside it (__min, __max) for the envelope and a note for
  // the tooltip. Empty buckets are left out, so lines break there.
  series() {
    const t = [];
    const v = [];
    const fields = Object.entries(this.stats);
    for (let i = 0; i < this.t.length; i++) {
      if (!this.count[i]) continue;
      const mean = {};
      const lo = {};
      const hi = {};
      for (const [f, c] of fields) {
        if (!c.n[i]) continue;
        mean[f] = c.sum[i] / c.n[i];
        lo[f] = c.min[i];
        hi[f] = c.max[i];
      }
      const s = unflatten(mean);
      s.__min = unflatten(lo);
      s.__max = unflatten(hi);
      s.__note = pointNote(this.tier, this.count[i]);
      s.__count = this.count[i];
      t.push(this.t[i]);
      v.push(s);
    }
    return plainSeries(t, v);
  }
}

// plainSeries is a fixed series as the charts read one (series.js's
// Series: t, v, length, rev and lastT), for a long range's buckets. A new
// one is made whenever the buckets change, so rev never moves.
export function plainSeries(t = [], v = []) {
  return { t, v, length: t.length, rev: 0, lastT: () => (t.length ? t[t.length - 1] : null) };
}

// pointNote is the tooltip's line about a point: its tier and how many
// samples it holds ("1-hour rollups · 3,600 samples").
export function pointNote(tier, count) {
  const n = Number(count) || 0;
  return `${TIER_NAMES[tier] || tier} · ${n.toLocaleString("en")} ${n === 1 ? "sample" : "samples"}`;
}

// markGaps turns a rollup's marks into bands as /api/range's gaps are:
// a restart of value v at t is the server down from t - v to t.
export function markGaps(marks, intervalMs) {
  const out = [];
  for (const m of marks || []) {
    if (m.kind === "restart") out.push({ from: m.t - m.value, to: m.t, kind: "restart" });
    else if (m.kind === "skipped" && m.value >= 2) out.push({ from: m.t - (m.value + 1) * intervalMs, to: m.t, kind: "late" });
    else if (m.kind === "clock_step") out.push({ from: m.t - intervalMs, to: m.t, kind: "clock", step: m.value });
  }
  return out;
}

// pointsFor is the point budget of a chart plotWidth CSS px wide: about
// one point per pixel, within what the API accepts.
export function pointsFor(plotWidth) {
  return Math.max(100, Math.min(10000, Math.round(plotWidth || 1000)));
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad2 = (n) => String(n).padStart(2, "0");

// dayLabel is an axis label for ticks a day or more apart, in local time:
// "3 Nov", or "Nov 2026" for ticks a month or more apart.
export function dayLabel(ms, incrSec) {
  const d = new Date(ms);
  if (incrSec >= 28 * 86400) return `${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
  return `${d.getDate()} ${MONTHS[d.getMonth()]}`;
}

// dateTime is a point's local date and time in a tooltip of a long range:
// "3 Nov 2026 14:05".
export function dateTime(ms) {
  const d = new Date(ms);
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}
