// Package containers is the "containers" topic: CPU, memory, network and
// block I/O per container (Docker, Podman, containerd/Kubernetes, LXC) and
// per systemd service, read straight from the cgroup files, for cgroup v2
// and for v1 (including the v1 + v2 hybrid, where the controllers live in
// the v1 hierarchies).
//
// Containers are found by walking the cgroup tree every few ticks and
// matching the paths the runtimes create ([classify]); between walks each
// tick reads a handful of small files per container. Names come from the
// Docker Engine API (which Podman also serves) when its unix socket is
// there, else from the cgroup path.
//
// # Concurrency
//
// Exactly one goroutine may call Collect at a time. When a runtime socket
// exists, [New] starts one goroutine that refreshes container names in the
// background with a bounded request time, so no tick ever waits for the
// runtime; [Collector.Close] stops it and waits for it. Close must be
// called once, after the last Collect.
package containers
