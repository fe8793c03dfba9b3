// Columns keeps one chart's uPlot data in step with a Series (series.js)
// without rebuilding it every frame: a live tick appends one point to each
// column and drops what fell out of the window at the start, so a frame
// costs O(new samples), not O(window). Anything else that moved the series
// (a replay that overlaps what is drawn, a clock step: Series.rev) rebuilds
// the columns once through series.columns. Pure: no DOM, so columns_test.js
// runs it under node.

import { columns, GAP_FACTOR } from "./series.js";

export class Columns {
  // getters read each column's value from a sample, as series.columns.
  constructor(getters) {
    this.getters = getters;
    this.data = [[], ...getters.map(() => [])];
    this.samples = [];
    this.reset();
  }

  // reset makes the next sync rebuild (another unit, another host).
  reset() {
    this.series = null;
    this.rev = -1;
    this.intervalMs = 0;
    this.lastT = null;
  }

  // sync brings the columns up to date with series and says whether they
  // changed. data and samples are then what series.columns would return.
  sync(series, intervalMs) {
    this.rebuilt = false;
    if (!series) return false;
    if (series !== this.series || series.rev !== this.rev || intervalMs !== this.intervalMs) return this.rebuild(series, intervalMs);
    const ts = series.t;
    let changed = false;
    // Dropped at the start: the columns' leading points older than the
    // series' first sample, and a gap's null point left leading.
    const xs = this.data[0];
    const t0 = ts.length ? ts[0] / 1000 : Infinity;
    let k = 0;
    while (k < xs.length && (xs[k] < t0 || this.samples[k] === null)) k++;
    if (k > 0) {
      for (const c of this.data) c.splice(0, k);
      this.samples.splice(0, k);
      changed = true;
    }
    if (!ts.length) {
      this.lastT = null;
      return changed;
    }
    // Appended at the end: every sample newer than the newest drawn.
    let i = ts.length;
    if (this.lastT === null) i = 0;
    else while (i > 0 && ts[i - 1] > this.lastT) i--;
    if (i < ts.length) {
      this.append(series, i, this.lastT === null ? null : this.lastT, intervalMs);
      changed = true;
    }
    return changed;
  }

  rebuild(series, intervalMs) {
    const { data, samples } = columns(series, intervalMs, this.getters);
    this.data = data;
    this.samples = samples;
    this.series = series;
    this.rev = series.rev;
    this.intervalMs = intervalMs;
    this.lastT = series.lastT();
    this.rebuilt = true; // not only appended: redraw whatever the scale
    return true;
  }

  // append adds series' samples from index i on, with the null point
  // series.columns puts in a gap, prev being the newest time drawn.
  append(series, i, prev, intervalMs) {
    const limit = intervalMs * GAP_FACTOR;
    const [xs, ...cols] = this.data;
    const getters = this.getters;
    for (; i < series.t.length; i++) {
      const t = series.t[i];
      if (prev !== null && xs.length > 0 && t - prev > limit) {
        xs.push((prev + intervalMs) / 1000);
        for (const c of cols) c.push(null);
        this.samples.push(null);
      }
      const s = series.v[i];
      xs.push(t / 1000);
      for (let j = 0; j < getters.length; j++) {
        const v = getters[j](s);
        cols[j].push(typeof v === "number" && Number.isFinite(v) ? v : null);
      }
      this.samples.push(s);
      prev = t;
    }
    this.lastT = prev;
  }
}
