import { test } from "node:test";
import assert from "node:assert/strict";
import { Columns } from "./columns.js";
import { Series, columns, shiftSeries } from "./series.js";

const getters = [(s) => s.a, (s) => s.b];

// Every step of a live window, done both ways: the appended columns must
// always equal the ones rebuilt from scratch.
test("Columns follows a series exactly as series.columns rebuilds it", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const s = new Series();
  const c = new Columns(getters);
  let t = 1_000_000;
  const iv = 1000;
  let rebuilds = 0;
  for (let step = 0; step < 3000; step++) {
    const r = rnd();
    if (r < 0.7) {
      // A tick, sometimes after a gap, sometimes with a missing value.
      t += rnd() < 0.1 ? iv * (2 + Math.floor(rnd() * 5)) : iv;
      s.insert(t, { a: rnd() < 0.05 ? null : step, b: step * 2 });
    } else if (r < 0.9) {
      s.trimBefore(t - iv * (20 + Math.floor(rnd() * 40)));
    } else if (r < 0.95 && s.length > 2) {
      // A replay overlapping what is drawn.
      s.insert(s.t[Math.floor(rnd() * s.length)], { a: -1, b: -1 });
    } else if (r < 0.97) {
      shiftSeries(s, -500);
      t -= 500;
    }
    const rev = c.rev;
    c.sync(s, iv);
    if (c.rev !== rev) rebuilds++;
    const want = columns(s, iv, getters);
    assert.deepEqual(c.data, want.data, `step ${step}`);
    assert.deepEqual(c.samples, want.samples, `step ${step} samples`);
  }
  assert.ok(rebuilds < 500, `rebuilt ${rebuilds} times of 3000: appends must not rebuild`);
});

test("Columns reports no change when nothing moved", () => {
  const s = new Series();
  const c = new Columns(getters);
  s.insert(1000, { a: 1, b: 2 });
  assert.equal(c.sync(s, 1000), true, "first sync");
  assert.equal(c.sync(s, 1000), false, "same series");
  s.insert(2000, { a: 1, b: 2 });
  const before = c.data[0];
  assert.equal(c.sync(s, 1000), true, "appended");
  assert.equal(c.data[0], before, "appended in place, not rebuilt");
  assert.equal(c.sync(s, 2000), true, "another interval rebuilds");
  c.reset();
  assert.equal(c.sync(s, 2000), true, "after reset");
});
