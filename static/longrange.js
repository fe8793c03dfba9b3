// The dashboard's long ranges: a range picker beyond the live window (6 h
// to 1 y, custom from/to, a drag on any chart to zoom in) whose charts load
// from /api/range and, for a range that ends now, stay live through
// /events?topics=rollup resumed from the answer's rollup_after. The view
// is in the address (?range=7d or ?from=&to=), so a link reproduces it.
//
// The live ranges (5 min to the server's window) keep the page's own data
// path (hub.js) unchanged; this module takes the charts over only while a
// long range or a zoom is shown.

import { Stream } from "./stream.js";
import { Buckets, markGaps, parseView, plainSeries, pointsFor, viewSearch, viewSpan } from "./range.js";
import { chartColumns, csvName, toCSV } from "./csv.js";

// REFRESH_MS re-reads a range ending now from a server without rollups,
// which has no rollup stream to follow: about one new point per minute.
const REFRESH_MS = 60 * 1000;

// LongRange holds the long view's data. opts: url(path, query) (the hub's,
// carrying host and token), topics() (what the charts draw), width() (the
// charts' plot width, px), changed(picked) (schedule a frame; picked: the
// user asked for it), system(text), intervalMs() (the host's).
export class LongRange {
  constructor(opts) {
    this.o = opts;
    this.view = null; // {ms} or {from, to}; null: the live view
    this.buckets = {}; // topic -> Buckets
    this.gaps = [];
    this.tier = "";
    this.step = 60000;
    this.lastId = "";
    this.stream = null;
    this.timer = 0;
    this.gen = 0;
    this.cache = {}; // topic -> drawn series, until the buckets change
    this.loading = false;
    this.lastCSV = null;
  }

  get active() {
    return this.view !== null;
  }

  // show loads view's range for every topic; resolves when drawn data is in.
  async show(view) {
    this.stop();
    this.view = view;
    const gen = ++this.gen;
    const [from, to] = viewSpan(view, Date.now());
    const q = { from: String(Math.floor(from)), to: view.ms ? "now" : String(Math.ceil(to)), points: String(pointsFor(this.o.width())) };
    this.loading = true;
    this.o.changed(true);
    const topics = this.o.topics();
    // The first topic alone: its rollup_after is the oldest of the
    // answers' heads, so resuming there misses no topic's minute (one
    // another answer already holds is told apart by its time).
    const first = await this.load(topics[0], q);
    const rest = await Promise.all(topics.slice(1).map((t) => this.load(t, q)));
    if (gen !== this.gen) return;
    const answers = [first, ...rest].filter(Boolean);
    this.buckets = {};
    const gaps = new Map();
    for (const a of answers) {
      this.buckets[a.topic] = Buckets.fromAnswer(a);
      for (const g of a.gaps || []) gaps.set(`${g.kind}${g.from}-${g.to}`, { ...g, dated: true });
    }
    this.gaps = [...gaps.values()].sort((a, b) => a.from - b.from);
    this.tier = answers.length ? answers[0].tier : "";
    this.step = answers.length ? answers[0].step : 60000;
    this.lastId = first ? first.rollup_after : "";
    this.cache = {};
    this.loading = false;
    if (view.ms && answers.length) {
      if (this.tier === "raw") this.timer = setTimeout(() => gen === this.gen && this.show(view), REFRESH_MS);
      else this.follow();
    }
    this.o.changed(true);
  }

  async load(topic, q) {
    if (!topic) return null;
    try {
      const res = await fetch(this.o.url("/api/range", { ...q, topic }), { headers: { Accept: "application/json" } });
      const body = await res.json();
      if (res.ok) return body;
      // A topic this host lacks (no GPU) is not an error worth a line.
      if (body.param !== "topic") this.o.system(`range of ${topic}: ${body.error || res.status}`);
    } catch (e) {
      this.o.system(`range of ${topic}: ${e.message}`);
    }
    return null;
  }

  // follow folds each minute the server completes into the buckets,
  // resuming exactly where the answer ended (Last-Event-ID), across
  // reconnects too: a minute already folded is ignored by its time.
  follow() {
    const s = new Stream(this.o.url("/events", { topics: "rollup" }), {
      onHello: () => s.listen(s.es, "rollup"),
      onEvent: (topic, id, data) => {
        if (topic !== "rollup") return;
        if (id) this.lastId = id;
        this.take(data);
      },
      onCatchupStart: () => {},
      onCatchupProgress: () => {},
      onCatchupEnd: () => {},
      onState: () => {},
      onSystem: () => {},
      getLastId: () => this.lastId,
      // Minutes come once a minute: only ten silent ones mean a dead peer.
      intervalMs: () => 60000,
    });
    this.stream = s;
    s.connect();
  }

  // take folds one rollup event: {t, step, points: {topic: {count,
  // fields, marks}}}.
  take(data) {
    if (!data || !data.points || !this.view || !this.view.ms) return;
    const from = Date.now() - this.view.ms;
    let any = false;
    for (const [topic, p] of Object.entries(data.points)) {
      const b = this.buckets[topic];
      if (!b || !b.fold(Number(data.t), p, Number(data.step) || 60000)) continue;
      b.trimBefore(from);
      this.gaps.push(...markGaps(p.marks, this.o.intervalMs()).map((g) => ({ ...g, dated: true })));
      any = true;
    }
    if (any) {
      this.cache = {};
      this.o.changed();
    }
  }

