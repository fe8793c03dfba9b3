// The dashboard's process and container tables. Rows are keyed (a process
// by pid and start time, a container by its id) and kept between ticks:
// a tick changes only the text that changed and moves, adds or removes
// whole rows, so nothing flickers. Everything the server sends is put on
// the page as text (textContent), never parsed as HTML. The arithmetic is
// in whatsusing.js, tested under node.

import * as fmt from "./format.js";
import { watchOnScreen } from "./onscreen.js";
import { procKey, procRows, procTrail, procHistory, sparkPath, containerBars, sortContainers } from "./whatsusing.js";
import { setText } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";

// SPARK_MS is how far back a row's sparkline reaches: long enough to tell
// a steady hog from a spike, short enough to stay readable 100 px wide.
const SPARK_MS = 3 * 60 * 1000;
const SPARK_W = 100;
const SPARK_H = 18;

// HISTORY_ROWS caps the filtered table: an hour at 1 s would be 3,600 rows.
const HISTORY_ROWS = 300;

function cell(tr, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  tr.append(td);
  return td;
}

// meter is a bar in the style of the filesystem bars (style.css .fsbar).
function meter(label) {
  const bar = document.createElement("span");
  bar.className = "fsbar";
  bar.setAttribute("role", "meter");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-label", label);
  bar.append(document.createElement("span"));
  return bar;
}

function setMeter(bar, pct) {
  const p = typeof pct === "number" ? pct : 0;
  bar.setAttribute("aria-valuenow", String(Math.round(p)));
  bar.firstChild.style.width = p + "%";
  bar.dataset.level = p >= 90 ? "crit" : p >= 75 ? "warn" : "ok";
}

// place drops the rows (a key -> tr map) whose key is not in seen, then
// puts want into tbody in order, moving only the rows out of place.
function place(tbody, rows, seen, want) {
  for (const [key, tr] of rows) {
    if (!seen.has(key)) {
      tr.remove();
      rows.delete(key);
    }
  }
  let at = tbody.firstChild;
  for (const tr of want) {
    if (tr === at) {
      at = at.nextSibling;
      continue;
    }
    tbody.insertBefore(tr, at);
  }
}

// ProcessTable draws the processes topic: the top list, or one process's
// rows through the raw window once a row is clicked.
export class ProcessTable {
  // page supplies latest(topic), series(topic) and intervalMs().
  constructor(section, page) {
    this.section = section;
    this.page = page;
    this.tbody = section.querySelector("#proc-rows");
    this.totals = section.querySelector("[data-proc-totals]");
    this.filterBar = section.querySelector("[data-proc-filter]");
    this.sortButtons = [...section.querySelectorAll("[data-proc-sort]")];
    this.by = "cpu";
    this.filter = null; // {key, name, pid} while filtered
    this.rows = new Map(); // key -> tr
    this.drawnT = null;
    this.seen = watchOnScreen(section, () => this.render());
    for (const b of this.sortButtons) {
      b.addEventListener("click", () => {
        this.by = b.dataset.procSort;
        for (const o of this.sortButtons) o.setAttribute("aria-pressed", String(o === b));
        this.drawnT = null;
        this.render();
      });
    }
    section.querySelector("[data-proc-clear]").addEventListener("click", () => this.setFilter(null));
  }

  setFilter(f) {
    this.filter = f;
    this.filterBar.hidden = !f;
    setText(this.section.querySelector("thead th"), f ? "Time" : "PID");
    if (f) setText(this.filterBar.firstElementChild, `History of ${f.name} (pid ${f.pid}) in the window held, newest first.`);
    this.clear();
    this.render();
  }

  clear() {
    this.tbody.replaceChildren();
    this.rows.clear();
    this.drawnT = null;
  }

  // reset forgets what was drawn and any filter (another host is shown).
  reset() {
    this.setFilter(null);
  }

  // render draws the newest sample; a frame without a new one costs
  // nothing, nor does one while the table is out of sight once it has
  // drawn (the rows' text, sparklines and layout are most of a tick's
  // work): it draws the newest when it comes into view, or when force.
  render(force = false) {
    const latest = this.page.latest("processes");
    if (!latest || latest.t === this.drawnT) return;
    if (!force && !this.seen.on && this.drawnT !== null) return;
    this.drawnT = latest.t;
    const f = (v) => fmt.num(v, 0);
    const forks = typeof latest.forks_per_s === "number" ? ` · ${fmt.num(latest.forks_per_s, 1)} forks/s` : "";
    setText(this.totals, `${f(latest.processes)} processes · ${f(latest.threads)} threads · ${f(latest.running)} running · ${f(latest.blocked)} blocked${forks}`);
    if (this.filter) this.renderHistory();
    else this.renderTop(latest);
  }

  renderTop(latest) {
    const series = this.page.series("processes");
    const points = Math.max(2, Math.ceil(SPARK_MS / this.page.intervalMs()));
    const want = [];
    const seen = new Set();
    for (const r of procRows(latest, this.by)) {
      const key = procKey(r);
      if (seen.has(key)) continue;
      seen.add(key);
      let tr = this.rows.get(key);
      if (!tr) {
        tr = this.newRow(key, r);
        this.rows.set(key, tr);
      }
      this.fill(tr, r);
      const trail = procTrail(series, key, "cpu_pct", points);
      tr.querySelector("path").setAttribute("d", sparkPath(trail, SPARK_W, SPARK_H, 100));
      want.push(tr);
    }
    place(this.tbody, this.rows, seen, want);
  }

