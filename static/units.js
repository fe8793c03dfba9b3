// Units: which unit a chart with a choice (network in bits or bytes per
// second, memory in bytes or percent of total) is shown in, and where that
// choice is kept: the address (?network=bytes, so a shared link shows what
// its sender saw) over localStorage (the browser's last choice) over the
// default. Pure: no DOM, so units_test.js runs it under node.

// choicesOf lists the units of each chart that has a choice, its default
// first, from the charts' own list (charts.js DEFS: a def's units, in
// order): {network: ["bits", "bytes"], memory: ["bytes", "percent"]}.
export function choicesOf(defs) {
  const out = {};
  for (const d of defs) if (d.units) out[d.id] = Object.keys(d.units);
  return out;
}

// LABELS are the toggle's words for each unit.
export const LABELS = { bits: "bits/s", bytes: "bytes", percent: "% of total" };

export const STORAGE_KEY = "vitals.units";

// pickUnits is the unit of every chart with a choice: the address's
// (?network=bytes&memory=percent) over stored (STORAGE_KEY's JSON) over
// the default; anything unknown is ignored.
export function pickUnits(search, stored, choices) {
  const q = new URLSearchParams(search || "");
  let saved = {};
  try {
    saved = JSON.parse(stored || "{}") || {};
  } catch {
    /* a damaged preference: the defaults */
  }
  const out = {};
  for (const [id, units] of Object.entries(choices)) {
    out[id] = [q.get(id), saved[id]].find((u) => units.includes(u)) || units[0];
  }
  return out;
}

// unitsSearch is search with the units in it: a chart at its default unit
// is left out, so a plain address stays plain; other parameters are kept.
export function unitsSearch(search, units, choices) {
  const q = new URLSearchParams(search || "");
  for (const [id, list] of Object.entries(choices)) {
    if (units[id] && units[id] !== list[0]) q.set(id, units[id]);
    else q.delete(id);
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

// nextUnit is the unit a toggle press moves a chart to.
export function nextUnit(choices, id, unit) {
  const units = choices[id] || [];
  return units[(units.indexOf(unit) + 1) % units.length];
}

// withUnit is def as shown in unit: def.units[unit]'s fields over def's
// own; an unknown or missing unit is the default, the first. A def
// without units is def as it is.
export function withUnit(def, unit) {
  if (!def.units) return def;
  const u = def.units[unit] ? unit : Object.keys(def.units)[0];
  return { ...def, ...def.units[u], unit: u };
}
