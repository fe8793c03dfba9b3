// The SharedWorker that holds a browser's one /events stream per server
// (and per host and token) for all its tabs and <vitals-chart> elements:
// browsers allow six HTTP/1.1 connections per host, and a stream per tab
// left the seventh tab hanging. A tab's end is sharedsource.js, which
// looks like an EventSource to stream.js, so every tab keeps its own
// state, badge, catch-up line and stored position.
//
// Each tab resumes exactly by its own position: when it opens (or comes
// back after an error) it gets its own hello, a catch-up bracket with the
// events after its last id (from the window of recent events this worker
// keeps, else from /api/history), then the live events. The stream the
// worker holds asks for the union of what its tabs want.
//
// Messages: a tab sends {op: "open", sid, url} and {op: "close", sid};
// the worker answers {sid, type, id, data}, type being an event name or
// "error", and sends what one of its tasks answered a port as one
// {batch: [answers]} (share.js, Outbox).

import { ShareHub } from "./sharehub.js";

const hub = new ShareHub();
let ports = 0;
self.addEventListener("connect", (e) => {
  const port = e.ports[0];
  port.id = ++ports;
  port.addEventListener("message", (m) => {
    const { op, sid, url } = m.data || {};
    if (op === "open") hub.open(port, sid, url);
    else if (op === "close") hub.close(port, sid);
  });
  port.start();
});
