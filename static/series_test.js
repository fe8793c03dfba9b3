import { test } from "node:test";
import assert from "node:assert/strict";
import { Series, findGaps, columns, bands, bandLabel, bandShortLabel, fitBandLabel, snapIndex, lowerBound, coreIDs, coreRows, coreSummary, coresText, topCores } from "./series.js";
import * as fmt from "./format.js";

test("Series keeps order and replaces duplicates", () => {
  const s = new Series();
  assert.equal(s.insert(2000, { v: 2 }), true);
  assert.equal(s.insert(4000, { v: 4 }), true);
  assert.equal(s.insert(3000, { v: 3 }), true); // out of order: a replay
  assert.equal(s.insert(3000, { v: 33 }), false); // same time: replaced, not doubled
  assert.deepEqual(s.t, [2000, 3000, 4000]);
  assert.deepEqual(s.v.map((x) => x.v), [2, 33, 4]);
  s.trimBefore(3000);
  assert.deepEqual(s.t, [3000, 4000]);
  assert.equal(s.lastT(), 4000);
});

test("lowerBound", () => {
  const a = [1, 3, 3, 5];
  const cases = [[0, 0], [1, 0], [2, 1], [3, 1], [4, 3], [6, 4]];
  for (const [x, want] of cases) assert.equal(lowerBound(a, x), want, `lowerBound(${x})`);
});

test("findGaps", () => {
  const cases = [
    { name: "steady", ts: [0, 1000, 2000, 3000], want: [] },
    { name: "late tick within tolerance", ts: [0, 1000, 2400], want: [] },
    { name: "one missing sample", ts: [0, 1000, 3000], want: [{ from: 1000, to: 3000 }] },
    { name: "two gaps", ts: [0, 5000, 6000, 20000], want: [{ from: 0, to: 5000 }, { from: 6000, to: 20000 }] },
    { name: "empty", ts: [], want: [] },
  ];
  for (const c of cases) assert.deepEqual(findGaps(c.ts, 1000), c.want, c.name);
});

test("columns inserts a null inside every gap", () => {
  const s = new Series();
  for (const t of [1000, 2000, 6000, 7000]) s.insert(t, { a: t / 1000, b: null });
  const { data, samples } = columns(s, 1000, [(x) => x.a, (x) => x.b]);
  assert.deepEqual(data[0], [1, 2, 3, 6, 7]);
  assert.deepEqual(data[1], [1, 2, null, 6, 7]);
  assert.deepEqual(data[2], [null, null, null, null, null]);
  assert.equal(samples[2], null);
  assert.equal(samples[3].a, 6);
});

test("bands label restarts and lost history by their marks", () => {
  const ticks = [0, 1000, 2000, 10000, 11000, 30000, 31000];
  const cases = [
    { name: "plain offline", marks: [], want: ["offline", "offline"] },
    { name: "restart marks the first gap after it", marks: [{ t: 2000, until: 7000, kind: "restart" }], want: ["restart", "offline"] },
    { name: "restart mark too early for a later gap", marks: [{ t: 0, until: 1000, kind: "restart" }], want: ["offline", "offline"] },
    { name: "lost history", marks: [{ t: 11000, kind: "lost" }], want: ["offline", "lost"] },
    { name: "a mark inside a gap labels it", marks: [{ t: 5000, until: 8000, kind: "restart" }], want: ["restart", "offline"] },
    { name: "late, then a restart, each their own gap", marks: [{ t: 2000, until: 9000, kind: "late" }, { t: 11000, until: 29000, kind: "restart" }], want: ["late", "restart"] },
  ];
  for (const c of cases) {
    assert.deepEqual(bands(ticks, 1000, c.marks, null).map((b) => b.kind), c.want, c.name);
  }
  const withPending = bands(ticks, 1000, [], { from: 31000, to: 40000 });
  assert.equal(withPending.at(-1).kind, "pending");
});

test("bandLabel", () => {
  const from = new Date(2025, 0, 2, 12, 0, 1).getTime();
  assert.equal(bandLabel({ from, to: from + 14000, kind: "offline" }, fmt), "server offline 12:00:01–12:00:15 (14 s)");
  assert.equal(bandLabel({ from, to: from + 14000, kind: "restart" }, fmt), "server restarted 12:00:01–12:00:15 (14 s)");
  assert.equal(bandLabel({ from, to: from + 60000, kind: "pending" }, fmt), "no data since 12:00:01 (1 min)");
});

