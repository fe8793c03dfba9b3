package sensors

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"vitals/metrics/internal/kfile"
)

// Topic is the topic name of the collector.
const Topic = "sensors"

// ErrNone is returned by [New] on a host without temperature sensors (most
// virtual machines): the app leaves "sensors" out.
var ErrNone = errors.New("sensors: no hwmon or thermal zone temperature on this host")

// Options configures [New].
type Options struct {
	Sys string // root of the host's /sys; empty means /sys
	// RescanTicks is how many ticks the sensor list is reused; 0 means 60
	// (sensors appear only when a driver loads or a device is plugged).
	RescanTicks int
	Logger      *slog.Logger // nil -> discard
}

// Sensor is one temperature in a "sensors" event, in degrees Celsius.
type Sensor struct {
	ID    string   `json:"id"`    // "<chip>/<input>": stable across ticks, for history
	Chip  string   `json:"chip"`  // hwmon name ("coretemp", "nvme") or "thermal"
	Label string   `json:"label"` // the driver's label, else the input or zone type
	C     float64  `json:"c"`
	Crit  *float64 `json:"crit"` // null when the driver gives none
	Max   *float64 `json:"max"`
}

// Payload is one "sensors" event.
type Payload struct {
	T       int64    `json:"t"`
	Sensors []Sensor `json:"sensors"`
}

// input is one temperature file and what was read about it at listing.
type input struct {
	path string
	s    Sensor
}

// Collector is the "sensors" collector. See the package documentation.
type Collector struct {
	sys       string
	rescan    int
	log       *slog.Logger
	read      func(string) ([]byte, error) // os.ReadFile; tests inject errors
	inputs    []input
	sinceScan int
	logged    map[string]bool
}

// New lists the sensors; it returns [ErrNone] when there is none.
func New(opts Options) (*Collector, error) {
	c := &Collector{
		sys:    opts.Sys,
		rescan: opts.RescanTicks,
		log:    opts.Logger,
		read:   os.ReadFile,
		logged: make(map[string]bool),
	}
	if c.sys == "" {
		c.sys = "/sys"
	}
	if c.rescan <= 0 {
		c.rescan = 60
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.scan()
	if len(c.inputs) == 0 {
		return nil, ErrNone
	}
	return c, nil
}

// Topic returns "sensors".
func (c *Collector) Topic() string { return Topic }

// Collect reads every sensor and returns the event for tick t.
func (c *Collector) Collect(t time.Time) ([]byte, error) {
	if c.sinceScan >= c.rescan {
		c.scan()
	}
	c.sinceScan++
	p := Payload{T: t.UnixMilli(), Sensors: make([]Sensor, 0, len(c.inputs))}
	for _, in := range c.inputs {
		b, err := c.read(in.path)
		var milli int64
		if err == nil {
			milli, err = kfile.ParseInt(b)
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENODEV) {
				c.sinceScan = c.rescan // gone: list again next tick
			}
			if !c.logged[in.path] && len(c.logged) < 256 {
				c.logged[in.path] = true
				c.log.Debug("sensors: reading left out", "path", in.path, "err", err)
			}
			continue
		}
		s := in.s
		s.C = celsius(milli)
		p.Sensors = append(p.Sensors, s)
	}
	return json.Marshal(&p)
}

// celsius turns millidegrees into degrees with one decimal: sensors rarely
// resolve better than 0.5 °C.
func celsius(milli int64) float64 {
	return math.Round(float64(milli)/100) / 10
}

// scan lists hwmon temperature inputs and thermal zones.
func (c *Collector) scan() {
	c.sinceScan = 0
	c.inputs = c.inputs[:0]
	c.inputs = append(c.inputs, c.scanHwmon()...)
	c.inputs = append(c.inputs, c.scanThermal()...)
}

