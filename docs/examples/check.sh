#!/bin/bash
# Runs both example clients against a real vitals, kills the server with
# SIGKILL mid-stream and starts it again on the same data dir, then checks
# that the ids each client printed are exactly a run of the server's
# history: nothing lost, nothing twice. Run from the repository root:
#
#   docs/examples/check.sh
set -eu
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
go build -o "$T/vitals" .
go build -o "$T/client_go" ./docs/examples/client_go
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$P
start() {
	"$T/vitals" --addr 127.0.0.1:$P --data-dir "$T/data" --interval 200ms >>"$T/vitals.log" 2>&1 &
	VP=$!
	until curl -sf "$URL/healthz" >/dev/null; do sleep 0.1; done
}
start
python3 docs/examples/client.py "$URL" cpu,load >"$T/py.out" 2>"$T/py.err" &
PY=$!
"$T/client_go" -url "$URL" -topics cpu,load >"$T/go.out" 2>"$T/go.err" &
GO=$!
sleep 3
kill -9 $VP; wait $VP 2>/dev/null || true
sleep 2
start
sleep 3
kill $PY $GO; wait $PY $GO 2>/dev/null || true
curl -s "$URL/api/history?topics=cpu,load" >"$T/history.json"
python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
ids = [e["id"] for e in json.load(open(d + "/history.json"))["events"]]
ok = True
for name in ("py", "go"):
    got = [l.split()[0] for l in open(f"{d}/{name}.out")]
    i = ids.index(got[0])
    same = got == ids[i:i + len(got)]
    ok &= same and len(got) > 30
    print(f"{name}: {len(got)} events, {'ids are exactly the server history' if same else 'MISMATCH'}")
    print("   " + open(f"{d}/{name}.err").read().strip().replace("\n", "\n   "))
sys.exit(0 if ok else 1)
PY
