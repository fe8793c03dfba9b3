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
