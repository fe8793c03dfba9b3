package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/internal/proctest"
	"vitals/internal/tooltest"
)

// Cluster is a three-master Redis Cluster started by a test: three
// redis-server processes with cluster mode on, each on its own loopback
// port and in its own directory, joined by redis-cli --cluster create
// (no replicas: a test needs the slots spread, not failover of Redis).
type Cluster struct {
	Nodes []*Server
	// URL names every node, in go-redis's cluster form:
	// redis://127.0.0.1:p1?addr=127.0.0.1:p2&addr=127.0.0.1:p3
	URL string
}

// clusterNodes is the smallest Redis Cluster redis-cli agrees to create.
const clusterNodes = 3

// StartCluster runs a three-master cluster for the test, waits until every
// node reports cluster_state:ok, and stops every process at cleanup.
// Without redis-server or redis-cli the test is skipped (fails when
// CI=true).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli := tooltest.Path(t, "redis-cli", "redis-tools")
	tooltest.Path(t, "redis-server", "redis-server")
	dir := t.TempDir()
	c := &Cluster{}
	addrs := make([]string, 0, clusterNodes)
	for i := range clusterNodes {
		// The cluster bus needs a port of its own; left to Redis it would
		// be the client port + 10000, which may be taken or past 65535.
		bus, err := proctest.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, busPort, _ := net.SplitHostPort(bus)
		s, err := Launch(filepath.Join(dir, "node"+strconv.Itoa(i)),
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", busPort, "--cluster-node-timeout", "5000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		c.Nodes = append(c.Nodes, s)
		addrs = append(addrs, s.Addr)
	}
	c.URL = "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")

	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// create returns once the slots are assigned; the nodes agree on the
	// cluster's state a gossip round or more later.
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range c.Nodes {
		for {
			info, err := s.info("CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster node %s never reported cluster_state:ok: %v\n%s", s.Addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// KeySlot is the cluster's hash slot of key, as the cluster computes it
// (CLUSTER KEYSLOT).
func (c *Cluster) KeySlot(t testing.TB, key string) int {
	t.Helper()
	reply := c.Nodes[0].Do(t, "CLUSTER", "KEYSLOT", key)
	n, err := strconv.Atoi(strings.TrimPrefix(reply, ":"))
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT %s answered %q", key, reply)
	}
	return n
}

// info sends one command whose answer is a bulk string (INFO, CLUSTER
// INFO) and returns it whole.
func (s *Server) info(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c, "$%d\r\n%s\r\n", len(a), a)
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	head = strings.TrimSpace(head)
	if !strings.HasPrefix(head, "$") {
		return "", fmt.Errorf("%s answered %q", strings.Join(args, " "), head)
	}
	n, err := strconv.Atoi(head[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("%s answered %q", strings.Join(args, " "), head)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return string(body), nil
}

// Client is a go-redis cluster client seeded by every node, for the test,
// closed at cleanup.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	opts, err := redis.ParseClusterURL(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClusterClient(opts)
	t.Cleanup(func() { rc.Close() })
	return rc
}
