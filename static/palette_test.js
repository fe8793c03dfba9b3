import { test } from "node:test";
import assert from "node:assert/strict";
import { pick, isDark, heatGradient, HEAT_STOPS, NAMES } from "./palette.js";

test("pick resolves light-dark pairs and keeps plain colours", () => {
  const cases = [
    { name: "light", v: "light-dark(#2563eb, #60a5fa)", dark: false, want: "#2563eb" },
    { name: "dark", v: "light-dark(#2563eb, #60a5fa)", dark: true, want: "#60a5fa" },
    { name: "spaces as serialised", v: " light-dark( #94a3b833 ,#94a3b826 ) ", dark: true, want: "#94a3b826" },
    { name: "a page's own colour", v: " #9333ea", dark: true, want: "#9333ea" },
    { name: "unset", v: "", dark: false, want: "" },
    { name: "undefined", v: undefined, dark: false, want: "" },
  ];
  for (const c of cases) assert.equal(pick(c.v, c.dark), c.want, c.name);
});

test("isDark follows color-scheme, and the system where both are allowed", () => {
  const cases = [
    { name: "light", cs: "light", prefers: true, want: false },
    { name: "dark", cs: "dark", prefers: false, want: true },
    { name: "both, system light", cs: "light dark", prefers: false, want: false },
    { name: "both, system dark", cs: "light dark", prefers: true, want: true },
    { name: "normal", cs: "normal", prefers: true, want: false },
    { name: "none", cs: "", prefers: true, want: false },
  ];
  for (const c of cases) assert.equal(isDark(c.cs, c.prefers), c.want, c.name);
});

test("heatGradient spreads the heat stops evenly from 0 to 100 %", () => {
  const th = { "--heat-0": "#eef2f6", "--heat-1": "#7dd3c0", "--heat-2": "#f59e0b", "--heat-3": "#dc2626" };
  assert.equal(heatGradient(th), "linear-gradient(to right, #eef2f6 0%, #7dd3c0 33.33%, #f59e0b 66.67%, #dc2626 100%)");
  assert.equal(heatGradient({}), "linear-gradient(to right, #888888 0%, #888888 33.33%, #888888 66.67%, #888888 100%)", "unset colours");
  for (const n of HEAT_STOPS) assert.ok(NAMES.includes(n), n + " is read by theme()");
});
