import { test } from "node:test";
import assert from "node:assert/strict";
import { pickUnits, unitsSearch, nextUnit, withUnit, choicesOf, LABELS } from "./units.js";

const CHOICES = { network: ["bits", "bytes"], memory: ["bytes", "percent"] };

test("pickUnits: the address over storage over the default", () => {
  const cases = [
    { name: "defaults", search: "", stored: null, want: { network: "bits", memory: "bytes" } },
    { name: "stored", search: "", stored: '{"network":"bytes","memory":"percent"}', want: { network: "bytes", memory: "percent" } },
    { name: "address wins", search: "?network=bits&memory=bytes", stored: '{"network":"bytes","memory":"percent"}', want: { network: "bits", memory: "bytes" } },
    { name: "one of each", search: "?host=b&memory=percent", stored: '{"network":"bytes"}', want: { network: "bytes", memory: "percent" } },
    { name: "unknown ignored", search: "?network=furlongs", stored: '{"memory":"percent"}', want: { network: "bits", memory: "percent" } },
    { name: "bad unit in storage", search: "", stored: '{"network":"percent"}', want: { network: "bits", memory: "bytes" } },
    { name: "damaged storage", search: "", stored: "{not json", want: { network: "bits", memory: "bytes" } },
    { name: "null json", search: "", stored: "null", want: { network: "bits", memory: "bytes" } },
  ];
  for (const c of cases) assert.deepEqual(pickUnits(c.search, c.stored, CHOICES), c.want, c.name);
});

test("unitsSearch leaves defaults out and keeps other parameters", () => {
  assert.equal(unitsSearch("", { network: "bits", memory: "bytes" }, CHOICES), "");
  assert.equal(unitsSearch("?host=b", { network: "bytes", memory: "bytes" }, CHOICES), "?host=b&network=bytes");
  assert.equal(unitsSearch("?network=bytes&memory=percent&host=b", { network: "bits", memory: "percent" }, CHOICES), "?memory=percent&host=b");
});

test("nextUnit cycles through a chart's units", () => {
  assert.equal(nextUnit(CHOICES, "network", "bits"), "bytes");
  assert.equal(nextUnit(CHOICES, "network", "bytes"), "bits");
  assert.equal(nextUnit(CHOICES, "memory", "bytes"), "percent");
  assert.equal(nextUnit(CHOICES, "memory", "percent"), "bytes");
  for (const units of Object.values(CHOICES)) for (const u of units) assert.ok(LABELS[u], u + " has a label");
});

test("withUnit lays the unit's fields over the def's", () => {
  const def = { id: "network", fmt: "bytes", axis: "a", units: { bits: { fmt: "bits" }, bytes: {} } };
  const bits = withUnit(def, "bits");
  assert.equal(bits.fmt, "bits");
  assert.equal(bits.axis, "a");
  assert.equal(bits.unit, "bits");
  assert.equal(withUnit(def, "bytes").fmt, "bytes");
  assert.equal(withUnit(def, "nope").fmt, "bits", "unknown: the default, the first");
  assert.equal(withUnit(def).unit, "bits");
  const plain = { id: "cpu" };
  assert.equal(withUnit(plain, "bits"), plain);
});

test("choicesOf lists the charts with units, default first", () => {
  const defs = [{ id: "cpu" }, { id: "network", units: { bits: {}, bytes: {} } }, { id: "memory", units: { bytes: {}, percent: {} } }];
  assert.deepEqual(choicesOf(defs), CHOICES);
});
