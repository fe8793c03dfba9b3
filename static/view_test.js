import { test, mock } from "node:test";
import assert from "node:assert/strict";
import {
  View,
  CatchupLine,
  slim,
  parsePosition,
  historyLimit,
  MAX_HISTORY_LIMIT,
  quietCatchup,
  catchupMessage,
  downtime,
  badge,
  shownState,
  CATCHUP_LINGER_MS,
  CATCHUP_LINGER_WARN_MS,
  CATCHUP_FADE_MS,
} from "./view.js";
import * as fmt from "./format.js";
import { bandLabel, KIND_CLOCK, KIND_LATE } from "./series.js";

const cpu = (t, total = 10) => ({ t, total });

test("slim keeps only what the charts draw", () => {
  const disk = { t: 1, read_bps: 2, write_bps: 3, read_iops: 4, write_iops: 5, devices: { sda: {} }, filesystems: [{}] };
  assert.deepEqual(slim("disk", disk), { t: 1, read_bps: 2, write_bps: 3, read_iops: 4, write_iops: 5, devices: { sda: {} } });
  const net = { t: 1, rx_bps: 2, tx_bps: 3, rx_pps: 4, tx_pps: 5, interfaces: { eth0: {} } };
  assert.deepEqual(slim("network", net), { t: 1, rx_bps: 2, tx_bps: 3, rx_pps: 4, tx_pps: 5, interfaces: { eth0: {} } });
  const c = cpu(1);
  assert.equal(slim("cpu", c), c);
});

test("historyLimit covers the window and stays within the server's cap", () => {
  assert.equal(MAX_HISTORY_LIMIT, 100000);
  const cases = [
    { name: "one minute, one topic", ms: 60000, interval: 1000, topics: 1, want: 62 },
    { name: "one hour, five topics", ms: 3600000, interval: 1000, topics: 5, want: 18010 },
    { name: "partial interval rounds up", ms: 2500, interval: 1000, topics: 2, want: 10 },
    { name: "a day at 1 s, five topics: capped", ms: 86400000, interval: 1000, topics: 5, want: 100000 },
    { name: "exactly the cap", ms: 49998000, interval: 1000, topics: 2, want: 100000 },
  ];
  for (const c of cases) assert.equal(historyLimit(c.ms, c.interval, c.topics), c.want, c.name);
});

test("parsePosition", () => {
  const cases = [
    { name: "none", raw: null, want: null },
    { name: "damaged", raw: "{", want: null },
    { name: "no id", raw: '{"t":1}', want: null },
    { name: "empty id", raw: '{"id":""}', want: null },
    { name: "ok", raw: '{"id":"5","t":1000,"instance":"a"}', want: { id: "5", t: 1000, instance: "a" } },
  ];
  for (const c of cases) assert.deepEqual(parsePosition(c.raw), c.want, c.name);
});

test("ingest counts by source and keeps the position", () => {
  const cases = [
    { name: "history moves the position (dashboard)", fromHistory: true, want: "3" },
    { name: "history leaves the position (embed)", fromHistory: false, want: "2" },
  ];
  for (const c of cases) {
    const v = new View(["cpu"], { intervalMs: 1000, positionFromHistory: c.fromHistory });
    assert.equal(v.ingest("cpu", "1", cpu(1000), "live", 50), true);
    assert.equal(v.ingest("cpu", "2", cpu(2000), "replay", 60), true);
    assert.equal(v.ingest("cpu", "3", cpu(3000), "history", 70), true);
    assert.equal(v.ingest("disk", "4", { t: 4000 }, "live"), false, c.name + ": topic not held");
    assert.equal(v.ingest("cpu", "5", { total: 1 }, "live"), false, c.name + ": no time");
    assert.equal(v.lastId, c.want, c.name);
    assert.deepEqual([v.live, v.caughtUp, v.fromHistory], [1, 1, 1], c.name);
    assert.deepEqual(v.ticks.t, [1000, 2000, 3000], c.name);
    assert.equal(v.newestT, 3000);
    assert.equal(v.recvWall, 70);
    assert.deepEqual(v.position(), { id: c.want, t: 3000, instance: null });
  }
});

