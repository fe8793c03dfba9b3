package gpu

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"vitals/metrics/internal/kfile"
)

// amdCard is one amdgpu device, with the files read on every tick.
type amdCard struct {
	id, name             string
	busy, vramUsed, vram string
	temp, power          string // "" when the card has no hwmon reading
}

type amd struct{ cards []amdCard }

// findAMD lists the amdgpu cards under sys: /sys/class/drm/cardN whose
// device has the AMD vendor id and a gpu_busy_percent file. Connector
// entries (card0-DP-1) and other vendors' cards are skipped.
func findAMD(sys string) *amd {
	dirs, _ := filepath.Glob(filepath.Join(sys, "class", "drm", "card*"))
	slices.Sort(dirs)
	var a amd
	for _, d := range dirs {
		if strings.Contains(filepath.Base(d), "-") {
			continue
		}
		dev := filepath.Join(d, "device")
		if v, _ := kfile.ReadString(filepath.Join(dev, "vendor")); v != "0x1002" {
			continue
		}
		card := amdCard{
			id:       "amd/" + filepath.Base(d),
			busy:     filepath.Join(dev, "gpu_busy_percent"),
			vramUsed: filepath.Join(dev, "mem_info_vram_used"),
			vram:     filepath.Join(dev, "mem_info_vram_total"),
		}
		if _, err := os.Stat(card.busy); err != nil {
			continue
		}
		if link, err := os.Readlink(dev); err == nil {
			card.id = "amd/" + filepath.Base(link) // the PCI address survives reboots; cardN may not
		}
		card.name, _ = kfile.ReadString(filepath.Join(dev, "product_name"))
		if card.name == "" {
			id, _ := kfile.ReadString(filepath.Join(dev, "device"))
			card.name = "AMD GPU " + id
		}
		if hw, _ := filepath.Glob(filepath.Join(dev, "hwmon", "hwmon*")); len(hw) > 0 {
			if _, err := os.Stat(filepath.Join(hw[0], "temp1_input")); err == nil {
				card.temp = filepath.Join(hw[0], "temp1_input")
			}
			// Kernels before 6.x give power1_average; newer ones on
			// some chips only power1_input.
			for _, f := range []string{"power1_average", "power1_input"} {
				if _, err := os.Stat(filepath.Join(hw[0], f)); err == nil {
					card.power = filepath.Join(hw[0], f)
					break
				}
			}
		}
		a.cards = append(a.cards, card)
	}
	if len(a.cards) == 0 {
		return nil
	}
	return &a
}

func (a *amd) read() []GPU {
	out := make([]GPU, 0, len(a.cards))
	for _, c := range a.cards {
		g := GPU{ID: c.id, Vendor: "amd", Name: c.name}
		if n, err := kfile.ReadUint(c.busy); err == nil {
			g.Util = ptr(float64(n))
		}
		if n, err := kfile.ReadUint(c.vramUsed); err == nil {
			g.MemUsed = &n
		}
		if n, err := kfile.ReadUint(c.vram); err == nil {
			g.MemTotal = &n
		}
		if c.temp != "" {
			if n, err := kfile.ReadInt(c.temp); err == nil {
				g.Temp = ptr(kfile.Round2(float64(n) / 1000))
			}
		}
		if c.power != "" {
			if n, err := kfile.ReadUint(c.power); err == nil {
				g.Power = ptr(kfile.Round2(float64(n) / 1e6)) // microwatts
			}
		}
		out = append(out, g)
	}
	return out
}

func (a *amd) close() {}
