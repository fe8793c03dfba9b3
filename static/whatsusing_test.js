import { test } from "node:test";
import assert from "node:assert/strict";
import * as w from "./whatsusing.js";

const row = (pid, start, cpu, rss) => ({ pid, start, name: "p" + pid, cpu_pct: cpu, rss });

// series is a Series-shaped window: parallel arrays of times and payloads.
function series(...payloads) {
  return { t: payloads.map((p) => p.t), v: payloads };
}

test("procRows picks the list and skips broken rows", () => {
  const p = { top_cpu: [row(1, 10, 50, 1), null, { name: "no pid" }], top_rss: [row(2, 20, 0, 9)] };
  assert.deepEqual(w.procRows(p, "cpu").map((r) => r.pid), [1]);
  assert.deepEqual(w.procRows(p, "rss").map((r) => r.pid), [2]);
  assert.deepEqual(w.procRows(null, "cpu"), []);
});

test("procKey tells a reused pid from the first process", () => {
  assert.notEqual(w.procKey(row(7, 100)), w.procKey(row(7, 200)));
});

test("procTrail follows one process through either list, with gaps", () => {
  const s = series(
    { t: 1, top_cpu: [row(1, 10, 10, 5)], top_rss: [] },
    { t: 2, top_cpu: [], top_rss: [row(1, 10, 20, 6)] },
    { t: 3, top_cpu: [row(1, 99, 30, 7)], top_rss: [] }, // pid 1 reused: another process
    { t: 4, top_cpu: [row(1, 10, 40, 8)], top_rss: [] },
  );
  assert.deepEqual(w.procTrail(s, "1@10", "cpu_pct", 10), [10, 20, null, 40]);
  assert.deepEqual(w.procTrail(s, "1@10", "rss", 2), [null, 8]);
  assert.deepEqual(w.procTrail(null, "1@10", "rss", 2), []);
});

test("procHistory lists the samples holding the process, newest first", () => {
  const s = series({ t: 1, top_cpu: [row(1, 10, 10, 5)] }, { t: 2, top_cpu: [] }, { t: 3, top_rss: [row(1, 10, 30, 7)] });
  assert.deepEqual(
    w.procHistory(s, "1@10").map((h) => [h.t, h.row.cpu_pct]),
    [
      [3, 30],
      [1, 10],
    ],
  );
});

test("sparkPath scales to the box and breaks at gaps", () => {
  assert.equal(w.sparkPath([0, 50, 100], 100, 20, 0), "M0 20L50 10L100 0");
  assert.equal(w.sparkPath([10, null, 10], 10, 10, 20), "M0 5M10 5");
  assert.equal(w.sparkPath([], 10, 10, 0), "");
  assert.equal(w.sparkPath([5], 10, 10, 10), "M0 5");
});

test("containerBars measures against the limits", () => {
  const GiB = 1024 ** 3;
  assert.deepEqual(w.containerBars({ cpu_pct: 100, mem_used: GiB, mem_limit: 2 * GiB }, 4, 16 * GiB), { cpu: 25, mem: 50, memLimited: true });
  assert.deepEqual(w.containerBars({ cpu_pct: null, mem_used: 4 * GiB, mem_limit: null }, 2, 16 * GiB), { cpu: null, mem: 25, memLimited: false });
  assert.equal(w.containerBars({ cpu_pct: 900, mem_used: 1, mem_limit: null }, 2, 0).cpu, 100);
});

test("sortContainers: busiest first, stable by name", () => {
  const list = [
    { id: "a", name: "b", cpu_pct: 1 },
    { id: "b", name: "a", cpu_pct: 1 },
    { id: "c", name: "c", cpu_pct: null, mem_used: 5 },
    { id: "d", name: "d", cpu_pct: 50 },
    { name: "no id" },
  ];
  assert.deepEqual(
    w.sortContainers(list).map((c) => c.id),
    ["d", "b", "a", "c"],
  );
});

test("tempStats: hottest, average and the lowest critical threshold", () => {
  const p = {
    sensors: [
      { id: "a", label: "Package", c: 60, crit: 100 },
      { id: "b", label: "nvme", c: 40, crit: 85 },
      { id: "c", label: "broken", c: null, crit: 10 },
      { id: "d", label: "acpi", c: 50, crit: null },
    ],
  };
  assert.deepEqual(w.tempStats(p), { hottest: 60, hottestLabel: "Package", average: 50, critical: 85 });
  assert.deepEqual(w.tempStats({ sensors: [] }), { hottest: null, average: null, critical: null, hottestLabel: "" });
});

test("gpuStats: busiest, memory share, hottest, total power", () => {
  const p = {
    gpus: [
      { util_pct: 10, mem_used: 1, mem_total: 4, temp_c: 50, power_w: 100 },
      { util_pct: 90, mem_used: 3, mem_total: 4, temp_c: 70, power_w: null },
    ],
  };
  assert.deepEqual(w.gpuStats(p), { util: 90, mem: 50, temp: 70, power: 100 });
  assert.deepEqual(w.gpuStats({ gpus: [] }), { util: null, mem: null, temp: null, power: null });
});

test("celsius", () => {
  assert.equal(w.celsius(54.6), "55 °C");
  assert.equal(w.celsius(null), "—");
});