  stop() {
    this.gen++;
    clearTimeout(this.timer);
    if (this.stream) this.stream.destroy();
    this.stream = null;
    this.view = null;
    this.cache = {};
  }

  xRange() {
    return viewSpan(this.view, Date.now());
  }

  stepMs() {
    return this.step;
  }

  bands() {
    return this.gaps;
  }

  // series is a topic's drawn points (series.js columns' input).
  series(topic) {
    if (!this.cache[topic]) this.cache[topic] = this.buckets[topic] ? this.buckets[topic].series() : plainSeries();
    return this.cache[topic];
  }

  // csv downloads what chart shows now.
  csv(chart, host) {
    const u = chart.u;
    if (!u || chart.def.heat) return;
    const xs = u.data[0];
    const { keep, cols } = chartColumns(chart.def.series, chart.samples);
    const [from, to] = chart.page.xRange();
    const text = toCSV(
      keep.map((i) => Math.round(xs[i] * 1000)),
      cols,
    );
    const name = csvName(host, chart.def.id, from, to);
    this.lastCSV = { name, rows: keep.length, head: text.slice(0, 200) };
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  snapshot() {
    const points = {};
    for (const [t, b] of Object.entries(this.buckets)) points[t] = b.count.filter(Boolean).length;
    return { view: this.view, loading: this.loading, tier: this.tier, step: this.step, points, gaps: this.gaps.length, lastCSV: this.lastCSV, rollupId: this.lastId };
  }
}

// setupRangePicker wires the picker: the long-range buttons, the custom
// form, the Back button, the charts' drag-to-zoom (page.zoom), a CSV button
// on every chart and the address. The live buttons ([data-range-ms]) keep
// their own handler (app.js); a press on one also leaves the long view.
// It returns go(view, push), which shows a view and records it.
export function setupRangePicker({ long, charts, host, changed }) {
  const live = [...document.querySelectorAll("[data-range-ms]")];
  const longs = [...document.querySelectorAll("[data-long-ms]")];
  const back = document.querySelector("#zoom-back");
  const form = document.querySelector("#custom-range");

  // Back returns to the view before the last pick or zoom. The view before
  // is kept in the history entry's state (history.state.rangeBack), so
  // Back and the browser's back button agree, across a reload too.
  const showBack = () => {
    if (back) back.hidden = !(history.state && history.state.rangeBack);
  };
  const pressed = (view) => {
    for (const b of longs) b.setAttribute("aria-pressed", String(!!view && view.ms === Number(b.dataset.longMs)));
    if (view) for (const b of live) b.setAttribute("aria-pressed", "false");
    showBack();
  };
  const current = () => long.view || { ms: Number(live.find((b) => b.getAttribute("aria-pressed") === "true")?.dataset.rangeMs) || 0 };
  const liveButton = (view) => view && view.ms && live.find((b) => Number(b.dataset.rangeMs) === view.ms && !b.disabled);
  const apply = (view) => {
    const btn = liveButton(view);
    if (btn) btn.click();
    else if (view) {
      pressed(view);
      long.show(view).then(changed);
    } else if (long.active) {
      // An address without a view is the live view the page opened with.
      long.stop();
      pressed(null);
      changed();
    }
  };

  // go shows view as a new history entry, so Back (or the browser's)
  // returns to the one shown now.
  const go = (view) => {
    // Synced charts each report the one drag: the first one counts.
    if (JSON.stringify(view) === JSON.stringify(long.view)) return;
    const url = location.pathname + viewSearch(location.search, view) + location.hash;
    history.pushState({ ...(history.state || {}), rangeBack: current() }, "", url);
    apply(view);
    showBack();
  };

  for (const b of live) {
    b.addEventListener("click", () => {
      if (long.active) long.stop();
      pressed(null);
      const url = location.pathname + viewSearch(location.search, { ms: Number(b.dataset.rangeMs) }) + location.hash;
      history.replaceState(history.state, "", url);
      changed();
    });
  }
  for (const b of longs) b.addEventListener("click", () => go({ ms: Number(b.dataset.longMs) }));
  if (back) back.addEventListener("click", () => history.back());
  if (form) {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const from = Date.parse(form.elements.from.value);
      const to = form.elements.to.value ? Date.parse(form.elements.to.value) : Date.now();
      if (!(from < to)) {
        form.elements.from.setCustomValidity("From must be before To");
        form.reportValidity();
        return;
      }
      form.elements.from.setCustomValidity("");
      go({ from, to });
    });
  }
  for (const c of charts) {
    if (c.def.heat) continue;
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "csv";
    btn.dataset.csv = c.def.id;
    btn.textContent = "CSV";
    btn.title = `Download ${c.def.title} of the range shown as CSV`;
    btn.addEventListener("click", () => long.csv(c, host()));
    // Right after the title, not after the values: those change width as
    // the pointer leaves the chart on its way here, and a button after
    // them could wrap away from under the pointer as it arrives.
    c.card.querySelector("header h2").after(btn);
  }
  addEventListener("popstate", () => apply(parseView(location.search)));
  // The address's view, on load (a live one is app.js's to press).
  const start = parseView(location.search);
  if (start && !liveButton(start)) apply(start);
  showBack();
  return go;
}