test("history fetched after the stream opened leaves the position", () => {
  // The dashboard: history first (moves the position), then it opens the
  // stream and clears positionFromHistory; a wider range refetches older
  // history beside the stream.
  const v = new View(["cpu"], { intervalMs: 1000, positionFromHistory: true });
  v.ingest("cpu", "1", cpu(1000), "history");
  assert.equal(v.lastId, "1");
  v.positionFromHistory = false;
  v.ingest("cpu", "5", cpu(5000), "live");
  v.ingest("cpu", "0", cpu(0), "history");
  assert.equal(v.lastId, "5");
});

test("an older sample does not replace the newest", () => {
  const v = new View(["cpu"]);
  v.ingest("cpu", "2", cpu(2000, 20), "live", 10);
  v.ingest("cpu", "1", cpu(1000, 10), "replay", 20);
  assert.equal(v.latest.cpu.total, 20);
  assert.equal(v.newestT, 2000);
  assert.equal(v.recvWall, 10);
});

test("trim keeps the window plus two intervals", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  for (let t = 0; t <= 20000; t += 1000) v.ingest("cpu", String(t), cpu(t), "live");
  v.marks.push({ t: 0, kind: "restart" }, { t: 9000, kind: "lost" });
  v.trim(5000);
  assert.deepEqual(v.series.cpu.t, [13000, 14000, 15000, 16000, 17000, 18000, 19000, 20000]);
  assert.deepEqual(v.ticks.t, v.series.cpu.t);
  assert.deepEqual(v.marks.map((m) => m.t), [9000]); // a mark is kept one window longer
});

test("hello: a new instance is a restart, but draws no band by itself", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  assert.equal(v.onHello({ instance: "a", interval_ms: 200 }), false);
  assert.equal(v.intervalMs, 200);
  v.ingest("cpu", "1", cpu(5000), "live");
  assert.equal(v.onHello({ instance: "a" }), false, "same instance: a reconnect");
  assert.equal(v.onHello({ instance: "b" }), true);
  assert.deepEqual(v.marks, [], "the band comes from the server's restart mark");
  assert.equal(v.instance, "b");
});

test("hello after a reload: the stored position is where the catch-up resumes", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  v.resume({ id: "9", t: 3000, instance: "a" });
  assert.equal(v.lastId, "9");
  v.ingest("cpu", "h", cpu(8000), "history");
  assert.equal(v.onHello({ instance: "b" }), true);
  assert.equal(v.onCatchupStart(), true, "resumed");
  assert.equal(v.onCatchupStart(), false, "only once");
});

// restartRun is a stream of two restarts, as the server stores it: ticks
// every second, a run that stops at 5 s and one that stops at 12 s, each
// next run's first tick carrying "restart" (ms since the previous run's
// newest tick) on every topic, and a plain outage between 20 s and 25 s.
function restartRun() {
  const out = [];
  const add = (t, extra = {}) => {
    for (const topic of ["cpu", "memory"]) out.push([topic, `${t}-${topic}`, { t, ...extra }]);
  };
  for (let t = 1000; t <= 5000; t += 1000) add(t);
  add(9000, { restart: 4000 });
  for (let t = 10000; t <= 12000; t += 1000) add(t);
  add(16000, { restart: 4000 });
  for (let t = 17000; t <= 20000; t += 1000) add(t);
  for (let t = 25000; t <= 26000; t += 1000) add(t);
  return out;
}

test("restart bands are the server's: the same live, from history and on replay", () => {
  const shown = (source, split = 0) => {
    const v = new View(["cpu", "memory"], { intervalMs: 1000 });
    const events = restartRun();
    // A reload: history up to split, the rest replayed after the stored
    // position; live: everything as it came.
    events.forEach(([topic, id, data], i) => v.ingest(topic, id, data, i < split ? "history" : source));
    return v.computeBands(true).map((b) => ({ kind: b.kind, from: b.from, to: b.to }));
  };
  const live = shown("live");
  assert.deepEqual(live, [
    { kind: "restart", from: 5000, to: 9000 },
    { kind: "restart", from: 12000, to: 16000 },
    { kind: "offline", from: 20000, to: 25000 },
  ]);
  assert.deepEqual(shown("history"), live, "after a reload, from /api/history");
  assert.deepEqual(shown("replay", 11), live, "a reload resumed in the middle");
  assert.deepEqual(shown("replay", 30), live, "a reload resumed after both restarts");
});

