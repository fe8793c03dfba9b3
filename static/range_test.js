import { test } from "node:test";
import assert from "node:assert/strict";
import { RANGES, parseView, viewSearch, viewSpan, unflatten, Buckets, markGaps, pointNote, pointsFor } from "./range.js";
import { envelopeRuns } from "./envelope.js";
import { toCSV, chartColumns, csvName } from "./csv.js";

test("the view lives in the address and comes back from it", () => {
  assert.deepEqual(parseView("?range=7d&host=a"), { ms: RANGES["7d"] });
  assert.deepEqual(parseView("?from=1000&to=5000"), { from: 1000, to: 5000 });
  assert.equal(parseView("?from=5000&to=1000"), null);
  assert.equal(parseView("?range=7x"), null);
  assert.equal(parseView(""), null);
  assert.equal(viewSearch("?host=a&range=1h", { ms: RANGES["1y"] }), "?host=a&range=1y");
  assert.equal(viewSearch("?range=1y&units=x", { from: 1, to: 2 }), "?units=x&from=1&to=2");
  assert.equal(viewSearch("?range=1y", null), "");
  for (const v of [{ ms: RANGES["90d"] }, { from: 1795598979000, to: 1795698979000 }]) assert.deepEqual(parseView(viewSearch("", v)), v);
  assert.deepEqual(viewSpan({ ms: 10 }, 100), [90, 100]);
  assert.deepEqual(viewSpan({ from: 1, to: 2 }, 100), [1, 2]);
});

test("unflatten gives back the payload's shape", () => {
  const s = unflatten({
    total: 5,
    "cores.10": 3,
    "cores.2": 1,
    "interfaces.eth0.100.rx_bps": 7,
    "devices.vda.read_bps": 8,
    "filesystems./mnt/a.b.used": 9,
    "filesystems./.used": 10,
    "sensors.coretemp.0.c": 40,
  });
  assert.deepEqual(s.cores, [1, 3]);
  assert.deepEqual(s.core_ids, [2, 10]);
  assert.equal(s.interfaces["eth0.100"].rx_bps, 7);
  assert.equal(s.devices.vda.read_bps, 8);
  assert.deepEqual(s.filesystems, [
    { mount: "/mnt/a.b", used: 9 },
    { mount: "/", used: 10 },
  ]);
  assert.deepEqual(s.sensors, [{ id: "coretemp.0", c: 40 }]);
  assert.equal(s.total, 5);
});

const answer = {
  tier: "1h",
  step: 3600000,
  t: [0, 3600000, 7200000],
  count: [3600, 0, 60],
  newest_end: 7260000,
  series: { total: { mean: [10, null, 4], min: [1, null, 2], max: [90, null, 6], n: [3600, 0, 60] } },
};

test("buckets draw the mean with min and max beside it, and leave gaps out", () => {
  const b = Buckets.fromAnswer(answer);
  const s = b.series();
  assert.deepEqual(s.t, [0, 7200000]);
  assert.equal(s.v[0].total, 10);
  assert.equal(s.v[0].__min.total, 1);
  assert.equal(s.v[0].__max.total, 90);
  assert.equal(s.v[0].__note, "1-hour rollups · 3,600 samples");
  assert.equal(pointNote("1m", 1), "1-minute rollups · 1 sample");
});

test("live minutes fold in by the merge rule, once each", () => {
  const b = Buckets.fromAnswer(answer);
  // Already in the answer: ignored.
  assert.equal(b.fold(7200000, { count: 60, fields: { total: [0, 100, 60, 60] } }), false);
  assert.equal(b.fold(7260000, { count: 60, fields: { total: [1, 50, 600, 60] } }), true);
  // The same minute again (a reconnect replayed it): ignored.
  assert.equal(b.fold(7260000, { count: 60, fields: { total: [1, 50, 600, 60] } }), false);
  let s = b.series();
  assert.equal(s.v[1].total, (4 * 60 + 600) / 120);
  assert.equal(s.v[1].__min.total, 1);
  assert.equal(s.v[1].__max.total, 50);
  assert.equal(b.count[2], 120);
  // A minute of the next hour opens a bucket; one after a gap leaves
  // empty buckets between.
  b.fold(3 * 3600000, { count: 60, fields: { total: [5, 5, 300, 60] } });
  b.fold(5 * 3600000 + 60000, { count: 30, fields: { total: [7, 7, 210, 30] } });
  s = b.series();
  assert.deepEqual(s.t, [0, 7200000, 3 * 3600000, 5 * 3600000]);
  assert.equal(s.v[3].__count, 30);
  b.trimBefore(7200000);
  assert.deepEqual(b.series().t, [7200000, 3 * 3600000, 5 * 3600000]);
});

