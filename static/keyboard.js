// The charts' keyboard cursor and what it says to screen readers. A chart
// with focus moves its cursor with the arrow keys (one sample), PageUp and
// PageDown (a tenth of the window), Home and End (the oldest and newest
// sample); Escape lets go. The values under the cursor are announced
// through a polite live region, coalesced so that a held key or a live
// stream does not chatter. Pure: no DOM, so keyboard_test.js runs it under
// node.

// PAGE_FRACTION is how much of the window PageUp/PageDown move: ten
// presses cross it, as a scroll bar's page does.
const PAGE_FRACTION = 0.1;

// cursorKey is the index the cursor moves to after key, or undefined when
// the key is not the cursor's (the browser keeps it), or null to let go.
// idx is the index shown now (null: none, which reads as the newest), n the
// number of points, real(i) whether point i is a sample (not the null
// point drawn in a gap), which the cursor steps over.
export function cursorKey(key, idx, n, real = () => true) {
  if (key === "Escape") return null;
  if (n <= 0) return undefined;
  const page = Math.max(1, Math.round(n * PAGE_FRACTION));
  const at = idx === null || idx === undefined ? n - 1 : idx;
  let to;
  let dir;
  switch (key) {
    case "ArrowLeft":
      [to, dir] = [idx === null || idx === undefined ? n - 1 : at - 1, -1];
      break;
    case "ArrowRight":
      [to, dir] = [at + 1, 1];
      break;
    case "PageUp":
      [to, dir] = [at - page, -1];
      break;
    case "PageDown":
      [to, dir] = [at + page, 1];
      break;
    case "Home":
      [to, dir] = [0, 1];
      break;
    case "End":
      [to, dir] = [n - 1, -1];
      break;
    default:
      return undefined;
  }
  to = Math.max(0, Math.min(n - 1, to));
  // Step over gap points in the direction of travel, then back if the
  // window ends in one.
  let i = to;
  while (i >= 0 && i < n && !real(i)) i += dir;
  if (i < 0 || i >= n) {
    i = to;
    while (i >= 0 && i < n && !real(i)) i -= dir;
  }
  return i >= 0 && i < n ? i : undefined;
}

// Announcer says texts through a live region no more often than gapMs
// apart: a text asked for sooner waits, and only the newest one waiting is
// said. env: say(text) writes the region, now() in ms, and
// setTimer(fn, ms) / clearTimer(id).
export class Announcer {
  constructor(env, gapMs = 1000) {
    this.env = env;
    this.gapMs = gapMs;
    this.lastAt = -Infinity;
    this.lastText = null;
    this.pending = null;
    this.timer = null;
    this.dueAt = Infinity;
  }

  // announce asks for text to be said; minGapMs, when given, is a longer
  // quiet time for this kind of text (live values while the cursor
  // follows the newest sample).
  announce(text, minGapMs = this.gapMs) {
    if (text === this.lastText && this.pending === null) return;
    const wait = this.lastAt + Math.max(this.gapMs, minGapMs) - this.env.now();
    if (wait <= 0 && this.timer === null) {
      this.flush(text);
      return;
    }
    this.pending = text;
    // A text that may be said sooner than the one waiting (a key press
    // after live values that wait out their longer quiet time) moves the
    // timer up: the reader hears where the key went, not 10 s later.
    const dueAt = this.env.now() + Math.max(0, wait);
    if (this.timer !== null && dueAt < this.dueAt) {
      this.env.clearTimer(this.timer);
      this.timer = null;
    }
    if (this.timer === null) {
      this.dueAt = dueAt;
      this.timer = this.env.setTimer(() => this.fire(), Math.max(0, wait));
    }
  }

  fire() {
    this.timer = null;
    const text = this.pending;
    this.pending = null;
    if (text !== null) this.flush(text);
  }

  flush(text) {
    this.lastAt = this.env.now();
    this.lastText = text;
    this.env.say(text);
  }

  // stop drops what waits (the chart lost focus or was destroyed).
  stop() {
    if (this.timer !== null) this.env.clearTimer(this.timer);
    this.timer = null;
    this.pending = null;
  }
}
