// <vitals-chart>: one live vitals chart for any page, from one script tag.
//
//   <script type="module" src="http://host:8080/static/embed.js"></script>
//   <vitals-chart src="http://host:8080" topic="cpu" fields="total,iowait" range="5m"></vitals-chart>
//
// Each element draws in its own shadow root, so the page's CSS can't reach
// in and ours can't leak out; colours come from --vitals-* custom properties
// (docs/embedding.md lists them). It resumes exactly like the dashboard:
// the newest id drawn is kept per server in localStorage and sent as
// ?lastEventId= on every (re)connect, and it shows the same catch-up line and
// offline bands.
//
// Every element naming the same server shares one Hub (hub.js, the data
// path the dashboard uses too), and a Hub holds one Stream (one
// EventSource) subscribed to the union of its elements' topics:
// browsers allow about six HTTP/1.1 connections per host, so a page with
// eight charts must not open eight streams. The modules this file imports
// (and uPlot, through charts.js) resolve relative to this file's own URL,
// so they come from the same vitals server whatever page loads it.
//
// Everything the server sends reaches the page as text (textContent), never
// as HTML.

import * as fmt from "./format.js";
import { Chart, DEFS } from "./charts.js";
import * as st from "./stream.js";
import { badge, shownState } from "./view.js";
import { Hub } from "./hub.js";
import { theme, onSystemScheme } from "./palette.js";
import { withUnit } from "./units.js";

// The server this file came from: the default src.
const HOME = new URL("..", import.meta.url).href.replace(/\/$/, "");
const UPLOT_CSS = new URL("./vendor/uPlot.min.css", import.meta.url).href;
const PALETTE_CSS = new URL("./palette.css", import.meta.url).href;
const POS_PREFIX = "vitals.embed.position "; // + server URL: {id, t, instance}

// DEFAULT_RANGE_MS matches the dashboard's first range button.
const DEFAULT_RANGE_MS = 5 * 60 * 1000;

// parseRange reads "5m", "15m", "1h", "90s" as milliseconds, or null.
export function parseRange(s) {
  const m = /^\s*(\d{1,5})\s*(s|m|h)\s*$/.exec(String(s ?? ""));
  if (!m || Number(m[1]) === 0) return null;
  return Number(m[1]) * { s: 1000, m: 60000, h: 3600000 }[m[2]];
}

// normalSrc turns a src attribute into the server's base URL without a
// trailing slash, relative to the page ("" means this file's server).
export function normalSrc(src) {
  if (!src) return HOME;
  const u = new URL(src, location.href);
  u.search = "";
  u.hash = "";
  return u.href.replace(/\/+$/, "");
}

// ---- shared state per server ----------------------------------------------

const servers = new Map(); // key: src + token -> Server

function serverFor(src, token) {
  const key = src + "\n" + token;
  let s = servers.get(key);
  if (!s) {
    s = new Server(key, src, token);
    servers.set(key, s);
  }
  return s;
}

// Server is one server's elements and the Hub (hub.js) they share.
class Server {
  constructor(key, src, token) {
    this.key = key;
    this.src = src;
    this.elements = new Set();
    this.error = ""; // why the first connect fails, once known
    this.startTimer = 0;
    this.hub = new Hub({
      base: src,
      params: { token },
      subscribe: true,
      positionKeys: [POS_PREFIX + src],
      rangeMs: () => this.maxRangeMs(),
      hooks: {
        frame: () => {
          for (const el of this.elements) el.render();
        },
        hello: () => {
          this.error = "";
        },
        state: () => {
          const s = this.hub.stream;
          if (s && !s.everConnected && s.failures > 0) this.diagnose();
        },
      },
    });
    const stored = this.hub.loadPosition();
    if (stored) this.hub.resume(stored);
  }

  add(el) {
    this.elements.add(el);
    this.hub.addTopic(el.def.topic);
    // Start (or widen the stream) once the current task has added all its
    // elements: a page's charts upgrade in one go and must share one open.
    clearTimeout(this.startTimer);
    this.startTimer = setTimeout(() => {
      if (this.elements.size) this.hub.sync();
    }, 0);
    this.hub.schedule();
  }

