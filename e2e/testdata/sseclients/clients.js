// Connects one SSE client, named by ?client=, to the vitals server at
// ?vitals= with the token in ?token=, the way docs/embedding.md shows, and
// records what it receives in window.got for the test to read.
const q = new URLSearchParams(location.search);
const base = q.get("vitals");
const token = q.get("token");
const which = q.get("client");
// The stream is asked for these topics only, so every event with an id is
// one the client records.
const topics = ["cpu", "memory", "load", "disk", "network"];
const only = `topics=${topics.join(",")}`;

const got = (window.got = { client: which, ids: [], opens: 0, hellos: 0, errors: [] });

// An EventSource-shaped object (the browser's or the eventsource
// package's): one listener per event name; id-less events (hello,
// catch-up brackets) carry no id of their own.
function listen(es) {
  es.onopen = () => got.opens++;
  es.onerror = () => got.errors.push("error, readyState " + es.readyState);
  for (const t of topics) es.addEventListener(t, (e) => got.ids.push(e.lastEventId));
  es.addEventListener("hello", () => got.hellos++);
}

if (which === "native") {
  // The browser's EventSource can't send headers: the token goes in the URL.
  listen(new EventSource(`${base}/events?${only}&token=${encodeURIComponent(token)}`));
} else if (which === "eventsource") {
  const { EventSource } = await import("eventsource");
  listen(
    new EventSource(`${base}/events?${only}`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
    }),
  );
} else if (which === "fetch-event-source") {
  const { fetchEventSource } = await import("@microsoft/fetch-event-source");
  fetchEventSource(`${base}/events?${only}`, {
    headers: { Authorization: `Bearer ${token}`, "Cache-Control": "no-cache" },
    openWhenHidden: true,
    async onopen(res) {
      if (!res.ok) throw new Error(`status ${res.status}`);
      got.opens++;
    },
    onmessage(m) {
      if (topics.includes(m.event)) got.ids.push(m.id);
      if (m.event === "hello") got.hellos++;
    },
    // The stream ended cleanly (a server shutting down): reconnect, as an
    // EventSource would. Throwing hands it to onerror, which retries.
    onclose() {
      throw new Error("stream ended");
    },
    onerror(err) {
      got.errors.push(String(err)); // returning nothing: retry after the server's retry
    },
  });
} else {
  got.errors.push("unknown client " + which);
}
document.getElementById("status").textContent = which;