test("a restart mark is taken once per tick, however many topics carry it", () => {
  const v = new View(["cpu", "memory"], { intervalMs: 1000 });
  for (const [topic, id, data] of restartRun()) v.ingest(topic, id, data, "live");
  assert.deepEqual(v.marks.map((m) => [m.kind, m.t]), [["restart", 5000], ["restart", 12000]]);
});

test("catch-up: span, summary and the lost-history mark", () => {
  const cases = [
    { name: "complete", complete: true, wantMarks: [], wantSpan: 3000 },
    { name: "incomplete", complete: false, wantMarks: [{ t: 2000, until: 4000, kind: "lost" }], wantSpan: 3000 },
  ];
  for (const c of cases) {
    const v = new View(["cpu"], { intervalMs: 1000 });
    v.ingest("cpu", "1", cpu(2000), "live");
    assert.equal(v.onCatchupStart(), false);
    v.ingest("cpu", "5", cpu(4000), "replay");
    v.ingest("cpu", "6", cpu(5000), "replay");
    const s = v.onCatchupEnd({ count: 2, complete: c.complete, ms: 7 }, 99);
    assert.equal(s.spanMs, c.wantSpan, c.name);
    assert.deepEqual([s.fromT, s.firstT, s.lastT, s.at], [2000, 4000, 5000, 99], c.name);
    assert.deepEqual(v.marks, c.wantMarks, c.name);
    assert.deepEqual(v.catchups, [s], c.name);
    const b = v.computeBands(true);
    assert.deepEqual(b, [{ from: 2000, to: 4000, kind: c.complete ? "offline" : "lost" }], c.name);
  }
});

test("catch-up summaries are capped", () => {
  const v = new View(["cpu"]);
  for (let i = 0; i < 30; i++) {
    v.onCatchupStart();
    v.onCatchupEnd({ count: i, complete: true, ms: 1 });
  }
  assert.equal(v.catchups.length, 20);
  assert.equal(v.catchups[19].count, 29);
});

test("the axis follows the clock only while disconnected", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  assert.deepEqual(v.xRange(5000, true, 42000), [37000, 42000], "no data: now");
  v.ingest("cpu", "1", cpu(10000), "live", 100000);
  assert.deepEqual(v.xRange(5000, true, 103000), [5000, 10000]);
  assert.deepEqual(v.xRange(5000, false, 103000), [8000, 13000]);
  assert.deepEqual(v.computeBands(false, 101000), [], "one interval: not a gap yet");
  assert.deepEqual(v.computeBands(false, 103000), [{ from: 10000, to: 13000, kind: "pending" }]);
  assert.deepEqual(v.computeBands(true, 103000), []);
});

test("coreCount", () => {
  const v = new View(["cpu"]);
  assert.equal(v.coreCount(), 0);
  v.onHello({ cpus: 8 });
  assert.equal(v.coreCount(), 8);
  v.ingest("cpu", "1", { t: 1, cores: [1, 2, 3, 4] }, "live");
  assert.equal(v.coreCount(), 4);
});

test("quietCatchup", () => {
  const cases = [
    { name: "first connect", c: { complete: true }, o: { reconnects: 0, resumed: false }, want: true },
    { name: "reconnect", c: { complete: true }, o: { reconnects: 1, resumed: false }, want: false },
    { name: "reload resume", c: { complete: true }, o: { reconnects: 0, resumed: true }, want: false },
    { name: "lost history", c: { complete: false }, o: { reconnects: 0, resumed: false }, want: false },
    { name: "topic added", c: { complete: true }, o: { reconnects: 3, resumed: true, topicsChanged: true }, want: true },
    { name: "topic added, lost history", c: { complete: false }, o: { reconnects: 0, resumed: false, topicsChanged: true }, want: false },
  ];
  for (const c of cases) assert.equal(quietCatchup(c.c, c.o), c.want, c.name);
});

