package gpu

import (
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

// Topic is the topic name of the collector.
const Topic = "gpu"

// ErrNone is returned by [New] on a host with no GPU it can read (no
// NVIDIA driver, no amdgpu device): the app leaves "gpu" out.
var ErrNone = errors.New("gpu: no NVIDIA (NVML) or AMD (amdgpu sysfs) GPU on this host")

// Options configures [New].
type Options struct {
	Sys string // root of the host's /sys; empty means /sys
	// NVMLLibrary is the NVML shared object to load; empty means
	// "libnvidia-ml.so.1", found by the dynamic loader's usual search.
	NVMLLibrary string
	// NoNVML skips NVIDIA GPUs without trying to load NVML.
	NoNVML bool
	Logger *slog.Logger // nil -> discard
}

// GPU is one GPU in a "gpu" event. A figure the driver doesn't give is
// null.
type GPU struct {
	ID       string   `json:"id"` // "nvidia/<UUID>" or "amd/<PCI address>": stable, for history
	Vendor   string   `json:"vendor"`
	Name     string   `json:"name"`
	Util     *float64 `json:"util_pct"`
	MemUsed  *uint64  `json:"mem_used"` // bytes
	MemTotal *uint64  `json:"mem_total"`
	Temp     *float64 `json:"temp_c"`
	Power    *float64 `json:"power_w"`
}

// Payload is one "gpu" event.
type Payload struct {
	T    int64 `json:"t"`
	GPUs []GPU `json:"gpus"`
}

// source is one way of reading GPUs.
type source interface {
	read() []GPU
	close()
}

// Collector is the "gpu" collector. See the package documentation.
type Collector struct {
	sources []source
}

// New finds the GPUs. When NVML can't be loaded or initialised that is
// logged once at debug and NVIDIA GPUs are left out; it returns [ErrNone]
// when no GPU is left.
func New(opts Options) (*Collector, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sys := opts.Sys
	if sys == "" {
		sys = "/sys"
	}
	c := &Collector{}
	if !opts.NoNVML {
		lib := opts.NVMLLibrary
		if lib == "" {
			lib = "libnvidia-ml.so.1"
		}
		n, err := openNVML(lib)
		if err != nil {
			log.Debug("gpu: NVIDIA GPUs left out: NVML unavailable", "err", err)
		} else {
			c.sources = append(c.sources, n)
		}
	}
	if a := findAMD(sys); a != nil {
		c.sources = append(c.sources, a)
	}
	if len(c.sources) == 0 {
		return nil, ErrNone
	}
	return c, nil
}

// Topic returns "gpu".
func (c *Collector) Topic() string { return Topic }

// Collect reads every GPU and returns the event for tick t.
func (c *Collector) Collect(t time.Time) ([]byte, error) {
	p := Payload{T: t.UnixMilli(), GPUs: []GPU{}}
	for _, s := range c.sources {
		p.GPUs = append(p.GPUs, s.read()...)
	}
	return json.Marshal(&p)
}

// Close releases NVML.
func (c *Collector) Close() error {
	for _, s := range c.sources {
		s.close()
	}
	c.sources = nil
	return nil
}

func ptr[T any](v T) *T { return &v }