test("folding minutes one by one equals the answer of the whole hour", () => {
  const hour = new Buckets(3600000, "1h");
  const mins = [];
  let all = { min: Infinity, max: -Infinity, sum: 0, n: 0 };
  for (let m = 0; m < 60; m++) {
    const vs = [m % 7, (m * 13) % 17, 3];
    const p = { count: 3, fields: { total: [Math.min(...vs), Math.max(...vs), vs.reduce((a, v) => a + v, 0), 3] } };
    mins.push(p);
    all = { min: Math.min(all.min, ...vs), max: Math.max(all.max, ...vs), sum: all.sum + p.fields.total[2], n: all.n + 3 };
    hour.fold(m * 60000, p);
  }
  const s = hour.series().v[0];
  assert.equal(s.total, all.sum / all.n);
  assert.equal(s.__min.total, all.min);
  assert.equal(s.__max.total, all.max);
  assert.equal(hour.count[0], 180);
});

test("marks become bands as the server's gaps do", () => {
  assert.deepEqual(markGaps([{ t: 100000, kind: "restart", value: 40000 }, { t: 200000, kind: "skipped", value: 1 }, { t: 300000, kind: "skipped", value: 3 }], 1000), [
    { from: 60000, to: 100000, kind: "restart" },
    { from: 296000, to: 300000, kind: "late" },
  ]);
  assert.equal(pointsFor(0), 1000);
  assert.equal(pointsFor(50), 100);
  assert.equal(pointsFor(1e9), 10000);
});

test("the envelope spans min to max and breaks at gaps", () => {
  const get = (s) => s.total;
  const samples = [
    { total: 2, __min: { total: 1 }, __max: { total: 3 } },
    null,
    { total: 5, __min: { total: 4 }, __max: { total: 9 } },
    { total: 5, __min: { total: 5 }, __max: { total: 6 } },
    { total: 5 }, // a live sample: no envelope
  ];
  assert.deepEqual(envelopeRuns([1, 2, 3, 4, 5], samples, get), [[[1, 1, 3]], [[3, 4, 9], [4, 5, 6]]]);
});

test("CSV quotes what needs it and leaves gaps out", () => {
  assert.equal(
    toCSV([0, 1000], [{ name: 'a,"b"', values: [1, null] }]),
    'time,unix_ms,"a,""b"""\r\n1970-01-01T00:00:00.000Z,0,1\r\n1970-01-01T00:00:01.000Z,1000,\r\n',
  );
  const samples = [{ total: 2, __min: { total: 1 }, __max: { total: 3 }, __count: 60 }, null];
  const { keep, cols } = chartColumns([{ label: "total", get: (s) => s.total }], samples);
  assert.deepEqual(keep, [0]);
  assert.deepEqual(
    cols.map((c) => [c.name, c.values]),
    [
      ["total", [2]],
      ["total min", [1]],
      ["total max", [3]],
      ["samples", [60]],
    ],
  );
  assert.equal(csvName("web 1", "cpu", 0, 3600000), "web_1-cpu-1970-01-01T00-00Z-1970-01-01T01-00Z.csv");
});

test("long axes and tooltips say the date", async () => {
  const { dayLabel, dateTime } = await import("./range.js");
  const t = new Date(2026, 10, 3, 14, 5).getTime();
  assert.equal(dayLabel(t, 86400), "3 Nov");
  assert.equal(dayLabel(t, 30 * 86400), "Nov 2026");
  assert.equal(dateTime(t), "3 Nov 2026 14:05");
});

test("a long range's bands say their dates", async () => {
  const { bandLabel } = await import("./series.js");
  const fmt = await import("./format.js");
  const from = new Date(2026, 9, 20, 4, 0).getTime();
  const to = from + 2 * 86400000;
  assert.equal(bandLabel({ from, to, kind: "restart", dated: true }, fmt), "server restarted 20 Oct 2026 04:00–22 Oct 2026 04:00 (2 d)");
  assert.match(bandLabel({ from, to, kind: "offline" }, fmt), /^server offline 04:00:00–04:00:00/);
});
