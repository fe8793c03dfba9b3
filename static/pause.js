// Pause: what the dashboard's Pause button holds. While paused the view on
// screen holds still (charts, the "Now" line, tables, gaps, the badge's
// text); the stream keeps running underneath and counts what arrives, and
// Resume draws it all at once. Pure: no DOM, so pause_test.js runs it under
// node.

export class Pause {
  constructor() {
    this.paused = false;
    this.waiting = 0; // events taken since the pause, not yet drawn
    this.redraw = false; // one frame asked to draw although paused
  }

  // toggle pauses or resumes and says which; both start a fresh count.
  toggle() {
    this.paused = !this.paused;
    this.waiting = 0;
    return this.paused;
  }

  // resume ends a pause, if any (a host switch shows the new host live).
  resume() {
    if (this.paused) this.toggle();
  }

  // take counts one event from the stream; history a range change reads is
  // not news, so it is not counted as waiting.
  take(source) {
    if (this.paused && source !== "history") this.waiting++;
  }

  // redrawOnce lets the next frame draw while paused: the user asked for
  // something (another range) and expects to see it.
  redrawOnce() {
    this.redraw = true;
  }

  // draws says whether this frame draws the view, and spends a redrawOnce.
  draws() {
    if (!this.paused) return true;
    const r = this.redraw;
    this.redraw = false;
    return r;
  }

  // badge is the badge's [main, sub] text while paused, null when live.
  badge() {
    if (!this.paused) return null;
    return ["Paused", waitingText(this.waiting)];
  }
}

// waitingText words the count of events held back: "nothing new yet",
// "1 event waiting", "12 events waiting".
export function waitingText(n) {
  if (!(n > 0)) return "nothing new yet";
  return n === 1 ? "1 event waiting" : `${n} events waiting`;
}
