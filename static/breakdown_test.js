import { test } from "node:test";
import assert from "node:assert/strict";
import { BREAKDOWNS, pickNames, breakdownDef, mirroredRange, kindsText, openDetails, detailSearch } from "./breakdown.js";
import { slim } from "./view.js";

const net = BREAKDOWNS.find((b) => b.of === "network");
const disk = BREAKDOWNS.find((b) => b.of === "disk");

const window = (samples) => ({ t: samples.map((s) => s.t), v: samples });

test("pickNames keeps the busiest names over the window, physical first on a tie", () => {
  const w = window([
    { t: 1, interfaces: { eth0: { kind: "physical", rx_bps: 100, tx_bps: 10 }, docker0: { kind: "bridge", rx_bps: 0, tx_bps: 0 }, veth1: { kind: "virtual", rx_bps: 5000, tx_bps: 0 } } },
    { t: 2, interfaces: { eth0: { kind: "physical", rx_bps: 20, tx_bps: 1 }, wg0: { kind: "tunnel", rx_bps: 0, tx_bps: 0 } } },
    { t: 3 },
  ]);
  const cases = [
    { name: "all", max: 8, want: ["veth1", "eth0", "docker0", "wg0"], more: 0 },
    { name: "capped", max: 2, want: ["veth1", "eth0"], more: 2 },
  ];
  for (const c of cases) {
    const got = pickNames(w, net, c.max);
    assert.deepEqual(got.names, c.want, c.name);
    assert.equal(got.more, c.more, c.name);
  }
  assert.deepEqual(pickNames(w, net).kinds, { veth1: "virtual", eth0: "physical", docker0: "bridge", wg0: "tunnel" });
  assert.deepEqual(pickNames(null, net), { names: [], more: 0, kinds: {} });
  const d = pickNames(window([{ t: 1, devices: { sda: { read_bps: 1, write_bps: 2 }, nvme0n1: { read_bps: 10, write_bps: 0 } } }]), disk);
  assert.deepEqual(d.names, ["nvme0n1", "sda"]);
});

test("breakdownDef draws in above zero and out below, values unsigned", () => {
  const s = { interfaces: { eth0: { rx_bps: 1000, tx_bps: 250 } } };
  const bytes = breakdownDef(net, ["eth0", "gone"]);
  assert.deepEqual(bytes.series.map((x) => x.label), ["eth0 in", "eth0 out", "gone in", "gone out"]);
  assert.deepEqual(bytes.series.map((x) => x.get(s)), [1000, -250, null, null]);
  assert.equal(bytes.series[0].color, bytes.series[1].color, "one colour per name");
  assert.ok(bytes.series[1].dash, "the out line is dashed");
  assert.equal(bytes.fmt(-250), "250 B/s");
  assert.equal(bytes.axis(-1024), "−1 KiB/s");
  const bits = breakdownDef(net, ["eth0"], true);
  assert.deepEqual(bits.series.map((x) => x.get(s)), [8000, -2000]);
  assert.equal(bits.fmt(-2000), "2.00 kbit/s");
});

test("mirroredRange holds both sides of zero", () => {
  assert.deepEqual(mirroredRange([[1, 10, null], [-5, -2]]), [-5.5, 11]);
  assert.deepEqual(mirroredRange([[null]]), [-1, 1]);
  assert.deepEqual(mirroredRange([[3], [0]]), [0, 3.3000000000000003]);
});

test("kindsText and the address", () => {
  assert.equal(kindsText(["eth0", "x", "docker0"], { eth0: "physical", docker0: "bridge" }), "eth0 physical · docker0 bridge");
  assert.deepEqual([...openDetails("?detail=disk,network,bogus&host=a")].sort(), ["disk", "network"]);
  assert.deepEqual([...openDetails("")], []);
  assert.equal(detailSearch("?host=a", new Set(["disk", "network"])), "?host=a&detail=network,disk");
  assert.equal(detailSearch("?host=a&detail=disk", new Set()), "?host=a");
  assert.equal(detailSearch("", new Set()), "");
});

test("slim keeps each name's rates for the breakdowns", () => {
  const n = slim("network", { t: 1, rx_bps: 2, interfaces: { eth0: { kind: "physical", rx_bps: 3, tx_bps: 4, rx_pps: 5, mtu: 9000 } } });
  assert.deepEqual(n.interfaces, { eth0: { kind: "physical", rx_bps: 3, tx_bps: 4 } });
  const d = slim("disk", { t: 1, devices: { sda: { read_bps: 1, write_bps: 2, read_iops: 3 } }, filesystems: [{}] });
  assert.deepEqual(d.devices, { sda: { read_bps: 1, write_bps: 2 } });
  assert.equal(d.filesystems, undefined);
});