  remove(el) {
    this.elements.delete(el);
    // An element moved in the DOM leaves and comes back in one task; only
    // close when nobody came back.
    setTimeout(() => {
      if (this.elements.size === 0 && servers.get(this.key) === this) this.destroy();
    }, 0);
  }

  destroy() {
    servers.delete(this.key);
    clearTimeout(this.startTimer);
    this.hub.destroy();
  }

  // maxRangeMs is the widest element's window: the one the hub keeps.
  maxRangeMs() {
    let m = 0;
    for (const el of this.elements) m = Math.max(m, el.rangeMs);
    return m || DEFAULT_RANGE_MS;
  }

  // diagnose asks the API why the stream can't open, once: a wrong token
  // answers 401 (readable, CORS headers come before the token check), while
  // a refused origin or a server that is down makes fetch throw.
  async diagnose() {
    if (this.diagnosing) return;
    this.diagnosing = true;
    let why;
    try {
      const res = await fetch(this.hub.url("/api/history", { limit: 1 }), { headers: { Accept: "application/json" } });
      if (res.status === 401 || res.status === 403) why = "access token missing or wrong";
      else if (!res.ok) why = `server answered ${res.status}`;
      else why = "the stream failed although the API answers";
    } catch {
      why = "server unreachable, or this page's origin is not allowed (--cors-origins)";
    }
    this.diagnosing = false;
    const s = this.hub.stream;
    if (!s || s.everConnected) return;
    this.error = why;
    this.hub.schedule();
  }

  // badge is the status line's text, as the dashboard words it.
  // One line, so "Offline since" carries the next try in brackets.
  badge() {
    const s = this.hub.stream;
    if (!s) return ["connecting", "Connecting…"];
    if (!s.everConnected && this.error) return ["error", "Can't connect"];
    const down = this.hub.view.hostDown;
    const [main, sub] = badge(s, this.hub.cu, down);
    const state = shownState(s, down);
    return [state, state === st.STATE_OFFLINE ? `${main} (${sub})` : main];
  }

  // detail is the line under the header that says why nothing comes.
  detail() {
    const s = this.hub.stream;
    if (!s || s.everConnected || !this.error) return "";
    const retry = s.secondsToRetry();
    return `${this.error}; ${retry === null ? "trying now" : `next try in ${retry} s`}.`;
  }
}

// ---- styles ---------------------------------------------------------------

