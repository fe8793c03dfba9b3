import { test } from "node:test";
import assert from "node:assert/strict";
import { AlertBook, episodes, alertBands, thresholds, chartFor, rangeFor } from "./alerts.js";

const T = (s) => new Date(Date.UTC(2026, 2, 1, 12, 0, s)).toISOString();
const tr = (alert, n, to, sev, s, extra = {}) => ({ kind: "transition", id: `${alert}.${n}`, alert, rule: "busy", to, severity: sev, time: T(s), ...extra });
const defs = [
  { id: "cpu", topic: "cpu", series: [{ key: "total" }, { key: "user" }] },
  { id: "cores", topic: "cpu", heat: true },
  { id: "memory", topic: "memory", series: [{ key: "used" }] },
];

test("episodes run from the first firing to the resolution, at the highest severity", () => {
  const ts = [tr("a", 1, "pending", "warning", 0), tr("a", 2, "firing", "warning", 10), tr("a", 3, "firing", "critical", 20), tr("a", 4, "resolved", "critical", 30), tr("b", 1, "firing", "warning", 40)];
  const eps = episodes(ts);
  assert.equal(eps.length, 2);
  assert.deepEqual([eps[0].from, eps[0].to, eps[0].severity], [Date.parse(T(10)), Date.parse(T(30)), "critical"]);
  assert.equal(eps[1].to, null, "still firing");
});

test("a pending alert that returns to ok is no episode", () => {
  assert.deepEqual(episodes([tr("a", 1, "pending", "warning", 0), tr("a", 2, "ok", "", 5)]), []);
});

test("the book takes each record once, copies and replays included", () => {
  const b = new AlertBook();
  const fire = tr("a", 1, "firing", "critical", 0);
  assert.equal(b.add(fire), true);
  assert.equal(b.add({ ...fire }), false, "a copy carried forward");
  assert.equal(b.add({ kind: "other", id: "x" }), false);
  assert.equal(b.transitions().length, 1);
});

test("badge counts: firing, pending, and silenced apart", () => {
  const b = new AlertBook();
  const now = Date.parse(T(100));
  b.add(tr("a", 1, "firing", "critical", 0, { item: "/" }));
  b.add(tr("c", 1, "firing", "warning", 0, { item: "/srv" }));
  b.add(tr("d", 1, "pending", "warning", 0, { rule: "other" }));
  b.add(tr("e", 1, "firing", "warning", 0, { rule: "gone" }));
  b.add(tr("e", 2, "resolved", "warning", 50, { rule: "gone" }));
  assert.deepEqual(b.counts(now), { firing: 2, critical: 1, pending: 1, silenced: 0 });
  b.add({ kind: "silence", id: "s1", rule: "busy", item: "/srv", until: T(200), created: T(60) });
  assert.deepEqual(b.counts(now), { firing: 1, critical: 1, pending: 1, silenced: 1 });
  assert.deepEqual(b.counts(Date.parse(T(300))), { firing: 2, critical: 1, pending: 1, silenced: 0 }, "the silence lapsed");
  b.add({ kind: "silence", id: "s2", rule: "busy", item: "/srv", until: T(70), created: T(70) });
  assert.deepEqual(b.counts(now), { firing: 2, critical: 1, pending: 1, silenced: 0 }, "lifted");
});

test("bands from transitions land on the rule's chart, open ones run to now", () => {
  const rules = [{ name: "busy", topic: "cpu", field: "total" }, { name: "pinned", topic: "cpu", field: "cores[*]" }];
  const ts = [tr("a", 1, "firing", "warning", 10, { summary: "CPU busy" }), tr("p", 1, "firing", "critical", 20, { rule: "pinned", item: "3" })];
  const now = Date.parse(T(60));
  const cpu = alertBands(defs[0], ts, rules, defs, now);
  assert.deepEqual(cpu, [{ kind: "alert", severity: "warning", from: Date.parse(T(10)), to: now, label: "warning: CPU busy" }]);
  const cores = alertBands(defs[1], ts, rules, defs, now);
  assert.equal(cores.length, 1);
  assert.equal(cores[0].label, "critical: pinned 3");
  assert.deepEqual(alertBands(defs[2], ts, rules, defs, now), []);
});

test("threshold lines only where the chart draws the rule's field as is", () => {
  const rules = [
    { name: "busy", topic: "cpu", field: "total", fn: "mean", warn: 90, crit: 98 },
    { name: "crit-only", topic: "cpu", field: "user", fn: "max", crit: 99 },
    { name: "fill", topic: "cpu", field: "total", fn: "eta", warn: 86400 },
    { name: "swap", topic: "memory", field: "used", per: "total", warn: 80 },
    { name: "pct", topic: "memory", field: "percent", warn: 90 },
    { name: "scaled", topic: "cpu", field: "total", scale: 100, warn: 1 },
  ];
  assert.deepEqual(thresholds(defs[0], rules), [
    { rule: "busy", level: "warn", value: 90 },
    { rule: "busy", level: "crit", value: 98 },
    { rule: "crit-only", level: "crit", value: 99 },
  ]);
  assert.deepEqual(thresholds(defs[2], rules), []);
  assert.deepEqual(thresholds(defs[1], rules), []);
});

test("chartFor and rangeFor", () => {
  assert.equal(chartFor({ topic: "vitals", field: "sampler_age" }, defs), "");
  assert.equal(chartFor({ topic: "cpu", field: "cores[*]" }, defs), "cores");
  const ranges = [60e3, 300e3, 3600e3];
  assert.equal(rangeFor(1000e3 - 30e3, ranges, 1000e3), 60e3);
  assert.equal(rangeFor(1000e3 - 600e3, ranges, 1000e3), 3600e3);
  assert.equal(rangeFor(0, ranges, 1e9), 3600e3);
});
