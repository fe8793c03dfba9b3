package containers

import (
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

// standInRuntime serves GET /containers/json on a unix socket the way the
// Docker Engine API (and Podman's compatible one) does, calling hold first
// so a test can make it hang.
func standInRuntime(t *testing.T, hold func()) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containers/json", func(w http.ResponseWriter, r *http.Request) {
		hold()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode([]map[string]any{
			{"Id": dockerID, "Names": []string{"/web-1"}, "Image": "nginx", "State": "running"},
			{"Id": "feedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedfacefeedface", "Names": []string{"/gone"}},
		})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestNamesFromRuntimeAPI(t *testing.T) {
	sock := standInRuntime(t, func() {})
	c, err := New(Options{CgroupRoot: fixture.CopyTree(t, "testdata/v2/cgroup"), Proc: t.TempDir(), RuntimeSockets: []string{sock}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		var p Payload
		fixture.Collect(t, c, time.Now(), &p)
		for _, ct := range p.Containers {
			if ct.Kind == KindDocker && ct.Name == "web-1" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the docker container never got its name from the runtime API")
}

// TestHangingRuntime checks that a runtime that never answers neither
// delays a tick nor keeps Close waiting.
func TestHangingRuntime(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	sock := standInRuntime(t, func() { <-release })
	c, err := New(Options{CgroupRoot: fixture.CopyTree(t, "testdata/v2/cgroup"), Proc: t.TempDir(), RuntimeSockets: []string{sock}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 3 {
		if _, err := c.Collect(time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("three ticks took %v with a hanging runtime", d)
	}
	start = time.Now()
	c.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v with a request in flight", d)
	}
}
