import { test } from "node:test";
import assert from "node:assert/strict";
import * as fmt from "./format.js";

test("bytes", () => {
  const cases = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [10 * 1024 * 1024, "10.0 MiB"],
    [512 * 1024 ** 3, "512 GiB"],
    [null, "—"],
    [undefined, "—"],
    [NaN, "—"],
  ];
  for (const [in_, want] of cases) assert.equal(fmt.bytes(in_), want, `bytes(${in_})`);
});

test("bytesAxis", () => {
  assert.equal(fmt.bytesAxis(0), "0 B");
  assert.equal(fmt.bytesAxis(8 * 1024 ** 3), "8 GiB");
  assert.equal(fmt.bytesAxis(1.5 * 1024 ** 2), "1.5 MiB");
});

test("rate and pct", () => {
  assert.equal(fmt.rate(2048), "2.00 KiB/s");
  assert.equal(fmt.rate(null), "—");
  assert.equal(fmt.pct(3.14159), "3.1 %");
  assert.equal(fmt.pct(42.6), "43 %");
  assert.equal(fmt.pct(null), "—");
});

test("num", () => {
  assert.equal(fmt.num(0.5), "0.50");
  assert.equal(fmt.num(1234), "1234");
  assert.equal(fmt.num(12345), "12.3 k");
  assert.equal(fmt.num(2.5e6), "2.5 M");
});

test("duration", () => {
  const cases = [
    [0, "0 s"],
    [200, "200 ms"],
    [14000, "14 s"],
    [6 * 60000, "6 min"],
    [59 * 60000, "59 min"],
    [3590000, "60 min"],
    [3600000, "1 h"],
    [3600000 + 5 * 60000, "1 h 5 min"],
    [2 * 3600000, "2 h"],
    [3 * 86400000 + 3600000, "3 d 1 h"],
    [-1, "—"],
  ];
  for (const [in_, want] of cases) assert.equal(fmt.duration(in_), want, `duration(${in_})`);
});

test("clock and clockDuration", () => {
  const t = new Date(2025, 0, 2, 9, 5, 7).getTime();
  assert.equal(fmt.clock(t), "09:05:07");
  assert.equal(fmt.span(t, t + 14000), "09:05:07–09:05:21");
  assert.equal(fmt.clockDuration(3723000), "01:02:03");
  assert.equal(fmt.clockDuration(-5), "00:00:00");
});

test("dfPercent and filesystem read like df -h", () => {
  const GiB = 1024 ** 3;
  assert.equal(fmt.dfPercent(250, 750), 25, "exact");
  assert.equal(fmt.dfPercent(250, 700), 27, "26.3 rounds up, as df does");
  assert.equal(fmt.dfPercent(0, 100), 0);
  assert.equal(fmt.dfPercent(100, 0), 100);
  assert.equal(fmt.dfPercent(0, 0), null);
  assert.equal(fmt.dfPercent(null, 5), null);
  const cases = [
    {
      name: "root reserve: percent of used + avail, not of total",
      f: { total: 252 * GiB, used: 14.2 * GiB, avail: 74.5 * GiB, percent: 16.01 },
      want: { pct: 17, text: "14.2 GiB used, 74.5 GiB free of 252 GiB · 17 %" },
    },
    {
      name: "laptop root",
      f: { total: 493921239040, used: 214748364800, avail: 254476812288, percent: 45.77 },
      want: { pct: 46, text: "200 GiB used, 237 GiB free of 460 GiB · 46 %" },
    },
    { name: "no avail: the server's percent", f: { total: 1000, used: 250, percent: 26.32 }, want: { pct: 26.32, text: "250 B used of 1000 B · 26 %" } },
    { name: "statfs failed", f: { total: null, used: null, avail: null, percent: null }, want: { pct: null, text: "— used of — · —" } },
  ];
  for (const c of cases) assert.deepEqual(fmt.filesystem(c.f), c.want, c.name);
});

test("bitRate counts bits in powers of 1000", () => {
  const cases = [
    [0, "0 bit/s"],
    [999, "999 bit/s"],
    [1000, "1.00 kbit/s"],
    [1.5e6, "1.50 Mbit/s"],
    [12.34e6, "12.3 Mbit/s"],
    [950e9, "950 Gbit/s"],
    [-2000, "-2.00 kbit/s"],
    [null, "—"],
    [NaN, "—"],
  ];
  for (const [v, want] of cases) assert.equal(fmt.bitRate(v), want, String(v));
});

test("bitRateAxis labels ticks briefly", () => {
  const cases = [
    [0, "0 bit/s"],
    [500e3, "500 kbit/s"],
    [1.5e6, "1.5 Mbit/s"],
    [2e9, "2 Gbit/s"],
    [undefined, ""],
  ];
  for (const [v, want] of cases) assert.equal(fmt.bitRateAxis(v), want, String(v));
});

test("bytesToBits and percentOf keep missing values missing", () => {
  assert.equal(fmt.bytesToBits(125), 1000);
  assert.equal(fmt.bytesToBits(null), null);
  assert.equal(fmt.percentOf(700, 2800), 25);
  assert.equal(fmt.percentOf(0, 100), 0);
  assert.equal(fmt.percentOf(5, 0), null, "no total, no percent");
  assert.equal(fmt.percentOf(null, 100), null);
  assert.equal(fmt.percentOf(5, undefined), null);
});
