//go:build !nonvml

package gpu

import (
	"bytes"
	"fmt"

	"github.com/ebitengine/purego"

	"vitals/metrics/internal/kfile"
)

// nvml holds the NVML entry points the collector calls. Each returns an
// nvmlReturn_t, 0 for success.
type nvml struct {
	lib     uintptr
	devices []nvmlDevice

	shutdown    func() int32
	utilization func(dev uintptr, u *nvmlUtilization) int32
	memory      func(dev uintptr, m *nvmlMemory) int32
	temperature func(dev uintptr, sensor int32, c *uint32) int32
	power       func(dev uintptr, mw *uint32) int32
}

type nvmlDevice struct {
	handle   uintptr
	id, name string
}

// nvmlUtilization is nvmlUtilization_t.
type nvmlUtilization struct{ GPU, Memory uint32 }

// nvmlMemory is nvmlMemory_t (the v1 struct, which every driver accepts).
type nvmlMemory struct{ Total, Free, Used uint64 }

const (
	nvmlTemperatureGPU = 0  // NVML_TEMPERATURE_GPU
	nvmlBufferSize     = 96 // NVML_DEVICE_NAME_V2_BUFFER_SIZE, also enough for a UUID
)

// openNVML loads the library, initialises it and lists the devices.
func openNVML(path string) (*nvml, error) {
	lib, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	var (
		n            nvml
		initFn       func() int32
		count        func(n *uint32) int32
		byIndex      func(i uint32, dev *uintptr) int32
		name, uuidFn func(dev uintptr, buf *byte, size uint32) int32
	)
	// RegisterLibFunc panics on a missing symbol (an old driver); look
	// each one up first so that is an error instead.
	for _, f := range []struct {
		fn  any
		sym string
	}{
		{&initFn, "nvmlInit_v2"},
		{&n.shutdown, "nvmlShutdown"},
		{&count, "nvmlDeviceGetCount_v2"},
		{&byIndex, "nvmlDeviceGetHandleByIndex_v2"},
		{&name, "nvmlDeviceGetName"},
		{&uuidFn, "nvmlDeviceGetUUID"},
		{&n.utilization, "nvmlDeviceGetUtilizationRates"},
		{&n.memory, "nvmlDeviceGetMemoryInfo"},
		{&n.temperature, "nvmlDeviceGetTemperature"},
		{&n.power, "nvmlDeviceGetPowerUsage"},
	} {
		sym, err := purego.Dlsym(lib, f.sym)
		if err != nil {
			purego.Dlclose(lib)
			return nil, fmt.Errorf("%s: %w", f.sym, err)
		}
		purego.RegisterFunc(f.fn, sym)
	}
	if rc := initFn(); rc != 0 {
		purego.Dlclose(lib)
		return nil, fmt.Errorf("nvmlInit_v2: NVML error %d", rc)
	}
	var num uint32
	if rc := count(&num); rc != 0 {
		n.shutdown()
		purego.Dlclose(lib)
		return nil, fmt.Errorf("nvmlDeviceGetCount_v2: NVML error %d", rc)
	}
	buf := make([]byte, nvmlBufferSize)
	cstr := func(f func(uintptr, *byte, uint32) int32, dev uintptr) string {
		clear(buf)
		if f(dev, &buf[0], uint32(len(buf))) != 0 {
			return ""
		}
		s, _, _ := bytes.Cut(buf, []byte{0})
		return string(s)
	}
	for i := range num {
		var dev uintptr
		if byIndex(i, &dev) != 0 {
			continue // e.g. a GPU lost off the bus; the others still work
		}
		d := nvmlDevice{handle: dev, name: cstr(name, dev)}
		d.id = "nvidia/" + cstr(uuidFn, dev)
		if d.id == "nvidia/" {
			d.id = "nvidia/" + kfile.Itoa(int(i))
		}
		n.devices = append(n.devices, d)
	}
	if len(n.devices) == 0 {
		n.shutdown()
		purego.Dlclose(lib)
		return nil, fmt.Errorf("NVML lists no usable GPU (count %d)", num)
	}
	n.lib = lib
	return &n, nil
}

func (n *nvml) read() []GPU {
	out := make([]GPU, 0, len(n.devices))
	for _, d := range n.devices {
		g := GPU{ID: d.id, Vendor: "nvidia", Name: d.name}
		var u nvmlUtilization
		if n.utilization(d.handle, &u) == 0 {
			g.Util = ptr(float64(u.GPU))
		}
		var m nvmlMemory
		if n.memory(d.handle, &m) == 0 {
			g.MemUsed, g.MemTotal = &m.Used, &m.Total
		}
		var c uint32
		if n.temperature(d.handle, nvmlTemperatureGPU, &c) == 0 {
			g.Temp = ptr(float64(c))
		}
		var mw uint32
		if n.power(d.handle, &mw) == 0 {
			g.Power = ptr(kfile.Round2(float64(mw) / 1000))
		}
		out = append(out, g)
	}
	return out
}

func (n *nvml) close() {
	if n.lib != 0 {
		n.shutdown()
		purego.Dlclose(n.lib)
		n.lib = 0
	}
}
