// Writes to the page that cost nothing when they change nothing. The
// dashboard draws a frame for every tick, and a write of the value already
// there still costs the browser work: setting textContent replaces the
// text node, which rebuilds that line's layout tree, and setting an
// attribute (hidden, a data-* key) to the value it has still invalidates
// the element's style. Any element-like object works, so the node tests
// can pass plain ones.

// setText writes el's text when it changed. An element holding one text
// node gets the new text in that node: the line is laid out again, but
// not rebuilt.
export function setText(el, text) {
  const n = el.firstChild;
  if (n && n === el.lastChild && n.nodeType === 3) {
    if (n.data !== text) n.data = text;
  } else if (el.textContent !== text) {
    el.textContent = text;
  }
}

// setAttr sets an attribute when it changed, or removes it for null.
export function setAttr(el, name, value) {
  if (el.getAttribute(name) === value) return;
  if (value === null) el.removeAttribute(name);
  else el.setAttribute(name, value);
}

// setHidden shows or hides el when that changed.
export function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}
