// CSV of a chart's current range: pure, so csv_test.js runs it under node.

// cell quotes a value when CSV needs it (RFC 4180): a comma, a quote or a
// line break inside; a missing value is an empty cell.
function cell(v) {
  if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// toCSV writes a header row of names and one row per time in ts (unix
// ms, written as RFC 3339 UTC and as ms), with each column's value at the
// same index; lines end in CRLF as RFC 4180 says.
export function toCSV(ts, columns) {
  const rows = [["time", "unix_ms", ...columns.map((c) => c.name)].map(cell).join(",")];
  for (let i = 0; i < ts.length; i++) {
    rows.push([new Date(ts[i]).toISOString(), ts[i], ...columns.map((c) => c.values[i])].map(cell).join(","));
  }
  return rows.join("\r\n") + "\r\n";
}

// chartColumns is a chart's data as CSV columns: each series' drawn
// values, and on a rollup tier its min and max (from the samples' __min
// and __max) and the samples each point holds. samples[i] is the sample
// behind point i (null where a gap was inserted; those rows are left out).
export function chartColumns(series, samples) {
  const keep = samples.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
  const cols = [];
  const rollup = samples.some((s) => s && s.__min);
  for (const d of series) {
    cols.push({ name: d.label, values: keep.map((i) => d.get(samples[i])) });
    if (rollup) {
      cols.push({ name: `${d.label} min`, values: keep.map((i) => d.get(samples[i].__min)) });
      cols.push({ name: `${d.label} max`, values: keep.map((i) => d.get(samples[i].__max)) });
    }
  }
  if (rollup) cols.push({ name: "samples", values: keep.map((i) => samples[i].__count) });
  return { keep, cols };
}

// csvName is the download's file name: host, chart and the range, in
// UTC to the minute ("web1-cpu-2026-11-01T00-00Z-2026-11-08T00-00Z.csv").
export function csvName(host, chart, from, to) {
  const t = (ms) => new Date(ms).toISOString().slice(0, 16).replace(":", "-") + "Z";
  const safe = (s) => String(s || "vitals").replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${safe(host)}-${safe(chart)}-${t(from)}-${t(to)}.csv`;
}
