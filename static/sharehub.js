// ShareHub serves the browser's shared /events streams to the tabs that
// open them: one stream per server, host and token (a Group), one Sub per
// stream a tab opened. It runs in the SharedWorker (shareworker.js) or,
// where there is none, in the tab elected leader (sharedsource.js). A
// port is anything with an id and postMessage(msg): a MessagePort, or a
// tab reached over a BroadcastChannel. See shareworker.js for what each
// tab is sent.

import { parseStreamURL, unionURL, covers, EventWindow, Outbox } from "./share.js";
import { mergeFleet } from "./fleet.js";
import { MAX_HISTORY_LIMIT } from "./view.js";
import { parseObject as parse } from "./stream.js";

// A stream no tab uses is kept this long in a worker: a reload reuses it.
// (A leader tab closes it at once: a reload of the leader ends it anyway.)
export const IDLE_CLOSE_MS = 10000;

class Group {
  constructor(key, groups, idleMs) {
    this.key = key;
    this.groups = groups; // the hub's, to leave it when idle
    this.idleMs = idleMs;
    this.subs = new Map(); // "port#sid" -> Sub
    this.es = null;
    this.have = null; // what the open stream asks for
    this.window = new EventWindow();
    this.lastId = null;
    this.hello = null; // the raw text of the last hello
    this.ready = false; // hello (and its catch-up) done: tabs can be served
    this.openedAfter = null;
    this.catchup = null; // the stream's catch-up running: {after, complete, reason, mark}
    this.lastCatchup = null;
    this.status = null; // the last "status" text
    this.fleet = null; // {self, hosts} merged from "fleet" events
    this.idleTimer = 0;
  }

  wants() {
    return [...this.subs.values()].map((s) => s.want);
  }

  // ensure opens the stream, or reopens it for a tab it does not serve.
  ensure(want, after) {
    clearTimeout(this.idleTimer);
    if (this.es && covers(this.have, want)) return;
    const wants = this.wants();
    this.have = parseStreamURL(unionURL(this.key, wants, null));
    if (this.es) this.es.close();
    this.openedAfter = this.lastId ?? after;
    this.ready = false;
    const es = new EventSource(unionURL(this.key, wants, this.openedAfter));
    this.es = es;
    es.addEventListener("hello", (e) => {
      if (es !== this.es) return;
      this.hello = e.data;
      this.catchup = null;
      // A catch-up follows when the stream resumes from an id: the one it
      // was opened after, or the last it received (the browser sends it).
      if (this.lastId === null && this.openedAfter === null) this.becomeReady();
    });
    es.addEventListener("catchup-start", (e) => {
      if (es !== this.es) return;
      const c = parse(e.data);
      this.catchup = { after: String(c.after ?? ""), complete: c.complete !== false, reason: String(c.reason ?? ""), mark: this.window.mark() };
    });
    es.addEventListener("catchup-end", () => {
      if (es !== this.es) return;
      this.lastCatchup = this.catchup;
      this.catchup = null;
      this.becomeReady();
    });
    es.addEventListener("status", (e) => {
      if (es !== this.es) return;
      this.status = e.data;
      this.toLive("status", "", e.data);
    });
    es.addEventListener("fleet", (e) => {
      if (es !== this.es) return;
      const f = parse(e.data);
      this.fleet = { self: f.self, hosts: mergeFleet(this.fleet ? this.fleet.hosts : [], f, this.have.points || 60) };
      this.toLive("fleet", "", e.data);
    });
    es.addEventListener("error", () => {
      if (es !== this.es) return;
      // Every tab hears it and comes back by its own position, on its own
      // timer (stream.js), as with a stream of its own; the first to come
      // back opens this stream again. The browser's own retry is not used:
      // its timer is invisible and it gives up for good on some answers.
      es.close();
      this.es = null;
      this.ready = false;
      for (const s of this.subs.values()) {
        s.live = false;
        s.post("error", "", "");
      }
    });
    this.listen(es);
  }

  // listen adds a listener for each topic, as hello names them.
  listen(es) {
    const seen = new Set();
    es.addEventListener("hello", (e) => {
      for (const t of parse(e.data).topics || []) {
        if (seen.has(t)) continue;
        seen.add(t);
        es.addEventListener(t, (ev) => {
          if (es !== this.es) return;
          this.lastId = ev.lastEventId || this.lastId;
          const entry = { id: ev.lastEventId, type: t, data: ev.data };
          this.window.push(entry);
          // Live tabs are where this stream is: on a reopen for a new
          // tab's topics its catch-up is news to them too.
          this.toLive(t, entry.id, entry.data);
        });
      }
    });
  }

