import { test } from "node:test";
import assert from "node:assert/strict";
import { parseStreamURL, unionURL, covers, EventWindow, Outbox, BATCH_MAX } from "./share.js";

test("parseStreamURL: streams of one host and token share, whatever else they ask", () => {
  const a = parseStreamURL("http://v:8080/events?host=b&fleet=true&points=60&lastEventId=x.5");
  const b = parseStreamURL("http://v:8080/events?topics=cpu,memory&host=b");
  assert.equal(a.key, b.key);
  assert.equal(a.key, "http://v:8080/events?host=b");
  assert.deepEqual([a.topics, a.fleet, a.points, a.after], [null, true, 60, "x.5"]);
  assert.deepEqual([[...b.topics], b.fleet, b.after], [["cpu", "memory"], false, null]);
  const other = [
    "http://v:8080/events?host=c",
    "http://v:8080/events?host=b&token=t1",
    "http://w:8080/events?host=b",
  ];
  for (const u of other) assert.notEqual(parseStreamURL(u).key, a.key, u);
  assert.equal(parseStreamURL("http://v/events?token=t&host=b").key, parseStreamURL("http://v/events?host=b&token=t").key, "order does not matter");
});

test("parseStreamURL: a stream naming an opt-in topic shares only with its like", () => {
  const all = parseStreamURL("http://v/events?host=b");
  const rollup = parseStreamURL("http://v/events?host=b&topics=rollup&lastEventId=x.5");
  const both = parseStreamURL("http://v/events?topics=cpu,rollup&host=b");
  assert.notEqual(rollup.key, all.key, "every topic comes without the rollups");
  assert.equal(rollup.key, both.key);
  assert.equal(unionURL(rollup.key, [rollup, both], "x.5"), "http://v/events?host=b&topics=cpu%2Crollup&lastEventId=x.5#rollup");
});

test("unionURL asks for what every tab wants", () => {
  const key = "http://v/events?host=b";
  const w = (u) => parseStreamURL("http://v/events?host=b&" + u);
  assert.equal(unionURL(key, [w("topics=cpu"), w("topics=memory,cpu")], null), "http://v/events?host=b&topics=cpu%2Cmemory");
  assert.equal(unionURL(key, [w("topics=cpu"), w("fleet=true&points=60"), w("fleet=true&points=90")], "i.9"), "http://v/events?host=b&fleet=true&points=90&lastEventId=i.9");
  assert.equal(unionURL(key, [], null), key, "no tab yet: everything");
});

test("covers: a stream serves a tab whose topics and fleet it has", () => {
  const p = (q) => parseStreamURL("http://v/events?" + q);
  const cases = [
    { have: "", want: "topics=cpu", ok: true },
    { have: "topics=cpu,memory", want: "topics=cpu", ok: true },
    { have: "topics=cpu", want: "topics=load", ok: false },
    { have: "topics=cpu", want: "", ok: false },
    { have: "", want: "fleet=true", ok: false },
    { have: "fleet=true&points=60", want: "fleet=true&points=30", ok: true },
    { have: "fleet=true&points=30", want: "fleet=true&points=60", ok: false },
  ];
  for (const c of cases) assert.equal(covers(p(c.have), p(c.want)), c.ok, `${c.have} serves ${c.want}`);
});

test("EventWindow: after an id, since a mark, bounded", () => {
  const w = new EventWindow(32);
  for (let i = 0; i < 10; i++) w.push({ id: "e" + i, type: "cpu", data: String(i) });
  assert.deepEqual(w.after("e7").map((e) => e.id), ["e8", "e9"]);
  assert.deepEqual(w.after("e9"), []);
  assert.equal(w.after("nope"), null);
  const m = w.mark();
  w.push({ id: "e10", type: "cpu", data: "10" });
  assert.deepEqual(w.since(m).map((e) => e.id), ["e10"]);
  for (let i = 11; i < 100; i++) w.push({ id: "e" + i, type: "cpu", data: String(i) });
  assert.ok(w.events.length <= 32);
  assert.equal(w.after("e5"), null, "dropped");
  assert.deepEqual(w.after("e97").map((e) => e.id), ["e98", "e99"]);
  assert.deepEqual(w.since(m).at(-1).id, "e99", "a mark older than the window gives what is held");
});

test("Outbox: what one task posts reaches each port as one message, in order", () => {
  const deferred = [];
  const box = new Outbox((fn) => deferred.push(fn));
  const got = { a: [], b: [] };
  const a = { postMessage: (m) => got.a.push(m) };
  const b = { postMessage: (m) => got.b.push(m) };
  box.post(a, { sid: 1, type: "cpu", id: "1" });
  box.post(b, { sid: 2, type: "cpu", id: "1" });
  box.post(a, { sid: 1, type: "memory", id: "2" });
  assert.equal(deferred.length, 1, "one flush per task, however many ports");
  assert.deepEqual(got.a, [], "nothing leaves before the task ends");
  deferred.shift()();
  assert.deepEqual(got.a, [{ batch: [{ sid: 1, type: "cpu", id: "1" }, { sid: 1, type: "memory", id: "2" }] }]);
  assert.deepEqual(got.b, [{ sid: 2, type: "cpu", id: "1" }], "a lone message goes as itself");
  box.post(a, { sid: 1, type: "load", id: "3" });
  assert.equal(deferred.length, 1, "the next task flushes again");
  deferred.shift()();
  assert.deepEqual(got.a.at(-1), { sid: 1, type: "load", id: "3" });
});

test("Outbox: a long run goes out in batches of BATCH_MAX, in order; a failing port costs the others nothing", () => {
  const deferred = [];
  const box = new Outbox((fn) => deferred.push(fn));
  const got = [];
  const a = { postMessage: (m) => got.push(m) };
  const broken = {
    postMessage: () => {
      throw new Error("gone");
    },
  };
  const n = BATCH_MAX * 2 + 3;
  const errors = [];
  const consoleError = console.error;
  console.error = (e) => errors.push(e);
  try {
    for (let i = 0; i < n; i++) {
      box.post(broken, { id: String(i) });
      box.post(a, { id: String(i) });
    }
    deferred.splice(0).forEach((fn) => fn());
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(
    got.map((m) => m.batch.length),
    [BATCH_MAX, BATCH_MAX, 3],
  );
  assert.deepEqual(
    got.flatMap((m) => m.batch.map((e) => Number(e.id))),
    Array.from({ length: n }, (_, i) => i),
  );
  assert.equal(errors.length, 3, "each failed post is reported");
});