// cpu0, cpu1 and cpu3 online, cpu2 offline, cpu3 at 90 %.
const offline2 = { t: 1000, cores: [4, 4, 90], core_ids: [0, 1, 3] };

test("per-core values are named by the kernel's CPU number", () => {
  assert.deepEqual(coreIDs(offline2), [0, 1, 3]);
  assert.deepEqual(coreIDs({ cores: [1, 2] }), [0, 1], "an older server without core_ids: positions");
  assert.deepEqual(coreIDs({ cores: [1, 2], core_ids: [5] }), [0, 1], "a mismatched core_ids is ignored");
  assert.deepEqual(coreIDs(null), []);
  assert.equal(coresText(offline2, fmt), `3 cores · busiest cpu3 ${fmt.pct(90)} · average ${fmt.pct(98 / 3)}`);
  assert.deepEqual(topCores(offline2, 2), [[3, 90], [0, 4]]);
  assert.equal(coresText({ cores: [] }, fmt), "no per-core data");
  assert.equal(coreSummary({ cores: [null, 5], core_ids: [7, 9] }).busiest, 9, "a null core is skipped");
});

test("heat strip rows keep a CPU's row while it is offline", () => {
  const all = { t: 0, cores: [1, 2, 3, 4], core_ids: [0, 1, 2, 3] };
  // cpu2 goes offline, then comes back: the rows stay 0..3, cpu3 stays in row 3.
  assert.deepEqual(coreRows([all, offline2, all]), [0, 1, 2, 3]);
  assert.deepEqual(coreRows([offline2, null]), [0, 1, 3]);
  assert.deepEqual(coreRows([]), []);
});

test("fitBandLabel: whole or left out, never clipped", () => {
  const measure = (t) => t.length * 6; // 6 px a character
  const texts = ["no data since 12:00:01 (8 s)", "no data"]; // 168 px, 42 px
  const cases = [
    { name: "wide band: the label across", w: 200, h: 150, want: { text: texts[0], vertical: false } },
    { name: "narrow band, tall plot: the label up the edge", w: 20, h: 200, want: { text: texts[0], vertical: true } },
    { name: "a few px wider than the short label: it goes across", w: 60, h: 100, want: { text: "no data", vertical: false } },
    { name: "narrow band, short plot: the short label up the edge", w: 16, h: 100, want: { text: "no data", vertical: true } },
    { name: "thinner than a line: nothing", w: 12, h: 400, want: null },
    { name: "nothing fits the height either", w: 14, h: 40, want: null },
  ];
  for (const c of cases) {
    const got = fitBandLabel(texts, measure, { w: c.w, h: c.h, line: 11, pad: 4 });
    assert.deepEqual(got, c.want, c.name);
    if (got) {
      const [along, across] = got.vertical ? [c.h, c.w] : [c.w, c.h];
      assert.ok(measure(got.text) <= along && 11 <= across, c.name + ": the label fits");
    }
  }
  assert.equal(bandShortLabel({ kind: "pending" }), "no data");
  assert.equal(bandShortLabel({ kind: "alert", severity: "critical" }), "critical");
});

test("snapIndex: the nearest sample only when it is near", () => {
  const xs = [100, 101, 102, 200, 201]; // seconds; an outage from 102 to 200
  const cases = [
    { name: "on a sample", idx: 1, x: 101, want: 1 },
    { name: "between two samples", idx: 2, x: 102.4, want: 2 },
    { name: "just within the distance", idx: 2, x: 104, want: 2 },
    { name: "inside the outage", idx: 2, x: 140, want: null },
    { name: "far left of the first sample", idx: 0, x: 40, want: null },
    { name: "no closest index", idx: null, x: 101, want: null },
    { name: "index out of range", idx: 9, x: 101, want: null },
    { name: "no cursor", idx: 0, x: NaN, want: null },
  ];
  for (const c of cases) assert.equal(snapIndex(xs, c.idx, c.x, 2), c.want, c.name);
});
