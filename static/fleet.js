// The host picker and the fleet overview: both show the rows of /api/fleet
// (every known host, its newest figures and a CPU sparkline) and stay
// hidden while the server knows only one host, so the single-machine
// dashboard looks as it always did.
//
// The rows come live on the page's own /events stream (?fleet=true, the
// "fleet" event: take), so they move with the ticks like the charts, and
// the host shown reads exactly what the "Now" line reads (its figures are
// the page's own, overlay). Browsers allow about six HTTP/1.1 connections
// per origin: the fleet takes no second one. /api/fleet is read once at
// start (the picker shows before the stream is up) and, slowly, while
// there is one host, to notice a second joining. Everything from the
// server goes on the page as text or as numbers in SVG attributes, never
// as markup.

import * as fmt from "./format.js";
import { setText, setAttr, setHidden } from "./dom.js";

// Poll every 5 s while there are several hosts: five samples at the
// default 1 s interval, fresh enough for a glance at the fleet and cheap
// for the server. With a single host nothing is shown; a slow poll only
// notices a second host joining.
export const POLL_MS = 5000;
export const POLL_ONE_HOST_MS = 30000;

const SVG = "http://www.w3.org/2000/svg";
const SPARK_W = 120; // CSS pixels; the table column is sized for it
const SPARK_H = 24;

// sparkSegments turns sample times and CPU percents into SVG polyline
// point lists, one per run of samples without a gap, scaled to w×h with
// 0 % at the bottom and 100 % at the top. A gap is a step over 2.5 times
// the usual step (the median): the host was down or not sampling, and a
// line across that time would suggest values nobody measured.
export function sparkSegments(ts, vs, w = SPARK_W, h = SPARK_H) {
  const n = Math.min(ts.length, vs.length);
  if (n === 0) return [];
  const t0 = ts[0];
  const span = ts[n - 1] - t0;
  const steps = [];
  for (let i = 1; i < n; i++) steps.push(ts[i] - ts[i - 1]);
  steps.sort((a, b) => a - b);
  const usual = steps.length ? steps[Math.floor(steps.length / 2)] : 0;
  const x = (t) => (span > 0 ? ((t - t0) / span) * w : w);
  const y = (v) => h - (Math.max(0, Math.min(100, v)) / 100) * h;
  const r = (v) => Math.round(v * 10) / 10;
  const out = [];
  let cur = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && usual > 0 && ts[i] - ts[i - 1] > 2.5 * usual) {
      out.push(cur.join(" "));
      cur = [];
    }
    cur.push(`${r(x(ts[i]))},${r(y(vs[i]))}`);
  }
  out.push(cur.join(" "));
  return out;
}

// mergeFleet applies a "fleet" event to the rows held: a whole list, or
// with append each row's new sparkline samples after those held, keeping
// the newest points.
export function mergeFleet(held, ev, points) {
  const hosts = Array.isArray(ev.hosts) ? ev.hosts.filter((h) => h && typeof h.name === "string") : [];
  if (!ev.append) return hosts;
  const before = new Map(held.map((h) => [h.name, h]));
  return hosts.map((h) => {
    const old = before.get(h.name);
    const s = h.spark || {};
    if (!old || !old.spark) return h;
    const keep = (a, b) => [...(Array.isArray(a) ? a : []), ...(Array.isArray(b) ? b : [])].slice(-points);
    return { ...h, spark: { t: keep(old.spark.t, s.t), cpu: keep(old.spark.cpu, s.cpu) } };
  });
}

// rowText is what one overview row says, as plain strings; net formats
// the network rates (the unit the charts show).
export function rowText(row, net = fmt.rate) {
  const mem =
    fmt.isNum(row.memory_percent) && fmt.isNum(row.memory_total)
      ? `${fmt.pct(row.memory_percent)} of ${fmt.bytes(row.memory_total)}`
      : fmt.pct(row.memory_percent);
  let status = row.live ? "live" : "offline";
  if (!row.live && row.last_seen > 0) status = `offline since ${fmt.clock(row.last_seen)}`;
  if (row.error) status += " (no data)";
  return {
    status,
    cpu: fmt.pct(row.cpu),
    memory: mem,
    load: fmt.num(row.load1),
    network: `${net(row.rx_bps)} / ${net(row.tx_bps)}`,
  };
}