test("catchupMessage", () => {
  const t0 = new Date(2025, 0, 2, 10, 2, 0).getTime();
  const cases = [
    { name: "nothing", s: { count: 0, ms: 3, complete: true }, text: "Up to date: nothing missed (3 ms)", warn: false },
    { name: "complete", s: { count: 360, ms: 80, spanMs: 360000, complete: true }, text: "Back after 6 min away: 360 missed events replayed in 80 ms", warn: false },
    {
      name: "server restarted",
      s: { count: 5, ms: 24, spanMs: 11000, downMs: 9000, complete: true },
      text: "Back after 11 s away (server down 9 s): 5 missed events replayed in 24 ms",
      warn: false,
    },
    { name: "a drop, no restart", s: { count: 1, ms: 2, spanMs: 3000, downMs: null, complete: true }, text: "Back after 3 s away: 1 missed event replayed in 2 ms", warn: false },
    { name: "no time known", s: { count: 4, ms: 2, spanMs: 0, complete: true }, text: "4 missed events replayed in 2 ms", warn: false },
    {
      name: "history lost",
      s: { count: 10, ms: 5, spanMs: 250000, complete: false, reason: "history starts after your id", fromT: t0 - 241000, firstT: t0 },
      text: `Back after ${fmt.duration(250000)} away: 10 missed events replayed in 5 ms. History kept only from ${fmt.clock(t0)}; ${fmt.duration(240000)} not retained. (history starts after your id)`,
      warn: true,
    },
    {
      name: "incomplete, nothing kept",
      s: { count: 0, ms: 5, complete: false, reason: "gone", fromT: t0, firstT: null },
      text: "Up to date: nothing missed (5 ms). (gone)",
      warn: true,
    },
    {
      name: "incomplete without a gap",
      s: { count: 2, ms: 5, spanMs: 2000, complete: false, reason: "", fromT: t0 - 1000, firstT: t0 },
      text: `Back after 2 s away: 2 missed events replayed in 5 ms. History kept only from ${fmt.clock(t0)}.`,
      warn: true,
    },
  ];
  for (const c of cases) {
    const m = catchupMessage(c.s, 1000);
    assert.equal(m.text, c.text, c.name);
    assert.equal(m.warn, c.warn, c.name);
    assert.equal(m.lingerMs, c.warn ? CATCHUP_LINGER_WARN_MS : CATCHUP_LINGER_MS, c.name);
  }
});

test("downtime is the widest gap of a restart, less one interval", () => {
  const ts = [1000, 2000, 3000, 12000, 13000, 14000];
  assert.equal(downtime(ts, 2000, 14000, 1000), 8000);
  assert.equal(downtime(ts, 12000, 14000, 1000), 0, "no gap in range");
  assert.equal(downtime([], 0, 10, 1000), 0);
});

test("a catch-up after a restart reports the server's downtime; a plain drop none", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  v.onHello({ instance: "a", interval_ms: 1000 });
  for (let i = 1; i <= 3; i++) v.ingest("cpu", "a." + i, { t: i * 1000 }, "live");
  v.onHello({ instance: "b", interval_ms: 1000 });
  v.onCatchupStart();
  for (const t of [4000, 13000, 14000]) v.ingest("cpu", "x" + t, { t }, "replay");
  let s = v.onCatchupEnd({ count: 3, ms: 7, complete: true });
  assert.equal(s.spanMs, 11000);
  assert.equal(s.downMs, 8000);
  assert.equal(catchupMessage(s, 1000).text, "Back after 11 s away (server down 8 s): 3 missed events replayed in 7 ms");

  v.onHello({ instance: "b", interval_ms: 1000 });
  v.onCatchupStart();
  v.ingest("cpu", "x15", { t: 15000 }, "replay");
  s = v.onCatchupEnd({ count: 1, ms: 1, complete: true });
  assert.equal(s.downMs, null);
});

