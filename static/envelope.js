// The min-max envelope of a chart on a rollup tier: the mean is the line,
// and a shaded area spans the min and max of every point, so a spike that
// a mean flattens stays visible.

// envelopeRuns lists, for one series getter, the stretches of points that
// have both a min and a max: [[x, lo, hi], ...] per stretch, split where a
// point has none (a gap, where the line breaks too). xs are the chart's
// times; samples[i] is point i's sample (null for an inserted gap point)
// with its __min and __max payloads.
export function envelopeRuns(xs, samples, get) {
  const runs = [];
  let run = null;
  for (let i = 0; i < xs.length; i++) {
    const s = samples[i];
    const lo = s && s.__min ? get(s.__min) : null;
    const hi = s && s.__max ? get(s.__max) : null;
    if (typeof lo !== "number" || typeof hi !== "number" || !Number.isFinite(lo) || !Number.isFinite(hi)) {
      run = null;
      continue;
    }
    if (!run) runs.push((run = []));
    run.push([xs[i], Math.min(lo, hi), Math.max(lo, hi)]);
  }
  return runs;
}

// envelopePlugin draws the envelopes of chart's main lines under them
// (uPlot's drawAxes hook runs before the series). chart gives def, samples and th (theme);
// a chart of live samples has no __min and draws nothing.
// clipToPlot saves u's canvas state and clips it to the plot area, so
// what a plugin draws under the lines never spills onto the axes; the
// caller restores it.
export function clipToPlot(u) {
  const { left, top, width, height } = u.bbox;
  const ctx = u.ctx;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  return ctx;
}

export function envelopePlugin(chart) {
  return {
    hooks: {
      drawAxes: [
        (u) => {
          const def = chart.def;
          chart.envelopes = 0; // runs drawn, for the page's test hook
          if (def.heat || !chart.samples.some((s) => s && s.__min)) return;
          const ctx = clipToPlot(u);
          // The chart's main lines only (drawn wider: CPU total, memory
          // used, load 1 min, read and write, rx and tx): an envelope for
          // every line would bury them under overlapping shades.
          def.series.filter((d) => (d.width || 1.5) >= 2).forEach((d) => {
            ctx.fillStyle = (chart.th[d.color] || "#888") + "33";
            for (const run of envelopeRuns(u.data[0], chart.samples, d.get)) {
              chart.envelopes++;
              ctx.beginPath();
              run.forEach(([x, , hi], k) => {
                const px = u.valToPos(x, "x", true);
                const py = u.valToPos(hi, "y", true);
                if (k) ctx.lineTo(px, py);
                else ctx.moveTo(px, py);
              });
              for (let k = run.length - 1; k >= 0; k--) ctx.lineTo(u.valToPos(run[k][0], "x", true), u.valToPos(run[k][1], "y", true));
              ctx.closePath();
              // A lone point is a sliver a pixel wide, not nothing.
              if (run.length === 1) {
                const px = u.valToPos(run[0][0], "x", true);
                ctx.fillRect(px - 1, u.valToPos(run[0][2], "y", true), 2, u.valToPos(run[0][1], "y", true) - u.valToPos(run[0][2], "y", true));
              } else ctx.fill();
            }
          });
          ctx.restore();
        },
      ],
    },
  };
}