func (c *Collector) scanHwmon() []input {
	dirs, _ := filepath.Glob(filepath.Join(c.sys, "class", "hwmon", "hwmon*"))
	slices.SortFunc(dirs, naturalCompare)
	type chip struct {
		dir, name, dev string
	}
	var chips []chip
	count := map[string]int{}
	for _, d := range dirs {
		name, err := c.readString(filepath.Join(d, "name"))
		if err != nil {
			// Older drivers put their files under device/.
			if name, err = c.readString(filepath.Join(d, "device", "name")); err != nil {
				continue
			}
			d = filepath.Join(d, "device")
		}
		dev := filepath.Base(d)
		if link, err := os.Readlink(filepath.Join(d, "device")); err == nil {
			dev = filepath.Base(link)
		}
		chips = append(chips, chip{d, name, dev})
		count[name]++
	}
	var out []input
	for _, ch := range chips {
		chipName := ch.name
		if count[ch.name] > 1 { // two NVMe drives, two CPU packages
			chipName = ch.name + "-" + ch.dev
		}
		files, _ := filepath.Glob(filepath.Join(ch.dir, "temp*_input"))
		slices.SortFunc(files, naturalCompare)
		for _, f := range files {
			base := strings.TrimSuffix(filepath.Base(f), "_input") // "temp1"
			prefix := filepath.Join(ch.dir, base)
			label, err := c.readString(prefix + "_label")
			if err != nil || label == "" {
				label = base
			}
			out = append(out, input{path: f, s: Sensor{
				ID:    chipName + "/" + base,
				Chip:  chipName,
				Label: label,
				Crit:  c.readCelsius(prefix + "_crit"),
				Max:   c.readCelsius(prefix + "_max"),
			}})
		}
	}
	return out
}

func (c *Collector) scanThermal() []input {
	zones, _ := filepath.Glob(filepath.Join(c.sys, "class", "thermal", "thermal_zone*"))
	slices.SortFunc(zones, naturalCompare)
	var out []input
	for _, z := range zones {
		typ, err := c.readString(filepath.Join(z, "type"))
		if err != nil {
			continue
		}
		s := Sensor{ID: "thermal/" + filepath.Base(z), Chip: "thermal", Label: typ}
		trips, _ := filepath.Glob(filepath.Join(z, "trip_point_*_type"))
		for _, tp := range trips {
			kind, err := c.readString(tp)
			if err != nil {
				continue
			}
			temp := c.readCelsius(strings.TrimSuffix(tp, "_type") + "_temp")
			switch kind {
			case "critical":
				s.Crit = temp
			case "hot":
				s.Max = temp
			}
		}
		out = append(out, input{path: filepath.Join(z, "temp"), s: s})
	}
	return out
}

func (c *Collector) readString(path string) (string, error) {
	b, err := c.read(path)
	return strings.TrimSpace(string(b)), err
}

// readCelsius reads a threshold. Absent, unreadable, zero (drivers that
// don't know write 0) or outside -100..200 °C gives nil: NVMe drives report
// "no threshold" as 65261.85 °C (0xFFFF kelvin), which would flatten a
// chart that draws it.
func (c *Collector) readCelsius(path string) *float64 {
	b, err := c.read(path)
	if err != nil {
		return nil
	}
	n, err := kfile.ParseInt(b)
	if err != nil || n == 0 || n < -100_000 || n > 200_000 {
		return nil
	}
	v := celsius(n)
	return &v
}

// naturalCompare orders "temp2" before "temp10" and "hwmon9" before
// "hwmon10".
func naturalCompare(a, b string) int {
	ta, na := splitNumber(a)
	tb, nb := splitNumber(b)
	if ta != tb {
		return strings.Compare(a, b)
	}
	return na - nb
}

// splitNumber splits the trailing digits of the last path element's first
// number run: "…/temp12_input" -> ("…/temp_input", 12).
func splitNumber(s string) (string, int) {
	base := filepath.Base(s)
	i := strings.IndexFunc(base, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return s, 0
	}
	j := i
	for j < len(base) && base[j] >= '0' && base[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(base[i:j])
	return filepath.Dir(s) + "/" + base[:i] + base[j:], n
}
