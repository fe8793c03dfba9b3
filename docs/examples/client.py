#!/usr/bin/env python3
"""Follow a vitals /events stream with the standard library only.

    python3 client.py http://127.0.0.1:8080 cpu,load

Prints one line per metric event. When the connection drops it waits the
server's retry: delay and reconnects with Last-Event-ID, so it resumes
exactly after the last event it printed. Set VITALS_TOKEN if the server
asks for a token.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def follow(base, topics, on_event):
    last_id = None
    retry = 2.0  # seconds, until the server says otherwise
    while True:
        url = base.rstrip("/") + "/events"
        if topics:
            url += "?" + urllib.parse.urlencode({"topics": topics})
        req = urllib.request.Request(url, headers={"Accept": "text/event-stream"})
        if last_id:
            req.add_header("Last-Event-ID", last_id)
        token = os.environ.get("VITALS_TOKEN")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            # The timeout is per read: the server sends at least a ping
            # every 15 s, so 60 s of silence means a dead connection.
            with urllib.request.urlopen(req, timeout=60) as resp:
                event, data, eid = "message", [], None
                for raw in resp:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if line == "":  # a blank line dispatches the event
                        if eid is not None:
                            last_id = eid
                        if data:
                            on_event(event, eid, "\n".join(data))
                        event, data, eid = "message", [], None
                        continue
                    if line.startswith(":"):  # a comment (": ping")
                        continue
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
                    elif field == "id":
                        eid = value
                    elif field == "retry" and value.isdigit():
                        retry = int(value) / 1000
            why = "stream ended"
        except urllib.error.HTTPError as e:
            if e.code in (400, 401, 403):  # retrying would not help
                sys.exit(f"vitals answered {e.code}: {e.read().decode(errors='replace')}")
            why = f"HTTP {e.code}"
        except (OSError, ValueError) as e:
            why = str(e)
        print(f"# {why}; reconnecting in {retry:g} s after {last_id}", file=sys.stderr)
        time.sleep(retry)


def show(event, eid, data):
    payload = json.loads(data)
    if event == "catchup-start":
        print(f"# catching up {payload['count']} events (complete: {payload['complete']})", file=sys.stderr)
    elif event == "catchup-end":
        print(f"# caught up {payload['count']} events", file=sys.stderr)
    elif eid and event == "cpu":
        print(eid, event, busiest_core(payload), data, flush=True)
    elif eid:  # metric events carry ids; hello and the catch-up brackets don't
        print(eid, event, data, flush=True)


def busiest_core(payload):
    """Names the busiest CPU of a cpu event by the kernel's number: cores[i]
    belongs to cpu core_ids[i] (an offline CPU is left out of both)."""
    cores = payload.get("cores") or []
    ids = payload.get("core_ids") or range(len(cores))  # older servers
    known = [(v, n) for n, v in zip(ids, cores) if v is not None]
    if not known:
        return "busiest=none"
    v, n = max(known, key=lambda c: (c[0], -c[1]))
    return f"busiest=cpu{n}:{v:g}%"


if __name__ == "__main__":
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
    topics = sys.argv[2] if len(sys.argv) > 2 else ""
    try:
        follow(base, topics, show)
    except KeyboardInterrupt:
        pass
