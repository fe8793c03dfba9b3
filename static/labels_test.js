import { test } from "node:test";
import assert from "node:assert/strict";
import { spreadLabels } from "./labels.js";

test("spreadLabels keeps labels apart and inside the plot", () => {
  const cases = [
    { name: "far apart stay put", want: [40, 100], line: 12, top: 0, bottom: 150, out: [40, 100] },
    { name: "close ones are pushed down", want: [40, 45], line: 12, top: 0, bottom: 150, out: [40, 52] },
    { name: "same value, order kept", want: [60, 60, 60], line: 10, top: 0, bottom: 150, out: [60, 70, 80] },
    { name: "at the bottom they move up", want: [148, 150], line: 12, top: 0, bottom: 150, out: [138, 150] },
    { name: "at the top the first goes below the edge", want: [2, 3], line: 12, top: 0, bottom: 150, out: [12, 24] },
    { name: "unsorted input", want: [100, 40, 44], line: 12, top: 0, bottom: 150, out: [100, 40, 52] },
    { name: "more than fit: the lowest are left out", want: [10, 11, 12], line: 12, top: 0, bottom: 30, out: [12, 24, null] },
    { name: "none", want: [], line: 12, top: 0, bottom: 150, out: [] },
  ];
  for (const c of cases) {
    const got = spreadLabels(c.want, c.line, c.top, c.bottom);
    assert.deepEqual(got, c.out, c.name);
    const ys = got.filter((y) => y !== null).sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i] - ys[i - 1] >= c.line, `${c.name}: overlap ${ys}`);
    for (const y of ys) assert.ok(y - c.line >= c.top && y <= c.bottom, `${c.name}: ${y} outside`);
  }
});
