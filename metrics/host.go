package metrics

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/host"

	"vitals/hostinfo"
)

// ReadHost describes this host; its Interval and Retention are the
// caller's to set. It calls host.Info once, which is slow (~10 ms: it reads
// a dozen files and runs a few syscalls), so call it at start only. ctx
// bounds nothing in gopsutil today but carries the root overrides of opts.
func ReadHost(ctx context.Context, opts Options) (hostinfo.Info, error) {
	env, err := newHostEnvContext(ctx, opts)
	if err != nil {
		return hostinfo.Info{}, err
	}
	info, err := host.InfoWithContext(env.ctx)
	if err != nil {
		return hostinfo.Info{}, fmt.Errorf("read host info: %w", err)
	}
	h := hostinfo.Info{
		Hostname:        info.Hostname,
		OS:              info.OS,
		Platform:        info.Platform,
		PlatformVersion: info.PlatformVersion,
		Kernel:          info.KernelVersion,
		Arch:            info.KernelArch,
		CPUs:            hostCPUs(env),
	}
	if info.BootTime > 0 {
		h.BootTime = time.Unix(int64(info.BootTime), 0)
	}
	if c := detectContainer(env); c.runtime != "" {
		h.Container, h.CPULimit = c.runtime, c.cpuLimit
		if c.memory != nil {
			h.MemoryLimit = c.memory.limit
		}
	}
	return h, nil
}

// hostCPUs counts the host's logical CPUs (gopsutil reads them from the
// host's /proc), falling back to runtime.NumCPU where it can't. runtime.NumCPU
// alone would be this process's affinity mask, which is smaller in a
// cpuset-limited container.
func hostCPUs(env hostEnv) int {
	if n, err := cpu.CountsWithContext(env.ctx, true); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}
