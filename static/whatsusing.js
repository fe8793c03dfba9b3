// Pure logic of the "what is using it" parts of the page: the process and
// container tables (tables.js draws them) and the temperature and GPU
// charts (their DEFS in charts.js). No DOM access, so whatsusing_test.js
// runs it under node.

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

// procKey names one process across ticks: a pid is reused once its
// process is gone, its start time is not.
export function procKey(r) {
  return `${r.pid}@${r.start}`;
}

// procRows is the list the table shows from one processes payload: the top
// by CPU ("cpu") or by resident memory ("rss").
export function procRows(p, by) {
  const rows = p && Array.isArray(by === "rss" ? p.top_rss : p.top_cpu) ? (by === "rss" ? p.top_rss : p.top_cpu) : [];
  return rows.filter((r) => r && isNum(r.pid));
}

// findRow is the process's row in one payload (either list), or null.
function findRow(p, key) {
  for (const list of [p && p.top_cpu, p && p.top_rss]) {
    if (!Array.isArray(list)) continue;
    for (const r of list) if (r && procKey(r) === key) return r;
  }
  return null;
}

// procTrail is one process's field (cpu_pct, rss) over the samples of the
// raw window held (a Series: parallel arrays t and v), null where it was
// in neither list. Only the last `points` samples are read.
export function procTrail(series, key, field, points) {
  const n = series ? series.t.length : 0;
  const from = Math.max(0, n - points);
  const out = [];
  for (let i = from; i < n; i++) {
    const r = findRow(series.v[i], key);
    out.push(r && isNum(r[field]) ? r[field] : null);
  }
  return out;
}

// procHistory is the filtered table: every sample of the window in which
// the process was listed, newest first, as {t, row}.
export function procHistory(series, key) {
  const out = [];
  if (!series) return out;
  for (let i = series.t.length - 1; i >= 0; i--) {
    const r = findRow(series.v[i], key);
    if (r) out.push({ t: series.t[i], row: r });
  }
  return out;
}

// sparkPath is an SVG path drawing values (oldest first, null for a gap)
// across w x h, from 0 at the bottom to max (at least 1) at the top. A gap
// breaks the line.
export function sparkPath(values, w, h, max) {
  const top = Math.max(1, max || 0, ...values.filter(isNum));
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (!isNum(v)) {
      pen = false;
      return;
    }
    const x = Math.round(i * step * 10) / 10;
    const y = Math.round((h - (Math.max(0, v) / top) * h) * 10) / 10;
    d += (pen ? "L" : "M") + x + " " + y;
    pen = true;
  });
  return d;
}

// share is part/whole as a percentage clamped to 0..100, or null when it
// can't be known.
function share(part, whole) {
  if (!isNum(part) || !isNum(whole) || whole <= 0) return null;
  return Math.max(0, Math.min(100, (100 * part) / whole));
}

// containerBars measures one container against its limits: CPU against
// the host's cores (a cgroup's CPU quota isn't in the payload, and a
// container can use every core without one), memory against its limit, or
// the host's memory when it has none.
export function containerBars(c, hostCores, hostMem) {
  const memWhole = isNum(c.mem_limit) ? c.mem_limit : hostMem;
  return {
    cpu: share(c.cpu_pct, (hostCores || 1) * 100),
    mem: share(c.mem_used, memWhole),
    memLimited: isNum(c.mem_limit),
  };
}

// sortContainers puts the busiest first (CPU, then memory), then by name,
// so the rows keep their order while nothing changes.
export function sortContainers(list) {
  const val = (v) => (isNum(v) ? v : -1);
  return [...(Array.isArray(list) ? list : [])]
    .filter((c) => c && typeof c.id === "string")
    .sort((a, b) => val(b.cpu_pct) - val(a.cpu_pct) || val(b.mem_used) - val(a.mem_used) || String(a.name).localeCompare(String(b.name)));
}

// tempStats sums up one sensors payload for the temperature chart: the
// hottest sensor, the average, and the lowest critical threshold (the
// first one a hot machine reaches), each null when there is none.
export function tempStats(p) {
  const list = p && Array.isArray(p.sensors) ? p.sensors.filter((s) => s && isNum(s.c)) : [];
  if (!list.length) return { hottest: null, average: null, critical: null, hottestLabel: "" };
  let hot = list[0];
  for (const s of list) if (s.c > hot.c) hot = s;
  const crits = list.map((s) => s.crit).filter((v) => isNum(v) && v > 0);
  return {
    hottest: hot.c,
    hottestLabel: String(hot.label || hot.id || ""),
    average: list.reduce((a, s) => a + s.c, 0) / list.length,
    critical: crits.length ? Math.min(...crits) : null,
  };
}

// gpuStats sums up one gpu payload for the GPU chart: the busiest GPU's
// utilisation, memory used across GPUs as a share of their total, the
// hottest temperature and the total power.
export function gpuStats(p) {
  const list = p && Array.isArray(p.gpus) ? p.gpus.filter(Boolean) : [];
  const nums = (k) => list.map((g) => g[k]).filter(isNum);
  const util = nums("util_pct");
  const temp = nums("temp_c");
  const power = nums("power_w");
  const withMem = list.filter((g) => isNum(g.mem_used) && isNum(g.mem_total) && g.mem_total > 0);
  const used = withMem.reduce((a, g) => a + g.mem_used, 0);
  const total = withMem.reduce((a, g) => a + g.mem_total, 0);
  return {
    util: util.length ? Math.max(...util) : null,
    mem: total > 0 ? (100 * used) / total : null,
    temp: temp.length ? Math.max(...temp) : null,
    power: power.length ? power.reduce((a, v) => a + v, 0) : null,
  };
}

// celsius formats a temperature.
export function celsius(v) {
  return isNum(v) ? `${Math.round(v)} °C` : "—";
}
