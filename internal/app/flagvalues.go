package app

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// The flag values below print their defaults the way a person types them
// (-h shows "64MiB" and "1h", not 67108864 and 1h0m0s), and their parse
// errors say what a good value looks like.

// duration is a time.Duration flag.
type duration time.Duration

func (d *duration) String() string { return formatDuration(time.Duration(*d)) }

func (d *duration) Set(s string) error {
	v, err := parseDuration(strings.TrimSpace(s))
	if err != nil {
		return errors.New("want a duration like 500ms, 2s or 1m")
	}
	*d = duration(v)
	return nil
}

// Days and years, which time.ParseDuration lacks and retention needs. A
// year is 365 days: retention is counted in days, not calendar years.
const (
	day  = 24 * time.Hour
	year = 365 * day
)

// parseDuration is time.ParseDuration plus whole "d" (days) and "y"
// (years) alone: 90d, 2y.
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", day}, {"y", year}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 || n > int64(time.Duration(1<<62)/u.unit) {
				return 0, errors.New("bad duration")
			}
			return time.Duration(n) * u.unit, nil
		}
	}
	return time.ParseDuration(s)
}

// formatDuration drops the zero minutes and seconds time.Duration.String
// adds after whole hours and minutes: 1h, 10m, 1m30s, 1.5s, 500ms; whole
// years and days are written so: 2y, 90d.
func formatDuration(d time.Duration) string {
	switch {
	case d > 0 && d%year == 0:
		return strconv.FormatInt(int64(d/year), 10) + "y"
	case d > 0 && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// byteSize parses "67108864", "64MiB", "512KiB", "1GiB" (also KB/MB/GB,
// read as powers of 1024 too: nobody sizes a history in powers of ten).
type byteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}}

// String names the size in the largest binary unit that divides it.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range sizeUnits[:3] {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	num := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(strings.ToUpper(num), strings.ToUpper(u.suffix)) {
			num, mult = strings.TrimSpace(num[:len(num)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return errors.New("want a size like 64MiB, 512KiB or 1GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

// logLevel is a slog.Level flag written as people type it: debug, info,
// warn, error (any case).
type logLevel slog.Level

func (l *logLevel) String() string { return strings.ToLower(slog.Level(*l).String()) }

func (l *logLevel) Set(s string) error {
	var v slog.Level
	if err := v.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	*l = logLevel(v)
	return nil
}

// millis parses a plain number of milliseconds (as SSE's retry field is
// written) or a Go duration.
type millis time.Duration

func (m *millis) String() string { return strconv.FormatInt(time.Duration(*m).Milliseconds(), 10) }

func (m *millis) Set(s string) error {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*m = millis(time.Duration(n) * time.Millisecond)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want milliseconds like 2000, or a duration like 2s")
	}
	*m = millis(d)
	return nil
}

// flagError rewrites the flag package's parse errors into one line that
// names the flag as users type it (--name) and says what to do: a mistyped
// flag gets the nearest real one suggested.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(msg, undefined); ok {
		if near := nearestFlag(fs, name); near != "" {
			return fmt.Errorf("unknown flag --%s: did you mean --%s? (vitals -h lists every flag)", name, near)
		}
		return fmt.Errorf("unknown flag --%s (vitals -h lists every flag)", name)
	}
	// "invalid value "x" for flag -name: why" and "flag needs an
	// argument: -name".
	msg = strings.Replace(msg, "for flag -", "for --", 1)
	return errors.New(strings.Replace(msg, "argument: -", "argument: --", 1))
}

// nearestFlag returns the defined flag closest to name by edit distance,
// or "" when none is close enough to be what was meant: at most two edits,
// and fewer than half the name's length.
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(strings.ToLower(name), f.Name)
		if d < bestDist && d*2 < len(name) {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
