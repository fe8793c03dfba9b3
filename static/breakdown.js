// Breakdowns: the network totals split by interface and the disk totals by
// device, the data the stream already carries (network.interfaces,
// disk.devices). Each is one chart with a line per name, receive (or read)
// above the zero line and transmit (or write) mirrored below it, as
// Grafana's node dashboards draw traffic. Which breakdowns are open is kept
// in the address (?detail=network,disk). Pure: no DOM, so breakdown_test.js
// runs it under node.

import * as fmt from "./format.js";

// BREAKDOWNS describes each: the total chart it opens from (of), the
// payload's map of names and its two fields.
export const BREAKDOWNS = [
  {
    id: "network-interfaces",
    of: "network",
    topic: "network",
    title: "Network by interface",
    button: "By interface",
    map: "interfaces",
    up: { key: "rx_bps", label: "in" },
    down: { key: "tx_bps", label: "out" },
  },
  {
    id: "disk-devices",
    of: "disk",
    topic: "disk",
    title: "Disk I/O by device",
    button: "By device",
    map: "devices",
    up: { key: "read_bps", label: "read" },
    down: { key: "write_bps", label: "write" },
  },
];

// MAX_NAMES caps the lines: a container host has dozens of veth
// interfaces, and 2 x 8 lines is already as many as a reader can follow.
export const MAX_NAMES = 8;

const COLORS = ["--s1", "--s2", "--s3", "--s4", "--s5", "--s6"];

// KIND_ORDER puts the interfaces that carry the machine's own traffic
// (docs/events.md) first when two are as busy.
const KIND_ORDER = ["physical", "bond", "bridge", "vlan", "tunnel", "virtual"];

const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

// pickNames chooses the names a breakdown draws from a window of samples
// (a Series: t and v): the busiest MAX_NAMES by their peak in plus out over
// the window, ties by kind then name; more is how many were left out, and
// kinds the newest kind of each (interfaces only).
export function pickNames(series, b, max = MAX_NAMES) {
  const peak = new Map();
  const kinds = {};
  for (const s of series ? series.v : []) {
    const m = s && s[b.map];
    if (!m || typeof m !== "object") continue;
    for (const [name, d] of Object.entries(m)) {
      if (!d || typeof d !== "object") continue;
      const v = (num(d[b.up.key]) || 0) + (num(d[b.down.key]) || 0);
      peak.set(name, Math.max(peak.get(name) ?? 0, v));
      if (typeof d.kind === "string") kinds[name] = d.kind;
    }
  }
  const rank = (n) => {
    const i = KIND_ORDER.indexOf(kinds[n]);
    return i < 0 ? KIND_ORDER.length : i;
  };
  const all = [...peak.keys()].sort((a, c) => peak.get(c) - peak.get(a) || rank(a) - rank(c) || (a < c ? -1 : a > c ? 1 : 0));
  const names = all.slice(0, max);
  return { names, more: all.length - names.length, kinds: Object.fromEntries(names.filter((n) => n in kinds).map((n) => [n, kinds[n]])) };
}

// breakdownDef is the chart definition (charts.js DEFS' shape) of b for
// names, in bits per second when bits is set: two series per name, the
// second negated so it is drawn below zero, every value shown unsigned.
export function breakdownDef(b, names, bits = false) {
  const scale = bits ? 8 : 1;
  const show = bits ? fmt.bitRate : fmt.rate;
  const axis = bits ? fmt.bitRateAxis : (v) => fmt.bytesAxis(v) + "/s";
  const read = (name, key, sign) => (s) => {
    const d = s && s[b.map] && s[b.map][name];
    const v = d ? num(d[key]) : null;
    return v === null ? null : sign * scale * v;
  };
  const series = [];
  names.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    series.push({ label: `${name} ${b.up.label}`, key: `${name}.${b.up.key}`, get: read(name, b.up.key, 1), color, width: 1.5 });
    series.push({ label: `${name} ${b.down.label}`, key: `${name}.${b.down.key}`, get: read(name, b.down.key, -1), color, dash: [4, 3] });
  });
  return {
    id: b.id,
    topic: b.topic,
    title: b.title,
    bytes: !bits,
    fmt: (v) => show(num(v) === null ? v : Math.abs(v)),
    axis: (v) => (v < 0 ? "−" : "") + axis(Math.abs(v)),
    range: (u) => mirroredRange(u.data ? u.data.slice(1) : []),
    series,
  };
}

// mirroredRange is the y range of a mirrored chart: from the deepest value
// below zero to the highest above, a tenth more each way, never empty.
export function mirroredRange(cols) {
  let lo = 0;
  let hi = 0;
  for (const c of cols) {
    for (const v of c) {
      if (v === null) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === 0 && hi === 0) return [-1, 1];
  return [lo * 1.1, hi * 1.1];
}

// kindsText words the interfaces' kinds for the chart's note: "eth0
// physical · docker0 bridge".
export function kindsText(names, kinds) {
  return names
    .filter((n) => kinds[n])
    .map((n) => `${n} ${kinds[n]}`)
    .join(" · ");
}

// openDetails reads which breakdowns the address opens (?detail=network,disk,
// by the total chart's id); unknown names are ignored.
export function openDetails(search) {
  const q = new URLSearchParams(search || "");
  const known = new Set(BREAKDOWNS.map((b) => b.of));
  return new Set((q.get("detail") || "").split(",").filter((x) => known.has(x)));
}

// detailSearch is search with the open breakdowns in it, in BREAKDOWNS'
// order; none open leaves the parameter out.
export function detailSearch(search, open) {
  const q = new URLSearchParams(search || "");
  const list = BREAKDOWNS.map((b) => b.of).filter((x) => open.has(x));
  if (list.length) q.set("detail", list.join(","));
  else q.delete("detail");
  const s = q.toString().replace(/%2C/g, ",");
  return s ? "?" + s : "";
}