// The colours are palette.css's, the dashboard's own, adopted into every
// shadow root: each is a --vitals-* property with a default, so a page
// themes the element through the documented names only, and the
// dashboard's own --s1... names on a page's :root can't leak in. The
// theme attribute picks the half of each light-dark() pair.
const CSS = `
:host {
  all: initial;
  display: block;
  contain: content;
  color-scheme: light;
  --font: var(--vitals-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-family: var(--font);
  font-size: var(--vitals-font-size, 14px);
  line-height: 1.4;
  color: var(--text);
}
:host([theme="dark"]) { color-scheme: dark; }
:host([theme="auto"]) { color-scheme: light dark; }
:host([hidden]) { display: none; }
[hidden] { display: none !important; }
.card {
  background: var(--card);
  border: var(--vitals-border-width, 1px) solid var(--line);
  border-radius: var(--vitals-radius, 8px);
  padding: var(--vitals-padding, 0.6em 0.75em 0.4em);
  box-sizing: border-box;
  height: 100%;
  min-width: 0;
}
.head { display: flex; align-items: baseline; gap: 0.6em; flex-wrap: wrap; }
.title { font-weight: 600; }
.host { color: var(--muted); font-size: 0.85em; }
.badge { margin-left: auto; font-size: 0.8em; color: var(--muted); display: inline-flex; align-items: center; gap: 0.35em; }
.badge::before { content: ""; width: 0.6em; height: 0.6em; border-radius: 50%; background: var(--muted); }
.badge[data-state="live"]::before { background: var(--live); }
.badge[data-state="catchup"]::before { background: var(--s5); }
.badge[data-state="reconnecting"]::before { background: var(--warn); }
.badge[data-state="offline"]::before, .badge[data-state="disconnected"]::before, .badge[data-state="error"]::before { background: var(--bad); }
.badge[data-state="error"] { color: var(--bad); }
.catchup { display: flex; align-items: center; gap: 0.5em; font-size: 0.8em; color: var(--muted); margin-top: 0.25em; transition: opacity 1s; }
.catchup.warn { color: var(--warn); }
.catchup.fade { opacity: 0; }
.catchup progress { width: 8em; height: 0.6em; }
.values { display: flex; flex-wrap: wrap; gap: 0.2em 0.9em; font-size: 0.8em; color: var(--muted); margin: 0.3em 0 0.2em; min-height: 1.4em; }
.heat-legend { display: inline-flex; align-items: center; gap: 0.3em; margin-left: auto; }
.heat-scale { display: inline-block; width: 6em; height: 0.6em; border-radius: 2px; }
.val { display: inline-flex; align-items: center; gap: 0.3em; white-space: nowrap; }
.val b { color: var(--text); font-weight: 600; font-variant-numeric: tabular-nums; }
.sw { display: inline-block; width: 0.8em; height: 0.25em; border-radius: 2px; }
.plot { position: relative; min-width: 0; }
.tip {
  position: absolute; z-index: 10; pointer-events: none; white-space: nowrap;
  background: var(--card); color: var(--text); border: 1px solid var(--line); border-radius: 6px;
  padding: 0.35em 0.5em; font-size: 0.8em; box-shadow: 0 2px 8px #0003;
}
.tip div { display: flex; align-items: center; gap: 0.4em; }
.tip b { margin-left: auto; padding-left: 0.8em; font-variant-numeric: tabular-nums; }
.problem { color: var(--bad); font-size: 0.9em; }
`;

// Sheets are built once per document and adopted by every element: a
// constructed sheet is not inline style as far as a page's CSP goes, and
// the palette and uPlot's sheet are fetched once however many charts there
// are.
const OWN_SHEET = new CSSStyleSheet();
OWN_SHEET.replaceSync(CSS);
const sheets = new Map(); // url -> Promise<CSSStyleSheet | null>
async function loadSheet(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(await res.text());
  return sheet;
}
function sheet(url) {
  if (!sheets.has(url)) {
    sheets.set(
      url,
      loadSheet(url).catch((e) => {
        console.warn("vitals-chart: could not load a style sheet:", e.message);
        return null;
      }),
    );
  }
  return sheets.get(url);
}

// ---- the element ------------------------------------------------------------

export class VitalsChart extends HTMLElement {
  static observedAttributes = ["src", "topic", "fields", "range", "token", "label", "theme", "unit"];

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    this.server = null;
    this.chart = null;
    this.def = null;
    this.rangeMs = DEFAULT_RANGE_MS;
    this.problem = "";
    this.configurePending = false;
    this.built = false;