  newRow(key, r) {
    const tr = document.createElement("tr");
    tr.dataset.key = key;
    tr.tabIndex = 0;
    tr.title = "Show this process's history";
    for (const cls of ["num", "", "", "", "num", "num", "num"]) cell(tr, cls);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${SPARK_W} ${SPARK_H}`);
    svg.setAttribute("class", "spark");
    svg.setAttribute("aria-hidden", "true");
    svg.append(document.createElementNS(SVG, "path"));
    cell(tr, "spark-cell").append(svg);
    const pick = () => this.setFilter({ key, name: String(r.name), pid: r.pid });
    tr.addEventListener("click", pick);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pick();
      }
    });
    return tr;
  }

  // fill writes a row's cells; the first is the pid, or the time in the
  // history view.
  fill(tr, r, first = String(r.pid)) {
    const c = tr.children;
    setText(c[0], first);
    setText(c[1], String(r.name ?? ""));
    c[1].title = typeof r.cmdline === "string" && r.cmdline ? r.cmdline : String(r.name ?? "");
    setText(c[2], String(r.user ?? ""));
    setText(c[3], String(r.state ?? ""));
    setText(c[4], fmt.pct(r.cpu_pct));
    setText(c[5], fmt.bytes(r.rss));
    setText(c[6], fmt.num(r.threads, 0));
  }

  renderHistory() {
    const hist = procHistory(this.page.series("processes"), this.filter.key).slice(0, HISTORY_ROWS);
    const want = [];
    const seen = new Set();
    for (const { t, row } of hist) {
      const key = String(t);
      seen.add(key);
      let tr = this.rows.get(key);
      if (!tr) {
        tr = document.createElement("tr");
        tr.dataset.t = key;
        for (const cls of ["num", "", "", "", "num", "num", "num", ""]) cell(tr, cls);
        this.rows.set(key, tr);
      }
      this.fill(tr, row, fmt.clock(t));
      want.push(tr);
    }
    place(this.tbody, this.rows, seen, want);
  }

  // snapshot is what the test hook reports: the table as it reads once
  // scrolled to, so it is brought up to date first.
  snapshot() {
    this.render(true);
    return { rows: this.rows.size, filtered: !!this.filter, keys: [...this.rows.keys()] };
  }
}

// ContainerTable draws the containers topic, one row per container or
// service, with CPU and memory bars against their limits.
export class ContainerTable {
  // page supplies latest(topic), hostCores() and hostMemory().
  constructor(section, page) {
    this.section = section;
    this.page = page;
    this.tbody = section.querySelector("#ctr-rows");
    this.totals = section.querySelector("[data-ctr-totals]");
    this.scroll = section.querySelector(".table-scroll");
    this.rows = new Map(); // id -> tr
    this.drawnT = null;
    this.seen = watchOnScreen(section, () => this.render());
  }

  // render draws the newest sample, as ProcessTable.render does.
  render(force = false) {
    const latest = this.page.latest("containers");
    if (!latest || latest.t === this.drawnT) return;
    if (!force && !this.seen.on && this.drawnT !== null) return;
    this.drawnT = latest.t;
    const list = sortContainers(latest.containers);
    setText(this.totals, list.length ? `${list.length} running` : "none found");
    // A table of headings over no rows reads as a page still loading.
    this.scroll.hidden = list.length === 0;
    const want = [];
    const seen = new Set();
    for (const c of list) {
      seen.add(c.id);
      let tr = this.rows.get(c.id);
      if (!tr) {
        tr = this.newRow(c);
        this.rows.set(c.id, tr);
      }
      this.fill(tr, c);
      want.push(tr);
    }
    place(this.tbody, this.rows, seen, want);
  }

  newRow(c) {
    const tr = document.createElement("tr");
    tr.dataset.key = c.id;
    cell(tr);
    cell(tr);
    for (const what of ["CPU", "memory"]) {
      const td = cell(tr, "bar-cell");
      const txt = document.createElement("span");
      txt.className = "fstext";
      td.append(meter(`${String(c.name)} ${what}`), txt);
    }
    cell(tr, "num");
    cell(tr, "num");
    return tr;
  }

  fill(tr, c) {
    const [name, kind, cpu, mem, net, io] = tr.children;
    setText(name, String(c.name ?? c.id));
    name.title = String(c.cgroup ?? c.id);
    setText(kind, String(c.kind ?? ""));
    const bars = containerBars(c, this.page.hostCores(), this.page.hostMemory());
    setMeter(cpu.firstChild, bars.cpu);
    setText(cpu.lastChild, fmt.pct(c.cpu_pct));
    setMeter(mem.firstChild, bars.mem);
    setText(mem.lastChild, bars.memLimited ? `${fmt.bytes(c.mem_used)} / ${fmt.bytes(c.mem_limit)}` : `${fmt.bytes(c.mem_used)} (no limit)`);
    setText(net, typeof c.net_rx === "number" || typeof c.net_tx === "number" ? `${fmt.rate(c.net_rx)} / ${fmt.rate(c.net_tx)}` : "host network");
    setText(io, `${fmt.rate(c.io_read)} / ${fmt.rate(c.io_write)}`);
  }

  // reset forgets what was drawn (another host is shown).
  reset() {
    this.tbody.replaceChildren();
    this.rows.clear();
    this.drawnT = null;
  }

  snapshot() {
    this.render(true);
    return { rows: this.rows.size, keys: [...this.rows.keys()] };
  }
}
