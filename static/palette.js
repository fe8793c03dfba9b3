// The palette as the charts read it. The colours are defined once, in
// palette.css, as light-dark(light, dark) pairs; uPlot draws on a canvas
// with colours given once, so theme() resolves each pair for the scheme in
// use where they are read (the page's root, or an embed element's host),
// and the pages rebuild their charts when the scheme changes.

// HEAT_STOPS are the per-core strip's colours at 0, 33, 67 and 100 % busy,
// evenly spaced: the strip and its legend both blend between them.
export const HEAT_STOPS = ["--heat-0", "--heat-1", "--heat-2", "--heat-3"];

// NAMES are the custom properties a chart reads.
export const NAMES = ["--s1", "--s2", "--s3", "--s4", "--s5", "--s6", "--ref", "--bad", "--axis", "--grid", "--band", "--band-restart", "--band-lost", "--band-text", "--warn", "--crit", "--band-warn", "--band-crit", ...HEAT_STOPS, "--font"];

// heatGradient is the heat strip's colour scale as a CSS gradient from 0 %
// (left) to 100 % busy (right), for its legend; th is theme()'s result.
export function heatGradient(th) {
  const last = HEAT_STOPS.length - 1;
  const stops = HEAT_STOPS.map((n, i) => `${th[n] || "#888888"} ${Math.round((i * 10000) / last) / 100}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

const LIGHT_DARK = /^light-dark\(\s*([^,]+?)\s*,\s*([^)]+?)\s*\)$/;

// pick resolves a light-dark(a, b) value for a scheme; anything else (a
// page's own --vitals-* colour) is taken as it is.
export function pick(value, dark) {
  const v = String(value ?? "").trim();
  const m = LIGHT_DARK.exec(v);
  return m ? m[dark ? 2 : 1] : v;
}

// isDark reads a computed color-scheme ("light", "dark", "light dark",
// "normal"): both named means the system's choice, prefersDark.
export function isDark(colorScheme, prefersDark) {
  const words = String(colorScheme || "").split(/\s+/);
  if (!words.includes("dark")) return false;
  return !words.includes("light") || prefersDark;
}

const DARK_QUERY = "(prefers-color-scheme: dark)";

// scheme is "dark" or "light": what el's colours resolve to now.
export function scheme(el = document.documentElement) {
  return isDark(getComputedStyle(el).colorScheme, matchMedia(DARK_QUERY).matches) ? "dark" : "light";
}

// theme reads the palette at el as plain colours, keyed by property name.
export function theme(el = document.documentElement) {
  const cs = getComputedStyle(el);
  const dark = isDark(cs.colorScheme, matchMedia(DARK_QUERY).matches);
  const t = {};
  for (const n of NAMES) t[n] = pick(cs.getPropertyValue(n), dark);
  return t;
}

// onSystemScheme calls fn whenever the system switches between light and
// dark: charts that follow it must be rebuilt.
export function onSystemScheme(fn) {
  matchMedia(DARK_QUERY).addEventListener("change", fn);
}
