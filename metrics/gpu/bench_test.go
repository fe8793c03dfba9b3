package gpu

import (
	"testing"
	"time"

	"vitals/metrics/internal/fixture"
)

// BenchmarkAMDGPU is one "gpu" tick over the AMD fixture /sys (amdgpu's
// busy percent, VRAM and hwmon files): the sysfs path's cost, since this
// machine has no GPU. The NVML path's cost is the driver's and is not
// measured here.
func BenchmarkAMDGPU(b *testing.B) {
	c, err := New(Options{Sys: "testdata/amd", NoNVML: true})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	t := time.UnixMilli(1700000000000)
	fixture.CPUPerOp(b, func() {
		if _, err := c.Collect(t); err != nil {
			b.Fatal(err)
		}
	})
}
