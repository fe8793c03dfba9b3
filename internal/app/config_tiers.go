package app

import (
	"flag"
	"fmt"
	"time"

	"vitals/history/tier"
)

// Tiers are the long history's settings: how long, and at most how many
// bytes, the per-minute and per-hour rollups are kept (docs/history.md).
type Tiers struct {
	Minutes, Hours           time.Duration
	MinutesBytes, HoursBytes int64
}

// The defaults keep what the tools people compare vitals with keep (a
// minute for 90 days, an hour for two years). The byte caps are a safety
// net: a host of 2 cores, 2 disks, 3 mounts and 3 interfaces needs 26 MiB
// and 4 MiB (BENCHMARKS.md), and the caps hold about three times as many
// series (docs/history.md) before the oldest points go early.
const (
	defaultTierMinutes      = 90 * 24 * time.Hour
	defaultTierHours        = 730 * 24 * time.Hour
	defaultTierMinutesBytes = 64 << 20
	defaultTierHoursBytes   = 16 << 20
)

func (t *Tiers) addFlags(fs *flag.FlagSet) {
	t.Minutes, t.Hours = defaultTierMinutes, defaultTierHours
	t.MinutesBytes, t.HoursBytes = defaultTierMinutesBytes, defaultTierHoursBytes
	fs.Var((*duration)(&t.Minutes), "history-minutes", "how long to keep per-minute rollups: a `duration` such as 90d")
	fs.Var((*byteSize)(&t.MinutesBytes), "history-minutes-bytes", "cap on the per-minute rollups' `size`")
	fs.Var((*duration)(&t.Hours), "history-hours", "how long to keep per-hour rollups: a `duration` such as 2y")
	fs.Var((*byteSize)(&t.HoursBytes), "history-hours-bytes", "cap on the per-hour rollups' `size`")
}

func (t *Tiers) finish() error {
	switch {
	case t.Minutes < time.Hour:
		return fmt.Errorf("--history-minutes %s is too short: at least 1h", formatDuration(t.Minutes))
	case t.Hours < 24*time.Hour:
		return fmt.Errorf("--history-hours %s is too short: at least 1d", formatDuration(t.Hours))
	case t.MinutesBytes < 64<<10:
		// Below this not even one block of one topic fits.
		return fmt.Errorf("--history-minutes-bytes %d is too small: at least 64KiB", t.MinutesBytes)
	case t.HoursBytes < 64<<10:
		return fmt.Errorf("--history-hours-bytes %d is too small: at least 64KiB", t.HoursBytes)
	}
	return nil
}

// keep is the settings as the tier store takes them.
func (t Tiers) keep() tier.BoltOptions {
	return tier.BoltOptions{Minutes: tier.Keep{Age: t.Minutes, MaxBytes: t.MinutesBytes},
		Hours: tier.Keep{Age: t.Hours, MaxBytes: t.HoursBytes}}
}
