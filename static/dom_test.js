import { test } from "node:test";
import assert from "node:assert/strict";
import { setText, setAttr, setHidden } from "./dom.js";

// A text node and an element, as much of them as dom.js touches; writes
// are counted, since what dom.js is for is the writes it leaves out.
function textNode(data) {
  return { nodeType: 3, data };
}

function element(children = []) {
  const el = {
    writes: 0,
    attrs: new Map(),
    hiddenValue: false,
    children,
    get firstChild() {
      return this.children[0] || null;
    },
    get lastChild() {
      return this.children.at(-1) || null;
    },
    get textContent() {
      return this.children.map((c) => c.data).join("");
    },
    set textContent(v) {
      this.writes++;
      this.children = v === "" ? [] : [textNode(v)];
    },
    getAttribute: (k) => (el.attrs.has(k) ? el.attrs.get(k) : null),
    setAttribute: (k, v) => (el.writes++, el.attrs.set(k, String(v))),
    removeAttribute: (k) => (el.writes++, el.attrs.delete(k)),
    get hidden() {
      return this.hiddenValue;
    },
    set hidden(v) {
      this.writes++;
      this.hiddenValue = v;
    },
  };
  return el;
}

test("setText: the one text node takes the new text; an empty element gets one", () => {
  const el = element();
  setText(el, "CPU 5 %");
  assert.equal(el.writes, 1, "an empty element: textContent");
  const node = el.firstChild;
  setText(el, "CPU 7 %");
  assert.equal(el.firstChild, node, "the same node, its data changed");
  assert.equal(node.data, "CPU 7 %");
  assert.equal(el.writes, 1, "no textContent write for a change in place");
  const mixed = element([textNode("a"), textNode("b")]);
  setText(mixed, "ab");
  assert.equal(mixed.writes, 0, "unchanged text is not written");
  setText(mixed, "c");
  assert.deepEqual(mixed.children.map((c) => c.data), ["c"], "more than one node: replaced");
});

test("setAttr and setHidden write only a change; null removes", () => {
  const el = element();
  setAttr(el, "data-live", "true");
  setAttr(el, "data-live", "true");
  assert.equal(el.writes, 1);
  setAttr(el, "data-live", null);
  setAttr(el, "data-live", null);
  assert.equal(el.writes, 2);
  assert.equal(el.getAttribute("data-live"), null);
  setHidden(el, false);
  assert.equal(el.writes, 2, "already shown");
  setHidden(el, true);
  setHidden(el, true);
  assert.equal(el.writes, 3);
  assert.equal(el.hidden, true);
});
