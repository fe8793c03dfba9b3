package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// namesEvery is how often names are refreshed without being asked:
	// often enough to follow a rename, rarely enough to cost nothing.
	namesEvery = 30 * time.Second
	// namesMinGap spaces refreshes asked for by unknown ids: an id that no
	// runtime knows (a systemd-run scope, a runtime without the API) would
	// otherwise cause a request on every tick.
	namesMinGap = 5 * time.Second
	// namesTimeout bounds one request to the runtime, which can hang under
	// load; the next refresh tries again.
	namesTimeout = 2 * time.Second
)

// runtimeNames keeps container names fetched from Docker Engine API
// sockets (Docker's, or Podman's compatible one) by a background goroutine.
type runtimeNames struct {
	sockets []string
	clients []*http.Client
	log     *slog.Logger
	kick    chan struct{} // a buffered nudge: an unnamed container appeared

	mu    sync.Mutex          // guards following fields
	names []map[string]string // per socket: full container id -> name

	cancel context.CancelFunc
	done   chan struct{}
}

func newRuntimeNames(sockets []string, log *slog.Logger) *runtimeNames {
	r := &runtimeNames{
		sockets: sockets,
		log:     log,
		kick:    make(chan struct{}, 1),
		names:   make([]map[string]string, len(sockets)),
		done:    make(chan struct{}),
	}
	for _, s := range sockets {
		r.clients = append(r.clients, &http.Client{
			Timeout: namesTimeout,
			Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "unix", s)
				},
				MaxIdleConns: 1,
			},
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go r.run(ctx)
	return r
}

// run refreshes the names now, every namesEvery, and when kicked.
func (r *runtimeNames) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(namesEvery)
	defer t.Stop()
	failing := make([]bool, len(r.sockets))
	for {
		for i := range r.sockets {
			err := r.refresh(ctx, i)
			if err != nil && !failing[i] && ctx.Err() == nil {
				r.log.Debug("containers: names from the runtime API unavailable, using cgroup paths", "socket", r.sockets[i], "err", err)
			}
			failing[i] = err != nil
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(namesMinGap):
			}
		}
	}
}

// refresh lists the running containers of socket i.
func (r *runtimeNames) refresh(ctx context.Context, i int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://runtime/containers/json", nil)
	if err != nil {
		return err
	}
	resp, err := r.clients[i].Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /containers/json: %s", resp.Status)
	}
	var list []struct {
		ID    string   `json:"Id"`
		Names []string `json:"Names"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 16<<20)).Decode(&list); err != nil {
		return fmt.Errorf("decode /containers/json: %w", err)
	}
	names := make(map[string]string, len(list))
	for _, c := range list {
		if len(c.Names) > 0 {
			names[c.ID] = strings.TrimPrefix(c.Names[0], "/")
		}
	}
	// Replacing the map drops containers that are gone.
	r.mu.Lock()
	r.names[i] = names
	r.mu.Unlock()
	return nil
}

// name returns the runtime's name for a container id, or false (and a
// nudge to refresh) when it has none yet. It never blocks.
func (r *runtimeNames) name(id string) (string, bool) {
	r.mu.Lock()
	var n string
	var ok bool
	for _, m := range r.names {
		if n, ok = m[id]; ok {
			break
		}
	}
	r.mu.Unlock()
	if !ok {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	return n, ok
}

func (r *runtimeNames) close() {
	r.cancel()
	<-r.done
	for _, c := range r.clients {
		c.CloseIdleConnections()
	}
}
