import { test } from "node:test";
import assert from "node:assert/strict";
import { sparkSegments, rowText, hostSearch, optionLabel, mergeFleet } from "./fleet.js";

test("sparkSegments scales 0-100 % into the box, oldest left", () => {
  assert.deepEqual(sparkSegments([0, 1000, 2000], [0, 50, 100], 100, 20), ["0,20 50,10 100,0"]);
  // Out-of-range values are clamped, not drawn outside the box.
  assert.deepEqual(sparkSegments([0, 1000], [-5, 140], 10, 10), ["0,10 10,0"]);
});

test("sparkSegments breaks the line over a gap", () => {
  // Steps of 1 s, then 10 s missing: two runs.
  const segs = sparkSegments([0, 1000, 2000, 12000, 13000], [10, 10, 10, 20, 20], 130, 10);
  assert.equal(segs.length, 2);
  assert.equal(segs[0], "0,9 10,9 20,9");
  assert.equal(segs[1], "120,8 130,8");
});

test("sparkSegments of one point or none", () => {
  assert.deepEqual(sparkSegments([], []), []);
  assert.deepEqual(sparkSegments([5], [50], 120, 24), ["120,12"]);
  assert.deepEqual(sparkSegments([1, 2], [3]), sparkSegments([1], [3])); // mismatched lengths: the shorter wins
});

test("rowText formats figures and says offline", () => {
  const live = rowText({ live: true, cpu: 12.34, memory_percent: 25, memory_total: 8 * 1024 ** 3, load1: 0.5, rx_bps: 2048, tx_bps: 0 });
  assert.equal(live.status, "live");
  assert.equal(live.cpu, "12 %");
  assert.equal(live.memory, "25 % of 8.00 GiB");
  assert.equal(live.load, "0.50");
  assert.equal(live.network, "2.00 KiB/s / 0 B/s");
  const off = rowText({ live: false, last_seen: 0, cpu: null, error: "history backend unavailable" });
  assert.equal(off.status, "offline (no data)");
  assert.equal(off.cpu, "—");
  assert.equal(off.memory, "—");
  assert.match(rowText({ live: false, last_seen: Date.now() }).status, /^offline since \d\d:\d\d:\d\d$/);
});

test("hostSearch names other hosts and drops the own one", () => {
  assert.equal(hostSearch("", "b", "a"), "?host=b");
  assert.equal(hostSearch("?host=b", "a", "a"), "");
  assert.equal(hostSearch("?x=1&host=b", "c", "a"), "?x=1&host=c");
  assert.equal(hostSearch("?host=b", "", "a"), "");
  assert.equal(hostSearch("", "we b&x", "a"), "?host=we+b%26x");
});

test("optionLabel marks offline hosts", () => {
  assert.equal(optionLabel({ name: "a", live: true }), "a");
  assert.equal(optionLabel({ name: "b", live: false }), "b (offline)");
});

test("mergeFleet: a whole list, then only the new sparkline samples", () => {
  const first = { hosts: [{ name: "a", cpu: 1, spark: { t: [1, 2, 3], cpu: [10, 20, 30] } }, { name: "b", cpu: 2, spark: { t: [], cpu: [] } }, null], append: false };
  let held = mergeFleet([], first, 3);
  assert.deepEqual(held.map((h) => h.name), ["a", "b"]);
  held = mergeFleet(held, { hosts: [{ name: "a", cpu: 40, spark: { t: [4], cpu: [40] } }, { name: "c", spark: { t: [9], cpu: [90] } }], append: true }, 3);
  assert.deepEqual(held, [
    { name: "a", cpu: 40, spark: { t: [2, 3, 4], cpu: [20, 30, 40] } },
    { name: "c", spark: { t: [9], cpu: [90] } },
  ], "the newest 3 points kept; b left the fleet; c is new");
});

test("rowText: network in the unit the charts show", () => {
  assert.equal(rowText({ live: true, rx_bps: 1, tx_bps: 2 }, (v) => `${v * 8} b/s`).network, "8 b/s / 16 b/s");
});
