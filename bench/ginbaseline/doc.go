// Command ginbaseline is the comparison point for vitals' fan-out figures:
// the SSE server a gin user writes by hand in an afternoon. It samples the
// host with vitals' own collectors (so the payloads are byte for byte the
// same, on the same wall-clock ticks) and streams them with c.SSEvent.
//
// What it deliberately does the simple way, because that is the point of
// the comparison:
//   - one goroutine per client (gin's), looping over a per-client channel
//     fed by one shared broadcaster;
//   - c.SSEvent per event, which formats each event per client, and a
//     Flush per event (five syscalls a tick instead of one);
//   - no ids, no history, no catch-up: a client that reconnects loses what
//     it missed, and a client whose channel is full misses events (the
//     broadcaster skips it rather than stall everyone).
//
// It has no /api/history, so the load generator checks it with
// -truth ticks (one event per topic per interval, no sample time skipped).
//
// Concurrency: main owns the sampler goroutine and the HTTP server and
// stops both on SIGINT/SIGTERM; each client goroutine ends when its request
// ends.
package main
