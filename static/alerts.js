// The page's view of topic "alerts": the transitions and silences the
// server records in its history (GET /api/alerts/history for what is
// retained, then the stream, replays included). Pure logic, no DOM: the
// panel (alertspanel.js) and the charts read what this computes, and
// alerts_test.js runs it under node.
//
// The log carries copies of the records of open alerts (the server copies
// them forward so a long-firing alert outlives the history window), and a
// reconnect may replay what was already seen: every record is taken once,
// by its id.

// MAX_RECORDS bounds what a page open for weeks keeps: the newest win.
const MAX_RECORDS = 2000;

export class AlertBook {
  constructor() {
    this.byId = new Map(); // record id -> record, in arrival order
    this.rules = []; // from /api/alerts: thresholds for the charts
    this.targets = [];
  }

  // add takes one record (a transition or a silence); false when it was
  // already held or is not a record.
  add(rec) {
    if (!rec || typeof rec !== "object" || typeof rec.id !== "string" || this.byId.has(rec.id)) return false;
    if (rec.kind !== "transition" && rec.kind !== "silence") return false;
    this.byId.set(rec.id, rec);
    if (this.byId.size > MAX_RECORDS) this.byId.delete(this.byId.keys().next().value);
    return true;
  }

  // transitions in time order (the log's order may differ for copies).
  transitions() {
    return [...this.byId.values()].filter((r) => r.kind === "transition").sort((a, b) => ms(a.time) - ms(b.time) || seq(a) - seq(b));
  }

  // instances: the latest transition of every rule instance that is
  // pending or firing now.
  instances() {
    const last = new Map();
    for (const t of this.transitions()) last.set(key(t.rule, t.item), t);
    return [...last.values()].filter((t) => t.to === "pending" || t.to === "firing");
  }

  // silences in force at now, newest first; a later one for the same rule
  // and item replaces (or lifts) an earlier one.
  silences(now = Date.now()) {
    const last = new Map();
    const all = [...this.byId.values()].filter((r) => r.kind === "silence").sort((a, b) => ms(a.created) - ms(b.created));
    for (const s of all) last.set(key(s.rule, s.item), s);
    return [...last.values()].filter((s) => ms(s.until) > now).sort((a, b) => ms(b.created) - ms(a.created));
  }

  // silenced says whether a silence in force covers rule and item.
  silenced(rule, item, now = Date.now()) {
    return this.silences(now).some((s) => s.rule === rule && (!s.item || s.item === item));
  }

  // counts are the badge's numbers. A silenced firing alert is counted as
  // silenced, not firing: nobody needs to act on it now.
  counts(now = Date.now()) {
    const c = { firing: 0, critical: 0, pending: 0, silenced: 0 };
    for (const t of this.instances()) {
      if (this.silenced(t.rule, t.item, now)) c.silenced++;
      else if (t.to === "pending") c.pending++;
      else {
        c.firing++;
        if (t.severity === "critical") c.critical++;
      }
    }
    return c;
  }

  // recent is the history, newest first.
  recent(limit = 50) {
    return [...this.byId.values()].sort((a, b) => recTime(b) - recTime(a)).slice(0, limit);
  }
}

// episodes turns transitions (in time order) into firing periods, one per
// alert episode: from its first firing to its resolution, or open (to:
// null) while it still fires. The highest severity reached is kept.
export function episodes(transitions) {
  const open = new Map();
  const out = [];
  for (const t of transitions) {
    const ep = open.get(t.alert);
    if (t.to === "firing") {
      if (!ep) {
        const e = { alert: t.alert, rule: t.rule, item: t.item || "", summary: t.summary || t.rule, severity: t.severity, from: ms(t.time), to: null };
        open.set(t.alert, e);
        out.push(e);
      } else if (rank(t.severity) > rank(ep.severity)) ep.severity = t.severity;
    } else if (ep && (t.to === "resolved" || t.to === "ok")) {
      ep.to = ms(t.time);
      open.delete(t.alert);
    }
  }
  return out;
}

// chartFor names the chart a rule is drawn on: per-core rules on the core
// strip, others on the first chart of their topic; "" when there is none
// (the vitals topic).
export function chartFor(rule, defs) {
  if (rule.topic === "cpu" && String(rule.field).startsWith("cores")) return defs.some((d) => d.id === "cores") ? "cores" : "";
  const d = defs.find((d) => d.topic === rule.topic && !d.heat);
  return d ? d.id : "";
}

// alertBands are the firing periods drawn on chart def, as bands: the
// chart's shaded periods, in the same {from, to} form as offline bands,
// with a label of their own. An open one runs to now.
export function alertBands(def, transitions, rules, defs, now = Date.now()) {
  const onChart = new Set(rules.filter((r) => chartFor(r, defs) === def.id).map((r) => r.name));
  return episodes(transitions)
    .filter((e) => onChart.has(e.rule))
    .map((e) => ({
      kind: "alert",
      severity: e.severity,
      from: e.from,
      to: e.to === null ? now : e.to,
      label: `${e.severity === "critical" ? "critical" : "warning"}: ${e.summary}${e.item ? " " + e.item : ""}`,
    }));
}

// thresholds are the warn and crit lines on chart def: only for a rule
// whose value is a series the chart draws as is (no per, no scale, no
// prediction: a load-per-CPU or swap-percent rule would put its line at a
// value the chart's axis doesn't mean).
export function thresholds(def, rules) {
  if (def.heat || !def.series) return [];
  const keys = new Set(def.series.map((s) => s.key));
  const out = [];
  for (const r of rules) {
    if (r.topic !== def.topic || r.fn === "eta" || r.per || (r.scale && r.scale !== 1) || !keys.has(r.field)) continue;
    if (r.warn !== undefined && r.warn !== null) out.push({ rule: r.name, level: "warn", value: r.warn });
    if (r.crit !== undefined && r.crit !== null) out.push({ rule: r.name, level: "crit", value: r.crit });
  }
  return out;
}

// rangeFor picks the narrowest range (ms) that shows t from now, among the
// page's ranges; the widest when none does.
export function rangeFor(t, ranges, now = Date.now()) {
  const sorted = [...ranges].sort((a, b) => a - b);
  return sorted.find((r) => now - t <= r * 0.9) ?? sorted[sorted.length - 1];
}

export const key = (rule, item) => (item ? rule + "/" + item : rule);
const ms = (v) => Date.parse(v) || 0;
const rank = (s) => (s === "critical" ? 2 : s === "warning" ? 1 : 0);
const recTime = (r) => ms(r.kind === "silence" ? r.created : r.time);
// seq orders transitions of one episode at the same millisecond.
const seq = (t) => Number(String(t.id).split(".").pop()) || 0;
