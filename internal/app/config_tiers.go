package app

import (
	"flag"
	"fmt"
	"time"

	"vitals/history/redisstream"
	"vitals/history/tier"
)

// Tiers are the long history's settings: how long, and at most how many
// bytes, the per-minute and per-hour rollups are kept (docs/history.md).
type Tiers struct {
	Minutes, Hours           time.Duration
	MinutesBytes, HoursBytes int64
	// given names the flags the user set (on the command line or in the
	// environment): --redis mode has defaults of its own (Redis keeps
	// everything in memory) and takes only these from here.
	given map[string]bool
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

// noteGiven records which of the tier flags the user set; Parse calls
// it once every flag and VITALS_* variable is in.
func (t *Tiers) noteGiven(fs *flag.FlagSet) {
	t.given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { t.given[f.Name] = true })
}

// redis is the settings as the Redis tier stores take them: what the user
// set, and zero (redisstream's Redis-mode default) for the rest.
func (t Tiers) redis() redisstream.TierOptions {
	var o redisstream.TierOptions
	if t.given["history-minutes"] {
		o.MinuteRetention = t.Minutes
	}
	if t.given["history-hours"] {
		o.HourRetention = t.Hours
	}
	if t.given["history-minutes-bytes"] {
		o.MinuteBytes = t.MinutesBytes
	}
	if t.given["history-hours-bytes"] {
		o.HourBytes = t.HoursBytes
	}
	return o
}

// retention is how far back the minute and hour tiers reach, in the
// history file or (redis true) in Redis.
func (t Tiers) retention(redis bool) (minutes, hours time.Duration) {
	if !redis {
		return t.Minutes, t.Hours
	}
	o := t.redis().WithDefaults()
	return o.MinuteRetention, o.HourRetention
}

// keep is the settings as the tier store takes them.
func (t Tiers) keep() tier.BoltOptions {
	return tier.BoltOptions{Minutes: tier.Keep{Age: t.Minutes, MaxBytes: t.MinutesBytes},
		Hours: tier.Keep{Age: t.Hours, MaxBytes: t.HoursBytes}}
}
