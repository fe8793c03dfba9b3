// Labels drawn on a chart's canvas that must not sit on top of each other:
// the alert rules' threshold labels, two of which may be a few pixels apart
// (a warn at 90 % and a crit at 95 % on a 150 px tall CPU chart) or at the
// same value (two rules judging one series). Pure: no DOM, so
// labels_test.js runs it under node.

// spreadLabels places labels of one line height each as near their wanted
// positions as it can without overlap, inside [top, bottom]. want are the
// wanted y positions (px, down the canvas) of each label's baseline; the
// result gives each label's y in the same order. When more labels are
// asked for than fit, the ones that do not fit are null (left out rather
// than drawn over each other or outside the plot).
export function spreadLabels(want, line, top, bottom) {
  const order = want.map((y, i) => i).sort((a, b) => want[a] - want[b] || a - b);
  const fit = Math.max(0, Math.floor((bottom - top) / line));
  const out = want.map(() => null);
  // The labels nearest the top of the plot win: they belong to the highest
  // thresholds, the ones that matter most.
  const kept = order.slice(0, fit);
  const ys = kept.map((i) => Math.min(bottom, Math.max(top + line, want[i])));
  // Downwards: each label at least one line below the one above it...
  for (let k = 1; k < ys.length; k++) ys[k] = Math.max(ys[k], ys[k - 1] + line);
  // ...then upwards from the bottom, so none falls out of the plot.
  for (let k = ys.length - 1; k >= 0; k--) {
    const limit = k === ys.length - 1 ? bottom : ys[k + 1] - line;
    ys[k] = Math.min(ys[k], limit);
  }
  kept.forEach((i, k) => (out[i] = ys[k]));
  return out;
}
