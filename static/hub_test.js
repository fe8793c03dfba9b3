import { test } from "node:test";
import assert from "node:assert/strict";
import { Hub } from "./hub.js";

// memStorage is a localStorage stand-in.
function memStorage(init = {}) {
  const m = new Map(Object.entries(init));
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
    map: m,
  };
}

// answer is a fetch stand-in that records the URLs asked and answers body.
function answer(body, status = 200) {
  const asked = [];
  const fetch = async (url) => {
    asked.push(url);
    return { ok: status === 200, status, json: async () => body };
  };
  return { fetch, asked };
}

function hub(opts = {}, env = {}) {
  const storage = env.storage || memStorage();
  const frames = [];
  const h = new Hub({
    topics: ["cpu", "memory"],
    positionKeys: ["pos.a", "pos.old"],
    intervalMs: 1000,
    rangeMs: () => 60000,
    ...opts,
    env: { storage: () => storage, fetch: env.fetch, raf: (fn) => frames.push(fn), ...env.page },
  });
  return { h, storage, frames };
}

test("url: own values first, then the common ones; empty ones left out", () => {
  const cases = [
    { name: "dashboard, own host", opts: { params: { host: "" } }, path: "/api/history", q: { limit: 62 }, want: "/api/history?limit=62" },
    { name: "dashboard, other host", opts: { params: { host: "web 1" } }, path: "/api/history", q: { limit: 62 }, want: "/api/history?limit=62&host=web+1" },
    { name: "embed with token", opts: { base: "http://h:8080", params: { token: "t" } }, path: "/events", q: { topics: "cpu,load" }, want: "http://h:8080/events?topics=cpu%2Cload&token=t" },
    { name: "no query", opts: {}, path: "/events", q: {}, want: "/events" },
  ];
  for (const c of cases) assert.equal(hub(c.opts).h.url(c.path, c.q), c.want, c.name);
});

test("eventsURL names the topics only when subscribing", () => {
  const sub = hub({ subscribe: true, topics: ["memory", "cpu"] }).h;
  sub.addTopic("load");
  assert.equal(sub.eventsURL(), "/events?topics=cpu%2Cload%2Cmemory");
  assert.equal(hub({ params: { host: "b" } }).h.eventsURL(), "/events?host=b");
});

test("streamParams go on the stream only, not on the history", () => {
  const { h } = hub({ params: { host: "b" }, streamParams: { fleet: true, points: 60 } });
  assert.equal(h.eventsURL(), "/events?fleet=true&points=60&host=b");
  assert.equal(h.url("/api/history", { limit: 62 }), "/api/history?limit=62&host=b");
});

test("position: read from the first key set, written to the first, all forgotten", () => {
  const old = JSON.stringify({ id: "7", t: 7000, instance: "i1" });
  const { h, storage } = hub({}, { storage: memStorage({ "pos.old": old }) });
  assert.deepEqual(h.loadPosition(), { id: "7", t: 7000, instance: "i1" });

  h.view.ingest("cpu", "9", { t: 9000 }, "live");
  h.savePosition();
  assert.deepEqual(JSON.parse(storage.getItem("pos.a")), { id: "9", t: 9000, instance: null });
  assert.deepEqual(h.loadPosition().id, "9", "the first key wins");

  storage.setItem("pos.a", "garbage");
  assert.equal(h.loadPosition(), null, "a damaged entry is none");

  h.forgetPosition();
  assert.equal(storage.map.size, 0);
  assert.equal(h.view.lastId, null);
});

test("position: storage that throws is no position", () => {
  const h = new Hub({
    topics: ["cpu"],
    positionKeys: ["k"],
    rangeMs: () => 60000,
    env: {
      storage: () => {
        throw new Error("disabled");
      },
    },
  });
  assert.equal(h.loadPosition(), null);
  h.view.ingest("cpu", "1", { t: 1000 }, "live");
  h.savePosition(); // must not throw
  h.forgetPosition();
});

test("history first: ids are the position, an empty answer's head too", async () => {
  const a = answer({ events: [{ id: "5", event: "cpu", data: { t: 5000 } }, { id: "6", event: "memory", data: { t: 5000 } }] });
  const { h } = hub({ historyFirst: true }, { fetch: a.fetch });
  await h.loadHistory();
  assert.deepEqual(a.asked, ["/api/history?limit=124"]);
  assert.equal(h.view.lastId, "6");
  assert.equal(h.view.fromHistory, 2);

  const empty = answer({ events: [], head: "42" });
  const e = hub({ historyFirst: true }, { fetch: empty.fetch }).h;
  await e.loadHistory();
  assert.equal(e.view.lastId, "42");
});

test("history beside the stream: ids never move the position", async () => {
  const a = answer({ events: [{ id: "5", event: "cpu", data: { t: 5000 } }], head: "9" });
  const { h } = hub({ subscribe: true }, { fetch: a.fetch });
  await h.loadHistory();
  assert.deepEqual(a.asked, ["/api/history?topics=cpu%2Cmemory&limit=124"]);
  assert.equal(h.view.lastId, null);
  assert.equal(h.view.fromHistory, 1);
});

