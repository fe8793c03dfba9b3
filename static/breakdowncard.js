// BreakdownCard puts one breakdown (breakdown.js) on the dashboard: a
// toggle in its total chart's header ("By interface"), and a chart card
// right after that chart, drawn only while open. The names drawn follow
// the window: a new busiest interface rebuilds the chart once.

import { Chart } from "./charts.js";
import { breakdownDef, kindsText, pickNames } from "./breakdown.js";

export class BreakdownCard {
  // b is one of BREAKDOWNS; anchor the total chart's card; page what a
  // Chart needs (charts.js), thresholds and alert bands left out (rules
  // judge the totals); opts: open (bool), onToggle(open), bits() whether
  // the totals show bits per second, theme().
  constructor(b, anchor, page, opts) {
    this.b = b;
    this.page = { ...page, thresholds: () => [], alertBands: () => [] };
    this.opts = opts;
    this.chart = null;
    this.key = "";
    this.names = [];

    const card = document.createElement("section");
    card.className = "card breakdown";
    card.dataset.chart = b.id;
    card.id = "card-" + b.id;
    card.hidden = true;
    card.setAttribute("aria-labelledby", "h-" + b.id);
    const header = document.createElement("header");
    const h2 = document.createElement("h2");
    h2.id = "h-" + b.id;
    h2.textContent = b.title;
    const values = document.createElement("p");
    values.className = "values";
    values.dataset.values = "";
    values.setAttribute("aria-label", b.title + " current values");
    header.append(h2, values);
    this.note = document.createElement("p");
    this.note.className = "breakdown-note";
    const plot = document.createElement("div");
    plot.className = "plot";
    plot.dataset.plot = "";
    plot.setAttribute("aria-label", `${b.title}: one line per name, ${b.up.label} above zero, ${b.down.label} below`);
    card.append(header, plot, this.note);
    anchor.after(card);
    this.card = card;

    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "unit-toggle breakdown-toggle";
    btn.dataset.breakdown = b.of;
    btn.textContent = b.button;
    btn.setAttribute("aria-controls", card.id);
    btn.addEventListener("click", () => this.setOpen(!this.open, true));
    anchor.querySelector("header").append(btn);
    this.btn = btn;

    this.ro = new ResizeObserver(() => this.chart && this.chart.resize(Math.floor(plot.clientWidth)));
    this.ro.observe(plot);
    this.setOpen(!!opts.open, false);
  }

  setOpen(open, byUser) {
    this.open = open;
    this.card.hidden = !open;
    this.btn.setAttribute("aria-expanded", String(open));
    this.btn.setAttribute("aria-pressed", String(open));
    this.key = ""; // opened again: rebuild from what the window holds now
    if (byUser && this.opts.onToggle) this.opts.onToggle(open);
  }

  // update draws the topic's window while open.
  update(series) {
    if (!this.open || !series) return;
    const { names, more, kinds } = pickNames(series, this.b);
    const bits = !!this.opts.bits();
    const key = names.join("\n") + (bits ? "|bits" : "|bytes");
    if (key !== this.key) {
      this.key = key;
      this.names = names;
      const def = breakdownDef(this.b, names, bits);
      if (!this.chart) this.chart = new Chart(def, this.card, this.page);
      else {
        this.chart.def = def;
        this.chart.buildValues();
      }
      this.chart.build(this.chart.plotEl.clientWidth, this.opts.theme());
      const kindLine = kindsText(names, kinds);
      const moreLine = more > 0 ? `${more} more, quieter, not drawn` : "";
      this.note.textContent = [kindLine, moreLine].filter(Boolean).join(" · ");
    }
    this.chart.update(series);
  }

  // rebuild redraws from scratch (another theme).
  rebuild() {
    this.key = "";
  }

  snapshot() {
    return { open: this.open, names: this.names, drawn: this.chart && this.chart.u ? this.chart.u.data[0].length : 0, series: this.chart ? this.chart.def.series.length : 0 };
  }
}