    const el = (tag, cls, part) => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (part) e.setAttribute("part", part);
      return e;
    };
    this.card = el("div", "card", "card");
    const head = el("div", "head", "header");
    this.titleEl = el("span", "title", "title");
    this.hostEl = el("span", "host", "host");
    this.badgeEl = el("span", "badge", "badge");
    this.badgeEl.dataset.state = "connecting";
    this.badgeEl.textContent = "Connecting…";
    head.append(this.titleEl, this.hostEl, this.badgeEl);
    this.catchupEl = el("div", "catchup", "catchup");
    this.catchupEl.setAttribute("role", "status");
    this.catchupEl.setAttribute("aria-live", "polite");
    this.catchupEl.hidden = true;
    this.barEl = el("progress");
    this.barEl.max = 1;
    this.catchupText = el("span");
    this.catchupEl.append(this.barEl, this.catchupText);
    this.problemEl = el("div", "problem", "problem");
    this.problemEl.hidden = true;
    this.valuesEl = el("div", "values", "values");
    this.valuesEl.setAttribute("data-values", "");
    this.plotEl = el("div", "plot", "plot");
    this.plotEl.setAttribute("data-plot", "");
    this.plotEl.setAttribute("role", "img");
    this.card.append(head, this.catchupEl, this.problemEl, this.valuesEl, this.plotEl);
    this.root.append(this.card);

    this.resizer = new ResizeObserver((entries) => {
      for (const e of entries) if (this.chart) this.chart.resize(Math.floor(e.contentRect.width));
    });
    this.root.adoptedStyleSheets = [OWN_SHEET];
    Promise.all([sheet(UPLOT_CSS), sheet(PALETTE_CSS)]).then((loaded) => {
      // Ours last, so it wins over uPlot's where both style a thing. The
      // chart was built before the palette came: build it again.
      this.root.adoptedStyleSheets = [...loaded.filter(Boolean), OWN_SHEET];
      this.rebuild();
    });
  }

  connectedCallback() {
    this.configure();
    this.resizer.observe(this.plotEl);
  }

  disconnectedCallback() {
    this.resizer.disconnect();
    this.leave();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.configure();
  }

  // configure (re)joins the right server once per task, however many
  // attributes changed: an upgrade reports each attribute in turn.
  configure() {
    if (this.configurePending) return;
    this.configurePending = true;
    queueMicrotask(() => {
      this.configurePending = false;
      if (!this.isConnected) return;
      this.leave();
      this.join();
    });
  }

  join() {
    this.problem = "";
    const topic = (this.getAttribute("topic") || "").trim();
    // unit picks the unit of a chart that has a choice (network: bits or
    // bytes; memory: bytes or percent), else its default.
    const found = DEFS.find((d) => d.id === topic);
    const base = found && withUnit(found, (this.getAttribute("unit") || "").trim());
    const range = this.hasAttribute("range") ? parseRange(this.getAttribute("range")) : DEFAULT_RANGE_MS;
    let src;
    try {
      src = normalSrc(this.getAttribute("src"));
    } catch {
      this.problem = `src ${JSON.stringify(this.getAttribute("src"))} is not a URL`;
    }
    if (!base) this.problem = `unknown topic ${JSON.stringify(topic)}: use one of ${DEFS.map((d) => d.id).join(", ")}`;
    else if (range === null) this.problem = `range ${JSON.stringify(this.getAttribute("range"))} is not like 5m, 15m or 1h`;
    let def = base;
    if (!this.problem && base && !base.heat && this.hasAttribute("fields")) {
      const want = this.getAttribute("fields").split(",").map((f) => f.trim()).filter(Boolean);
      const pick = (list) => (list || []).filter((s) => want.includes(s.key) || want.includes(s.label));
      def = { ...base, series: pick(base.series), extras: pick(base.extras) };
      const unknown = want.filter((f) => ![...base.series, ...(base.extras || [])].some((s) => s.key === f || s.label === f));
      if (unknown.length || !def.series.length) {
        const keys = base.series.map((s) => s.key).join(", ");
        this.problem = `${topic} has no field ${JSON.stringify(unknown[0] ?? "")}: use some of ${keys}`;
      }
    }
    this.titleEl.textContent = this.getAttribute("label") || (base ? base.title : topic);
    if (this.problem) {
      this.problemEl.textContent = "vitals-chart: " + this.problem;
      this.problemEl.hidden = false;
      this.badgeEl.dataset.state = "error";
      this.badgeEl.textContent = "Not configured";
      return;
    }
    this.problemEl.hidden = true;
    this.def = def;
    this.rangeMs = range;
    this.plotEl.setAttribute("aria-label", `${this.titleEl.textContent}: ${def.heat ? "busy percent per core" : def.series.map((s) => s.label).join(", ")} over the last ${fmt.duration(range)}`);
    // The read token: the attribute, or on a page of the server itself (the
    // /embed iframe) the page's own ?token=.
    let token = this.getAttribute("token") || "";
    if (!token && new URL(src).origin === location.origin) {
      token = new URLSearchParams(location.search).get("token") || "";
    }
    this.server = serverFor(src, token);
    const server = this.server;
    const hub = server.hub;
    const v = hub.view;
    this.page = {
      intervalMs: () => v.intervalMs,
      xRange: () => v.xRange(this.rangeMs, hub.connected()),
      bands: () => v.bands,
      latest: (t) => v.latest[t],
      coreCount: () => v.coreCount(),
      height: () => parseFloat(getComputedStyle(this).getPropertyValue("--vitals-height")) || 160,
      fontPx: () => parseFloat(getComputedStyle(this).fontSize) || 14,
    };
    this.chart = new Chart(def, this.card, this.page);
    this.rebuild();
    server.add(this);
  }

  leave() {
    if (this.server) this.server.remove(this);
    this.server = null;
    if (this.chart) this.chart.destroy();
    this.chart = null;
  }

  rebuild() {
    if (!this.chart) return;
    this.chart.build(this.plotEl.clientWidth, theme(this));
    if (this.server) this.server.hub.schedule();
  }

  // render draws the newest state; the hub calls it once per frame.
  render() {
    const server = this.server;
    if (!server || !this.chart) return;
    const hub = server.hub;
    this.chart.update(hub.view.series[this.def.topic]);
    const [state, text] = server.badge();
    if (this.badgeEl.dataset.state !== state) this.badgeEl.dataset.state = state;
    if (this.badgeEl.textContent !== text) this.badgeEl.textContent = text;
    const detail = server.detail();
    this.problemEl.hidden = !detail;
    if (this.problemEl.textContent !== detail) this.problemEl.textContent = detail;
    const host = hub.view.hello && hub.view.hello.host ? String(hub.view.hello.host) : "";
    if (this.hostEl.textContent !== host) this.hostEl.textContent = host;
    hub.cu.paint({ box: this.catchupEl, bar: this.barEl, text: this.catchupText });
  }

  // snapshot is a read-only copy of what this element shows and what its
  // server's hub holds, for tests and debugging.
  snapshot() {
    const server = this.server;
    const hub = server ? server.hub : null;
    const [state, badge] = server ? server.badge() : ["error", this.problem];
    return JSON.parse(
      JSON.stringify({
        state,
        badge,
        problem: this.problem,
        detail: server ? server.detail() : "",
        topic: this.def ? this.def.topic : null,
        series: this.def && !this.def.heat ? this.def.series.map((s) => s.key) : [],
        rangeMs: this.rangeMs,
        src: server ? server.src : null,
        topics: hub ? [...hub.topics].sort() : [],
        lastId: hub ? hub.view.lastId : null,
        live: hub ? hub.view.live : 0,
        caughtUp: hub ? hub.view.caughtUp : 0,
        fromHistory: hub ? hub.view.fromHistory : 0,
        catchups: hub ? hub.view.catchups : [],
        bands: hub ? hub.view.bands : [],
        points: hub && this.def ? hub.view.series[this.def.topic].length : 0,
        drawn: this.chart && this.chart.u ? this.chart.u.data[0].length : 0,
        values: [...this.valuesEl.querySelectorAll("b")].map((b) => b.textContent),
        catchupText: hub ? hub.cu.line() : "",
        opened: hub ? hub.opened : 0,
        servers: servers.size,
        messages: hub ? hub.notes : [],
      }),
    );
  }
}

// The palette follows the system when theme="auto": rebuild the charts
// (uPlot draws on a canvas with colours read once).
onSystemScheme(() => {
  for (const server of servers.values()) for (const el of server.elements) el.rebuild();
});

if (!customElements.get("vitals-chart")) customElements.define("vitals-chart", VitalsChart);
