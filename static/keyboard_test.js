import { test } from "node:test";
import assert from "node:assert/strict";
import { cursorKey, Announcer } from "./keyboard.js";

test("cursorKey moves by a sample, a page, or to either end", () => {
  const n = 100;
  const cases = [
    { name: "left from none starts at the newest", key: "ArrowLeft", idx: null, want: 99 },
    { name: "left", key: "ArrowLeft", idx: 50, want: 49 },
    { name: "right", key: "ArrowRight", idx: 50, want: 51 },
    { name: "right at the end stays", key: "ArrowRight", idx: 99, want: 99 },
    { name: "left at the start stays", key: "ArrowLeft", idx: 0, want: 0 },
    { name: "page up", key: "PageUp", idx: 50, want: 40 },
    { name: "page down", key: "PageDown", idx: 50, want: 60 },
    { name: "page up clamps", key: "PageUp", idx: 3, want: 0 },
    { name: "page down from none clamps", key: "PageDown", idx: null, want: 99 },
    { name: "home", key: "Home", idx: 50, want: 0 },
    { name: "end", key: "End", idx: 5, want: 99 },
    { name: "escape lets go", key: "Escape", idx: 5, want: null },
    { name: "other keys are not ours", key: "a", idx: 5, want: undefined },
    { name: "tab is not ours", key: "Tab", idx: 5, want: undefined },
  ];
  for (const c of cases) assert.equal(cursorKey(c.key, c.idx, n), c.want, c.name);
  assert.equal(cursorKey("ArrowLeft", null, 0), undefined, "no points");
});

test("cursorKey steps over the null points drawn in gaps", () => {
  const gaps = new Set([4, 5, 9]);
  const real = (i) => !gaps.has(i);
  const cases = [
    { name: "left over a gap", key: "ArrowLeft", idx: 6, want: 3 },
    { name: "right over a gap", key: "ArrowRight", idx: 3, want: 6 },
    { name: "end in a gap goes back", key: "End", idx: 0, want: 8 },
    { name: "right into a trailing gap stays", key: "ArrowRight", idx: 8, want: 8 },
  ];
  for (const c of cases) assert.equal(cursorKey(c.key, c.idx, 10, real), c.want, c.name);
});

function fakeEnv() {
  const env = { t: 0, said: [], timers: new Map(), next: 1 };
  env.now = () => env.t;
  env.say = (text) => env.said.push([env.t, text]);
  env.setTimer = (fn, ms) => {
    const id = env.next++;
    env.timers.set(id, { fn, at: env.t + ms });
    return id;
  };
  env.clearTimer = (id) => env.timers.delete(id);
  // advance runs the timers due by t.
  env.advance = (ms) => {
    const end = env.t + ms;
    for (;;) {
      const due = [...env.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      env.timers.delete(due[0]);
      env.t = due[1].at;
      due[1].fn();
    }
    env.t = end;
  };
  return env;
}

test("Announcer says the newest text at most once a gap", () => {
  const env = fakeEnv();
  const a = new Announcer(env, 500);
  a.announce("one");
  // A held key: many texts inside one gap; only the last is said.
  for (let i = 2; i <= 9; i++) {
    env.advance(50);
    a.announce(`text ${i}`);
  }
  env.advance(1000);
  assert.deepEqual(env.said, [
    [0, "one"],
    [500, "text 9"],
  ]);
  // The same text again is not news.
  a.announce("text 9");
  env.advance(1000);
  assert.equal(env.said.length, 2);
  // Live values ask for a longer quiet time after the last text (at 500).
  a.announce("live 1", 5000);
  env.advance(5400 - env.t);
  assert.equal(env.said.length, 2, "not before 5 s");
  env.advance(100);
  assert.deepEqual(env.said.at(-1), [5500, "live 1"]);
  // stop drops what waits.
  a.announce("dropped", 5000);
  a.stop();
  env.advance(10000);
  assert.deepEqual(env.said.at(-1), [5500, "live 1"]);
});

test("Announcer: a key press is not held behind live values' longer quiet time", () => {
  const env = fakeEnv();
  const a = new Announcer(env, 400);
  a.announce("live 1");
  env.advance(100);
  // Live values following the newest sample wait up to 10 s...
  a.announce("live 2", 10000);
  env.advance(100);
  // ...but a key press moves the cursor: said once the short gap is over.
  a.announce("key");
  env.advance(300);
  assert.deepEqual(env.said.at(-1), [400, "key"]);
  env.advance(20000);
  assert.equal(env.said.length, 2, "the live text it replaced is not said later");
});
