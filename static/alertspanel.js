// The alerts panel and the header's alert badge: what fires, waits and is
// muted, the recent history with links to each chart at its time, silence
// buttons and "send a test notification". The records come through the
// hub (hooks.record: the stream and its replays) and, at start and on a
// host switch, from /api/alerts/history; the logic is alerts.js. Server
// text is put on the page with textContent only.

import { AlertBook, alertBands, thresholds, chartFor, rangeFor } from "./alerts.js";
import { setText, setAttr, setHidden } from "./dom.js";

const $ = (sel, root = document) => root.querySelector(sel);

export class AlertsPanel {
  // opts: defs (charts.js DEFS), url(path) -> the URL with the page's
  // host/token, jump(chartId, t) shows a chart at a time, schedule().
  constructor(opts) {
    this.opts = opts;
    this.book = new AlertBook();
    this.root = $("#alerts");
    this.badge = $("#alerts-badge");
    this.renderedKey = "";
    if (this.root) {
      $("#alerts-test", this.root)?.addEventListener("click", () => this.sendTest());
    }
  }

  // load reads the rules and the retained history; reset forgets what a
  // previous host showed.
  async load(reset = false) {
    if (reset) {
      const rules = this.book.rules;
      this.book = new AlertBook();
      this.book.rules = rules;
    }
    try {
      const [cur, hist] = await Promise.all([getJSON(this.opts.url("/api/alerts")), getJSON(this.opts.url("/api/alerts/history", { limit: 1000 }))]);
      this.book.rules = Array.isArray(cur.rules) ? cur.rules : [];
      this.book.targets = Array.isArray(cur.targets) ? cur.targets : [];
      for (const r of (hist.records || []).slice().reverse()) this.book.add(r.record);
    } catch (e) {
      this.say("alerts: " + e.message);
    }
    this.renderedKey = "";
    this.opts.schedule();
  }

  // take files one record from the stream; true when it was new.
  take(data) {
    return this.book.add(data);
  }

  bandsFor(def) {
    return alertBands(def, this.book.transitions(), this.book.rules, this.opts.defs);
  }

  linesFor(def) {
    return thresholds(def, this.book.rules);
  }

  say(text) {
    const el = this.root && $("#alerts-status", this.root);
    if (el) el.textContent = text;
  }

  render(now = Date.now()) {
    const c = this.book.counts(now);
    if (this.badge) {
      setHidden(this.badge, c.firing === 0);
      setAttr(this.badge, "data-count", String(c.firing));
      setAttr(this.badge, "data-severity", c.critical ? "critical" : "warning");
      setText(this.badge, c.firing === 1 ? "1 alert" : `${c.firing} alerts`);
    }
    if (!this.root) return;
    // Redraw the lists only when something changed (or a minute passed:
    // relative times and lapsing silences).
    const k = `${this.book.byId.size}/${c.firing}/${c.pending}/${c.silenced}/${Math.floor(now / 60000)}`;
    if (k === this.renderedKey) return;
    this.renderedKey = k;
    const sum = $("#alerts-summary", this.root);
    if (sum) sum.textContent = `Alerts: ${c.firing} firing, ${c.pending} pending, ${c.silenced} silenced`;
    const inst = this.book.instances();
    const isSilenced = (t) => this.book.silenced(t.rule, t.item, now);
    this.list("#alerts-firing", inst.filter((t) => t.to === "firing" && !isSilenced(t)), (t) => this.instanceRow(t, true));
    this.list("#alerts-pending", inst.filter((t) => t.to === "pending" && !isSilenced(t)), (t) => this.instanceRow(t, true));
    this.list("#alerts-silenced", this.book.silences(now), (s) => this.silenceRow(s));
    this.list("#alerts-history", this.book.recent(50), (r) => (r.kind === "silence" ? this.silenceRow(r) : this.instanceRow(r, false)));
    const targets = $("#alerts-targets", this.root);
    if (targets) targets.textContent = this.book.targets.length ? "Targets: " + this.book.targets.map((t) => `${t.name} (${t.min}+)`).join(", ") : "No notification targets (start vitals with --notify URL).";
  }