// sparkKey tells whether a row's sparkline changed since it was drawn.
function sparkKey(h) {
  const t = h.spark && Array.isArray(h.spark.t) ? h.spark.t : [];
  return `${t.length}:${t[0]}:${t[t.length - 1]}:${h.live}`;
}

// hostSearch is the page's query string after picking host: ?host= names
// it, or is dropped for the server's own host so the plain address stays
// the plain dashboard. Other parameters are kept.
export function hostSearch(search, host, self) {
  const q = new URLSearchParams(search);
  if (!host || host === self) q.delete("host");
  else q.set("host", host);
  const s = q.toString();
  return s ? "?" + s : "";
}

// optionLabel is a picker entry: offline hosts say so, since a <select>
// can't show colour.
export function optionLabel(h) {
  return h.live ? h.name : `${h.name} (offline)`;
}

// Fleet owns the picker, the overview table and their poll.
export class Fleet {
  // opts: current() -> the host shown, onPick(name), self (the server's
  // own host name), points (sparkline samples), overlay() -> the shown
  // host's newest figures as the page holds them (row fields) or null,
  // net(bytesPerSecond) -> text.
  constructor(opts) {
    this.o = opts;
    this.hosts = []; // the last /api/fleet rows
    this.rows = new Map(); // name -> <tr>
    this.timer = 0;
    this.polls = 0;
    this.streamed = 0; // "fleet" events taken
    this.box = document.getElementById("fleet");
    this.tbody = document.getElementById("fleet-rows");
    this.pick = document.getElementById("hostpick");
    this.select = document.getElementById("host-pick");
    this.select.addEventListener("change", () => this.o.onPick(this.select.value));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.poll();
    });
  }

  start() {
    this.poll();
  }

  // take applies a "fleet" event from the stream; from then on the
  // stream keeps the rows and the poll only stands by. The rows are drawn
  // by the page's next frame (render), with the tick they came with: the
  // row of the host shown must read what its Now line reads.
  take(ev) {
    this.streamed++;
    this.hosts = mergeFleet(this.hosts, ev, this.o.points);
  }

  // poll fetches /api/fleet and schedules the next one: until the stream
  // delivers the rows, and slowly while there is one host (a stream of
  // one host's server says nothing of a second joining). A hidden tab
  // skips polls (it resumes on visibilitychange); a failed poll keeps the
  // last rows.
  async poll() {
    clearTimeout(this.timer);
    let many = this.hosts.length > 1;
    if (this.streamed) return; // the stream keeps the rows, a new host included
    if (!document.hidden) {
      try {
        const res = await fetch(`/api/fleet?points=${this.o.points}`, { headers: { Accept: "application/json" } });
        if (res.ok) {
          const body = await res.json();
          this.hosts = Array.isArray(body.hosts) ? body.hosts.filter((h) => h && typeof h.name === "string") : [];
          this.polls++;
          this.render();
          many = this.hosts.length > 1;
        }
      } catch {
        /* the stream's badge already says the server is away */
      }
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poll(), many ? POLL_MS : POLL_ONE_HOST_MS);
  }

  // status is the row of the host shown, or null.
  status(name) {
    return this.hosts.find((h) => h.name === name) || null;
  }

  render() {
    this.renderPicker();
    this.renderRows();
  }

  // renderPicker draws the host picker, shown once there are two hosts.
  renderPicker() {
    setHidden(this.pick, this.hosts.length < 2);
    const cur = this.o.current();
    const names = this.hosts.map((h) => h.name);
    // A host named in the address but not (or no longer) known stays
    // selectable, so the picker never claims another host is shown.
    if (cur && !names.includes(cur)) names.push(cur);
    const opts = [...this.select.options];
    if (opts.length !== names.length || opts.some((o, i) => o.value !== names[i])) {
      this.select.replaceChildren(
        ...names.map((n) => {
          const o = document.createElement("option");
          o.value = n;
          return o;
        }),
      );
    }
    for (const o of this.select.options) {
      const h = this.status(o.value);
      setText(o, h ? optionLabel(h) : `${o.value} (unknown)`);
      setAttr(o, "data-live", String(!!(h && h.live)));
    }
    if (this.select.value !== cur) this.select.value = cur;
    const h = this.status(cur);
    setAttr(this.pick, "data-live", String(!h || !!h.live));
  }

  // renderRows draws the table. One host has none (its figures are the
  // Now line's): nothing to keep current until a second host comes.
  renderRows() {
    const many = this.hosts.length > 1;
    setHidden(this.box, !many);
    if (!many) return;
    const cur = this.o.current();
    const seen = new Set();
    const own = this.o.overlay ? this.o.overlay() : null;
    // The page calls this every frame: it moves a row and writes a text or
    // an attribute only when it changed, so an unchanged frame costs no
    // style or layout work.
    let at = this.tbody.firstChild;
    for (const row of this.hosts) {
      // The host shown reads what its "Now" line reads.
      const h = row.name === cur && own ? { ...row, ...own } : row;
      seen.add(h.name);
      let tr = this.rows.get(h.name);
      if (!tr) tr = this.newRow(h.name);
      // The server's order (by name).
      if (tr === at) at = at.nextSibling;
      else this.tbody.insertBefore(tr, at);
      const t = rowText(h, this.o.net);
      const [name, status, cpu, mem, load, net, spark] = tr.children;
      const btn = name.firstChild;
      setText(btn, h.name);
      setAttr(btn, "aria-pressed", String(h.name === cur));
      setAttr(tr, "data-live", String(!!h.live));
      setAttr(tr, "data-t", String(Number(h.t) || 0));
      tr.classList.toggle("current", h.name === cur);
      setAttr(tr, "aria-current", h.name === cur ? "true" : null);
      setText(status, t.status);
      setAttr(status, "title", h.error ? String(h.error) : null);
      setText(cpu, t.cpu);
      setText(mem, t.memory);
      setText(load, t.load);
      setText(net, t.network);
      if (spark.firstChild.dataset.key !== sparkKey(h)) this.drawSpark(spark.firstChild, h);
    }
    for (const [name, tr] of this.rows) {
      if (!seen.has(name)) {
        tr.remove();
        this.rows.delete(name);
      }
    }
  }

  newRow(name) {
    const tr = document.createElement("tr");
    tr.dataset.host = name;
    const cells = ["name", "state", "num", "num", "num", "num", "spark"].map((cls) => {
      const td = document.createElement(cls === "name" ? "th" : "td");
      td.className = cls;
      return td;
    });
    cells[0].scope = "row";
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "hostbtn";
    btn.title = "Show this host's charts";
    btn.addEventListener("click", () => this.o.onPick(name));
    cells[0].append(btn);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${SPARK_W} ${SPARK_H}`);
    svg.setAttribute("width", String(SPARK_W));
    svg.setAttribute("height", String(SPARK_H));
    svg.setAttribute("role", "img");
    cells[6].append(svg);
    tr.append(...cells);
    this.rows.set(name, tr);
    return tr;
  }

  drawSpark(svg, h) {
    const s = h.spark || {};
    const ts = Array.isArray(s.t) ? s.t.map(Number) : [];
    const vs = Array.isArray(s.cpu) ? s.cpu.map(Number) : [];
    const segs = sparkSegments(ts, vs);
    const lines = segs.map((pts) => {
      const pl = document.createElementNS(SVG, "polyline");
      pl.setAttribute("points", pts);
      return pl;
    });
    svg.replaceChildren(...lines);
    svg.dataset.points = String(Math.min(ts.length, vs.length));
    svg.dataset.key = sparkKey(h);
    const last = vs.length ? fmt.pct(vs[vs.length - 1]) : "no data";
    svg.setAttribute("aria-label", `${h.name} CPU over the last ${vs.length} samples, now ${last}`);
  }

  // snapshot is the test hook's view of the overview.
  snapshot() {
    return {
      polls: this.polls,
      streamed: this.streamed,
      shown: !this.box.hidden,
      picker: this.pick.hidden ? [] : [...this.select.options].map((o) => ({ value: o.value, label: o.textContent })),
      selected: this.select.value,
      rows: [...this.tbody.children].map((tr) => ({
        host: tr.dataset.host,
        live: tr.dataset.live === "true",
        t: Number(tr.dataset.t || 0),
        current: tr.classList.contains("current"),
        cells: [...tr.children].slice(1, 6).map((td) => td.textContent),
        sparkPoints: Number(tr.querySelector("svg").dataset.points || 0),
      })),
    };
  }
}
