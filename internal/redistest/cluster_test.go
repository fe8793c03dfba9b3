package redistest

import (
	"strings"
	"testing"
)

// TestClusterStarts: three masters agree, and a host's hash tag decides
// the slot of each of its keys.
func TestClusterStarts(t *testing.T) {
	c := StartCluster(t)
	info, err := c.Nodes[1].info("CLUSTER", "INFO")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "cluster_known_nodes:3") || !strings.Contains(info, "cluster_slots_assigned:16384") {
		t.Errorf("CLUSTER INFO:\n%s", info)
	}
	if a, b := c.KeySlot(t, "vitals:{h1}:events"), c.KeySlot(t, "vitals:{h1}:record"); a != b {
		t.Errorf("slots %d and %d for one hash tag", a, b)
	}
}