  becomeReady() {
    this.ready = true;
    for (const s of this.subs.values()) if (!s.live && !s.serving) this.serve(s);
  }

  toLive(type, id, data) {
    for (const s of this.subs.values()) if (s.live && s.wants(type)) s.post(type, id, data);
  }

  // serve gives a tab its hello, its catch-up after its own position and
  // the state the stream is in, then makes it live.
  async serve(s) {
    s.serving = true;
    s.post("hello", "", this.hello);
    if (s.want.after !== null) {
      let list = this.window.after(s.want.after);
      let complete = true;
      let reason = "";
      const c = this.lastCatchup;
      if (list === null && c && c.after === s.want.after) {
        // The position this stream resumed from: its own catch-up.
        list = this.window.since(c.mark);
        ({ complete, reason } = c);
      }
      if (list === null) ({ list, complete, reason } = await this.fromHistory(s));
      if (!this.subs.has(s.key) || !this.ready) {
        s.serving = false;
        return; // gone, or the stream failed meanwhile (the tab heard the error)
      }
      list = list.filter((e) => s.wants(e.type));
      s.post("catchup-start", "", JSON.stringify({ after: s.want.after, count: list.length, complete, reason }));
      for (const e of list) s.post(e.type, e.id, e.data);
      s.post("catchup-end", "", JSON.stringify({ count: list.length, head: this.lastId ?? "" }));
    }
    if (this.status) s.post("status", "", this.status);
    if (this.fleet && s.want.fleet) s.post("fleet", "", JSON.stringify({ ...this.fleet, append: false }));
    s.serving = false;
    s.live = true;
  }

  // fromHistory reads what a tab missed from /api/history (it is further
  // behind than the window), then the window's newer events.
  async fromHistory(s) {
    const u = new URL(this.key);
    u.pathname = u.pathname.replace(/\/events$/, "/api/history");
    u.searchParams.set("after", s.want.after);
    u.searchParams.set("limit", String(MAX_HISTORY_LIMIT));
    if (s.want.topics) u.searchParams.set("topics", [...s.want.topics].sort().join(","));
    try {
      const res = await fetch(u.href, { headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error(String(res.status));
      const h = await res.json();
      const list = (h.events || []).map((e) => ({ id: String(e.id), type: String(e.event), data: JSON.stringify(e.data) }));
      const got = new Set(list.map((e) => e.id));
      for (const e of this.window.events) if (!got.has(e.id)) list.push(e);
      return { list, complete: h.complete !== false, reason: String(h.reason ?? "") };
    } catch {
      // The position is unknown here (another store, a bad id): what the
      // window holds, said to be incomplete, as the server would.
      return { list: [...this.window.events], complete: false, reason: "unknown" };
    }
  }

  close(key) {
    this.subs.delete(key);
    if (this.subs.size) return;
    clearTimeout(this.idleTimer);
    const end = () => {
      if (this.subs.size) return;
      if (this.es) this.es.close();
      this.groups.delete(this.key);
    };
    if (this.idleMs > 0) this.idleTimer = setTimeout(end, this.idleMs);
    else end();
  }
}

class Sub {
  constructor(outbox, port, sid, want) {
    this.outbox = outbox; // the hub's, shared by every port
    this.port = port;
    this.sid = sid;
    this.key = port.id + "#" + sid;
    this.want = want;
    this.live = false;
    this.serving = false;
  }

  wants(type) {
    if (type === "fleet") return this.want.fleet;
    if (type === "status" || !this.want.topics) return true;
    return this.want.topics.has(type);
  }

  post(type, id, data) {
    this.outbox.post(this.port, { sid: this.sid, type, id, data });
  }
}

export class ShareHub {
  // idleMs: how long a stream no tab uses is kept.
  constructor({ idleMs = IDLE_CLOSE_MS } = {}) {
    this.groups = new Map(); // key -> Group
    this.idleMs = idleMs;
    this.outbox = new Outbox();
  }

  // open serves the stream url (absolute, with the tab's lastEventId) to
  // the tab's port as stream sid.
  open(port, sid, url) {
    const want = parseStreamURL(url);
    let g = this.groups.get(want.key);
    if (!g) this.groups.set(want.key, (g = new Group(want.key, this.groups, this.idleMs)));
    const s = new Sub(this.outbox, port, sid, want);
    g.subs.set(s.key, s);
    g.ensure(want, want.after);
    if (g.ready) g.serve(s);
  }

  close(port, sid) {
    const key = port.id + "#" + sid;
    for (const g of this.groups.values()) if (g.subs.has(key)) g.close(key);
  }
}