  list(sel, items, row) {
    const ul = $(sel, this.root);
    if (!ul) return;
    ul.replaceChildren(...items.map(row));
    ul.dataset.count = String(items.length);
  }

  instanceRow(t, withSilence) {
    const li = document.createElement("li");
    li.dataset.rule = t.rule;
    li.dataset.state = t.to;
    li.dataset.severity = t.severity || "";
    const what = `${t.summary || t.rule}${t.item ? " " + t.item : ""}`;
    const chart = chartFor({ topic: ruleTopic(this.book.rules, t.rule), field: ruleField(this.book.rules, t.rule) }, this.opts.defs);
    const time = timeEl(t.time);
    const label = document.createElement(chart ? "a" : "span");
    label.textContent = `${t.to}${t.severity && t.to !== "ok" ? " " + t.severity : ""}: ${what}${value(t)}`;
    if (chart) {
      label.href = `#h-${chart}`;
      label.addEventListener("click", (e) => {
        e.preventDefault();
        this.opts.jump(chart, Date.parse(t.time));
      });
    }
    li.append(time, " ", label);
    if (withSilence) li.append(" ", button("Silence 1 h", () => this.silence(t.rule, t.item || "", "1h")));
    return li;
  }

  silenceRow(s) {
    const li = document.createElement("li");
    li.dataset.kind = "silence";
    const time = timeEl(s.created);
    const lifted = Date.parse(s.until) <= Date.parse(s.created);
    li.append(time, ` ${lifted ? "silence lifted" : "silenced"}: ${s.rule}${s.item ? " " + s.item : ""}${lifted ? "" : " until " + clock(s.until)}${s.comment ? " (" + s.comment + ")" : ""}`);
    if (!lifted && Date.parse(s.until) > Date.now()) li.append(" ", button("Lift", () => this.silence(s.rule, s.item || "", "0s")));
    return li;
  }

  async silence(rule, item, until) {
    try {
      const rec = await postJSON(this.opts.url("/api/alerts/silences"), { rule, item, until, comment: "from the dashboard" });
      this.book.add(rec); // the stream brings it too, with the next tick
      this.say(`${until === "0s" ? "Lifted the silence of" : "Silenced"} ${rule}${item ? " " + item : ""}`);
    } catch (e) {
      this.say("silence: " + e.message);
    }
    this.renderedKey = "";
    this.opts.schedule();
  }

  async sendTest() {
    this.say("Sending a test notification…");
    try {
      const r = await postJSON(this.opts.url("/api/alerts/test"), {});
      this.say((r.results || []).map((x) => `${x.target}: ${x.ok ? "accepted" : x.error}`).join("; "));
    } catch (e) {
      this.say("test notification: " + e.message);
    }
  }
}

// jumpRange picks the range to show t: the narrowest that holds it.
export function jumpRange(t, buttons, now = Date.now()) {
  const ranges = buttons.filter((b) => !b.disabled).map((b) => Number(b.dataset.rangeMs));
  const ms = rangeFor(t, ranges, now);
  return buttons.find((b) => Number(b.dataset.rangeMs) === ms);
}

const ruleTopic = (rules, name) => (rules.find((r) => r.name === name) || {}).topic || "";
const ruleField = (rules, name) => (rules.find((r) => r.name === name) || {}).field || "";

function value(t) {
  if (t.value === null || t.value === undefined) return "";
  if (t.unit === "eta") return `: full in ${Math.round(t.value / 3600)} h`;
  return `: ${Math.round(t.value * 100) / 100}${t.unit || ""}`;
}

function timeEl(iso) {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.textContent = clock(iso);
  return el;
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}

function clock(iso) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`${url.split("?")[0]} answered ${res.status}`);
  return res.json();
}

async function postJSON(url, body) {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `answered ${res.status}`);
  return data;
}
