import { test } from "node:test";
import assert from "node:assert/strict";
import { pick, isDark } from "./palette.js";

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
