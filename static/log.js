// Log is the stream panel's event log: at most `max` entries in the DOM,
// the oldest node reused for the newest, and DOM work only in flush() (once
// per animation frame), so a catch-up of thousands of events costs one
// render of the last `max`.

const DATA_CHARS = 160; // enough to see the payload's shape on one line

export class Log {
  constructor(ol, max) {
    this.ol = ol;
    this.max = max;
    this.pending = [];
    // Inside a closed panel nobody sees the log: entries wait (at most
    // 2 x max of them) and are written when the panel opens, so a page
    // left open does no layout and no JSON for it each tick.
    this.panel = ol.closest("details");
    if (this.panel) this.panel.addEventListener("toggle", () => this.flush());
  }

  add(kind, id, topic, data) {
    this.push({ kind, id, topic, data, at: Date.now() });
  }

  system(text) {
    this.push({ kind: "system", text, at: Date.now() });
  }

  push(e) {
    this.pending.push(e);
    // Only the newest `max` can ever be shown; drop older ones in batches so
    // this stays amortised O(1) per event.
    if (this.pending.length > this.max * 2) this.pending.splice(0, this.pending.length - this.max);
  }

  clear() {
    this.pending.length = 0;
    this.ol.replaceChildren();
  }

  // size is how many entries the log holds, shown or waiting for the
  // panel to open.
  size() {
    return Math.min(this.max, this.ol.childElementCount + this.pending.length);
  }

  flush() {
    if (!this.pending.length || (this.panel && !this.panel.open)) return;
    const batch = this.pending.length > this.max ? this.pending.slice(-this.max) : this.pending;
    this.pending = [];
    const stick = this.ol.scrollHeight - this.ol.scrollTop - this.ol.clientHeight < 24;
    for (const e of batch) {
      let li;
      if (this.ol.childElementCount >= this.max) {
        li = this.ol.firstElementChild;
        li.remove();
      } else {
        li = document.createElement("li");
        li.append(document.createElement("time"), document.createElement("span"), document.createElement("code"));
      }
      li.className = "log-" + e.kind;
      const [time, what, body] = li.children;
      time.textContent = clock(e.at);
      if (e.kind === "system") {
        what.textContent = "system";
        body.textContent = e.text;
      } else {
        what.textContent = (e.kind === "replay" ? "caught up " : "live ") + e.topic;
        let json = "";
        try {
          json = JSON.stringify(e.data);
        } catch {
          json = String(e.data);
        }
        if (json.length > DATA_CHARS) json = json.slice(0, DATA_CHARS) + "…";
        body.textContent = `#${e.id} ${json}`;
      }
      this.ol.append(li);
    }
    if (stick) this.ol.scrollTop = this.ol.scrollHeight;
  }
}

function clock(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