test("CatchupLine shows progress, the summary, then fades and hides", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    let changes = 0;
    const line = new CatchupLine(() => changes++);
    line.begin(3, true);
    assert.equal(line.line(), "", "quiet: nothing shown");
    line.finish({ count: 3, ms: 1, spanMs: 600, complete: true }, 200);
    assert.equal(line.shown, false);

    line.begin(3, false);
    line.progress(2);
    assert.equal(line.line(), "Catching up 2 / 3 events");
    line.finish({ count: 3, ms: 1, spanMs: 600, complete: true }, 200);
    assert.match(line.line(), /^Back after 600 ms away: 3 missed events/);
    assert.equal(line.bar, false);
    mock.timers.tick(CATCHUP_LINGER_MS);
    assert.equal(line.fade, true);
    mock.timers.tick(CATCHUP_FADE_MS);
    assert.equal(line.line(), "");
    assert.equal(changes, 2);

    // A new catch-up while the old line lingers takes over.
    line.begin(1, false);
    line.finish({ count: 1, ms: 1, spanMs: 0, complete: false, reason: "x", fromT: null, firstT: null }, 200);
    assert.equal(line.warn, true);
    line.begin(5, false);
    mock.timers.tick(CATCHUP_LINGER_WARN_MS + CATCHUP_FADE_MS);
    assert.equal(line.line(), "Catching up 0 / 5 events", "the old timers were cleared");
  } finally {
    mock.timers.reset();
  }
});

test("CatchupLine.paint writes text and state only", () => {
  const cls = new Set();
  const box = { hidden: true, classList: { toggle: (c, on) => (on ? cls.add(c) : cls.delete(c)) } };
  const bar = { hidden: true, max: 0, value: 0 };
  const text = { textContent: "" };
  const line = new CatchupLine();
  line.begin(0, false);
  line.progress(0);
  line.paint({ box, bar, text });
  assert.deepEqual([box.hidden, bar.hidden, bar.max, text.textContent], [false, false, 1, "Catching up 0 / 0 events"]);
  line.hide();
  line.paint({ box, bar, text });
  assert.equal(box.hidden, true);
});

test("badge", () => {
  const since = new Date(2025, 0, 2, 12, 0, 1).getTime();
  const s = (state, retry = null) => ({ state, outageSince: since, secondsToRetry: () => retry });
  const line = { k: 4, n: 9, quiet: false };
  const cases = [
    { name: "no stream", stream: null, want: ["Connecting…", ""] },
    { name: "live", stream: s("live"), want: ["Live", ""] },
    { name: "catching up", stream: s("catchup"), want: ["Catching up 4 / 9", ""] },
    { name: "quiet catch-up", stream: s("catchup"), line: { ...line, quiet: true }, want: ["Live", ""] },
    { name: "reconnecting", stream: s("reconnecting", 2), want: ["Reconnecting (next try in 2 s)", ""] },
    { name: "reconnecting now", stream: s("reconnecting"), want: ["Reconnecting (trying now)", ""] },
    { name: "offline", stream: s("offline", 5), want: [`Offline since ${fmt.clock(since)}`, "next try in 5 s"] },
    { name: "disconnected", stream: s("disconnected"), want: [`Offline since ${fmt.clock(since)}`, "disconnected"] },
    { name: "connecting", stream: s("connecting"), want: ["Connecting…", ""] },
  ];
  for (const c of cases) assert.deepEqual(badge(c.stream, c.line || line), c.want, c.name);
});

test("a host the server says is silent: the badge, the axis and the growing band", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  v.onHello({ instance: "a", interval_ms: 1000 });
  for (let t = 1000; t <= 5000; t += 1000) v.ingest("cpu", String(t), cpu(t), "live", t + 50);
  const live = { state: "live", outageSince: null, secondsToRetry: () => null };
  const line = { quiet: false };
  assert.equal(shownState(live, v.hostDown), "live");

  // The server's word, 8 s after the newest tick by its clock; this
  // page's clock is 100 s off, which must not move the axis.
  assert.equal(v.onStatus({ t: 13000, host: "b", live: false, last_seen: 5000 }, 113000), true);
  assert.equal(v.onStatus({ t: 28000, host: "b", live: false, last_seen: 5000 }, 128000), false, "a heartbeat repeats it");
  assert.deepEqual(badge(live, line, v.hostDown), [`Offline since ${fmt.clock(5000)}`, "host not publishing"]);
  assert.equal(shownState(live, v.hostDown), "offline");
  assert.equal(v.end(true, 130000), 30000, "the axis moves on from the server's clock");
  assert.deepEqual(v.computeBands(true, 130000), [{ from: 5000, to: 30000, kind: "pending" }]);

  // Back: the server says so before the next tick, which carries the
  // restart mark; the band is the server's "restarted" one.
  assert.equal(v.onStatus({ t: 31000, host: "b", live: true, last_seen: 31000 }, 131000), true);
  v.ingest("cpu", "31000", { t: 31000, restart: 26000 }, "live", 131000);
  assert.equal(shownState(live, v.hostDown), "live");
  assert.deepEqual(badge(live, line, v.hostDown), ["Live", ""]);
  assert.deepEqual(v.computeBands(true, 131000).map((b) => [b.kind, b.from, b.to]), [["restart", 5000, 31000]]);
});

