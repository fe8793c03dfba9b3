package sensors

import (
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

// BenchmarkSensors is one "sensors" tick over the many-core server's
// fixture /sys (11 hwmon chips, 36 temperature inputs): the cost of the
// file reads and the payload, since this machine has no sensors of its own.
func BenchmarkSensors(b *testing.B) {
	c, err := New(Options{Sys: "testdata/server"})
	if err != nil {
		b.Fatal(err)
	}
	t := time.UnixMilli(1700000000000)
	fixture.CPUPerOp(b, func() {
		if _, err := c.Collect(t); err != nil {
			b.Fatal(err)
		}
	})
}