test("history is read once per window, again after a failure or a trim", async () => {
  let range = 60000;
  const a = answer({ events: [] });
  const { h } = hub({ rangeMs: () => range }, { fetch: a.fetch });
  await h.loadHistory();
  await h.loadHistory();
  assert.equal(a.asked.length, 1, "the window is held");

  range = 300000;
  await h.loadHistory();
  assert.equal(a.asked.length, 2, "a wider window is read");

  range = 60000;
  h.trim();
  range = 300000;
  await h.loadHistory();
  assert.equal(a.asked.length, 3, "what a narrower window dropped is read again");

  const bad = answer({}, 503);
  const notes = [];
  const b = hub({ hooks: { system: (t) => notes.push(t) } }, { fetch: bad.fetch }).h;
  await b.loadHistory();
  await b.loadHistory();
  assert.equal(bad.asked.length, 2, "a failed read is tried again");
  assert.deepEqual(notes, ["history: history answered 503", "history: history answered 503"]);
});

test("an answer for a destroyed hub is dropped", async () => {
  let release;
  const slow = async () => {
    await new Promise((r) => (release = r));
    return { ok: true, status: 200, json: async () => ({ events: [{ id: "5", event: "cpu", data: { t: 5000 } }] }) };
  };
  const { h } = hub({ historyFirst: true }, { fetch: slow });
  const done = h.loadHistory();
  await Promise.resolve();
  h.destroy();
  release();
  await done;
  assert.equal(h.view.fromHistory, 0);
  assert.equal(h.view.lastId, null);
});

test("frames: one per batch of events, drawn then the position stored", () => {
  const drawn = [];
  const { h, storage, frames } = hub({ hooks: { frame: () => drawn.push(h.view.lastId) } });
  h.ingest("cpu", "1", { t: 1000 }, "live");
  h.ingest("cpu", "2", { t: 2000 }, "live");
  h.ingest("disk", "3", { t: 3000 }, "live"); // not a topic drawn here
  assert.equal(frames.length, 1);
  frames.shift()();
  assert.deepEqual(drawn, ["2"]);
  assert.equal(JSON.parse(storage.getItem("pos.a")).id, "2");
  h.destroy();
  h.schedule();
  assert.equal(frames.length, 0, "a destroyed hub draws no more");
});

test("events of a topic that is no series go to hooks.record, and a frame follows a change", () => {
  const got = [];
  const { h, frames } = hub({ hooks: { record: (topic, id, data, source) => (got.push([topic, id, data.id, source]), data.id !== "dup") } });
  h.ingest("alerts", "e1", { kind: "transition", id: "a.1" }, "replay");
  assert.deepEqual(got, [["alerts", "e1", "a.1", "replay"]]);
  assert.equal(frames.length, 1, "a new record schedules a frame");
  frames.shift()();
  h.ingest("alerts", "e2", { id: "dup" }, "live");
  assert.equal(frames.length, 0, "nothing new, no frame");
  h.ingest("cpu", "e3", { t: 1000, total: 5 }, "live");
  assert.equal(got.length, 2, "a series is not a record");
});

test("a hidden page draws nothing, keeps the position, and draws once when shown", () => {
  let hidden = false;
  let show = null;
  const page = { hidden: () => hidden, onVisible: (fn) => ((show = fn), () => (show = null)) };
  const drawn = [];
  const { h, storage, frames } = hub({ hooks: { frame: () => drawn.push(h.view.lastId) } }, { page });
  hidden = true;
  for (let i = 1; i <= 5; i++) h.ingest("cpu", String(i), { t: i * 1000 }, "live");
  h.tick();
  assert.equal(frames.length, 0, "no animation frame asked for while hidden");
  assert.deepEqual(drawn, []);
  assert.equal(JSON.parse(storage.getItem("pos.a")).id, "5", "the position is still saved");
  hidden = false;
  show();
  assert.deepEqual(drawn, ["5"], "shown: one frame with everything that arrived");
  show();
  assert.deepEqual(drawn, ["5"], "shown again with nothing new: no frame");
  h.destroy();
  assert.equal(show, null, "destroy stops listening");
});

test("the timer draws a live page only in a second with no other frame", () => {
  const { h, frames } = hub();
  const stream = { state: "live", tick() {}, destroy() {} };
  h.stream = stream;
  h.ingest("cpu", "1", { t: 1000 }, "live");
  frames.shift()(); // the tick's frame
  h.tick();
  assert.equal(frames.length, 0, "live, a tick drew this second: the timer adds no frame");
  h.tick();
  assert.equal(frames.length, 1, "a second with no tick: the timer draws");
  frames.shift()();
  h.tick();
  assert.equal(frames.length, 1, "its own frame does not count: still none, it draws again");
  frames.shift()();
  stream.state = "reconnecting";
  h.ingest("cpu", "2", { t: 2000 }, "live");
  frames.shift()();
  h.tick();
  assert.equal(frames.length, 1, "not live: every second, for the countdown");
  frames.shift()();
  stream.state = "live";
  h.view.hostDown = { since: 0 };
  h.ingest("cpu", "3", { t: 3000 }, "live");
  frames.shift()();
  h.tick();
  assert.equal(frames.length, 1, "the host shown is silent: its band grows every second");
  h.destroy();
});