test("a new stream forgets the host's state until the server says it again", () => {
  const v = new View(["cpu"], { intervalMs: 1000 });
  v.ingest("cpu", "1", cpu(1000), "live");
  v.onStatus({ t: 9000, live: false, last_seen: 1000 });
  assert.notEqual(v.hostDown, null);
  v.onHello({ instance: "a" });
  assert.equal(v.hostDown, null);
  const reconnecting = { state: "reconnecting", outageSince: 0, secondsToRetry: () => 2 };
  assert.equal(shownState(reconnecting, { since: 1 }), "reconnecting", "the stream's own trouble comes first");
});

// feed ingests one tick of cpu and load at t with extra fields.
function feed(v, t, extra = {}, id = String(t)) {
  v.ingest("cpu", id + "c", { t, total: 1, ...extra }, "live", t);
  v.ingest("load", id + "l", { t, load1: 1, ...extra }, "live", t);
}

test("skipped ticks draw a sampler-late band, none for one tick, never offline", () => {
  const v = new View(["cpu", "load"], { intervalMs: 1000 });
  for (const t of [1000, 2000, 3000]) feed(v, t);
  feed(v, 5000, { skipped: 1 }); // 4000 skipped
  feed(v, 6000);
  feed(v, 10000, { skipped: 3 }); // 7000, 8000, 9000 skipped
  feed(v, 11000);
  feed(v, 20000); // an unexplained hole: the server was away
  const got = v.computeBands(true, 20000).map((b) => [b.from, b.to, b.kind]);
  assert.deepEqual(got, [
    [6000, 10000, KIND_LATE],
    [11000, 20000, "offline"],
  ]);
  assert.equal(bandLabel(v.bands[0], fmt).startsWith("sampler late"), true);
});

test("a clock step back moves the earlier samples onto the new clock", () => {
  const v = new View(["cpu", "load"], { intervalMs: 1000 });
  const T = 1_800_000_000_000;
  for (const t of [T + 1000, T + 2000, T + 3000]) feed(v, t);
  // 30 minutes back: the tick after T+3000 is stamped T-1796000, and the
  // server says the earlier ticks sit 1800000 ms earlier on the new clock.
  const after = T + 4000 - 1_800_000;
  feed(v, after, { clock_step: -1_800_000 });
  feed(v, after + 1000);
  // Newest is the newest sample again: the axis does not freeze.
  assert.equal(v.newestT, after + 1000);
  assert.equal(v.latest.cpu.t, after + 1000);
  assert.deepEqual(v.series.cpu.t, [after - 4000, after - 3000, after - 2000, after, after + 1000]);
  assert.deepEqual(v.ticks.t, v.series.cpu.t, "ticks moved once, not once per topic");
  const bs = v.computeBands(true, after + 1000);
  assert.deepEqual(bs.map((b) => [b.from, b.to, b.kind]), [[after - 2000, after, KIND_CLOCK]]);
  assert.equal(bandLabel(bs[0], fmt), `clock changed by −${fmt.duration(1_800_000)} at ${fmt.clock(after)}`);
  const [xmin, xmax] = v.xRange(10_000, true);
  assert.ok(xmin <= after - 4000 && xmax === after + 1000, "every sample is in the last 10 s");
});

test("a clock step forward keeps the earlier samples in view", () => {
  const v = new View(["cpu", "load"], { intervalMs: 1000 });
  for (const t of [1000, 2000, 3000]) feed(v, t);
  const after = 4000 + 7_200_000;
  feed(v, after, { clock_step: 7_200_000 });
  feed(v, after, { clock_step: 7_200_000 }, "again"); // a replay of the same tick: no second move
  v.trim(60_000);
  assert.deepEqual(v.series.cpu.t, [after - 4000, after - 3000, after - 2000, after]);
  assert.deepEqual(v.computeBands(true, after).map((b) => b.kind), [KIND_CLOCK]);
});
