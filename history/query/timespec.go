package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads one end of a range: "now"; a duration before now,
// "-15m", "-7d", "-1y" (units ms, s, m, h, d (24 h), w (7 d), y (365 d),
// combinable: "-1d12h"); "now-7d"; unix seconds ("1795598979", ten
// digits or fewer) or milliseconds ("1795598979000"); or RFC 3339
// ("2026-11-30T04:00:00Z"). A time before 1970 is an error.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || s == "now":
		return now, nil
	case strings.HasPrefix(s, "now-"):
		s = s[len("now"):]
		fallthrough
	case strings.HasPrefix(s, "-"):
		d, err := ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, err
		}
		return checkEpoch(s, now.Add(-d))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return time.Time{}, fmt.Errorf("%q: a unix time must not be negative", s)
		}
		// Prometheus and most shells give unix seconds, Grafana and
		// JavaScript milliseconds. Ten digits or fewer are seconds (up to
		// the year 2286); milliseconds of any time since March 1973 have
		// more, so neither is read as the other.
		if n < maxUnixSeconds {
			return checkEpoch(s, time.Unix(n, 0))
		}
		return checkEpoch(s, time.UnixMilli(n))
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		hint := ""
		if strings.Contains(s, " ") {
			hint = " (a + in a URL reads as a space: write it %2B)"
		}
		return time.Time{}, fmt.Errorf("%q is not now, -15m, -7d, unix seconds or ms, or an RFC 3339 time%s", s, hint)
	}
	return checkEpoch(s, t)
}

// maxUnixSeconds is the first number read as unix milliseconds.
const maxUnixSeconds = 1e10

// checkEpoch refuses a time before 1970: no history can hold one, and a
// relative time that reaches back that far (-57y) is a typo.
func checkEpoch(s string, t time.Time) (time.Time, error) {
	if t.Before(time.Unix(0, 0)) {
		return time.Time{}, fmt.Errorf("%q is before 1970", s)
	}
	return t, nil
}

// dayUnits are the units Go's time.ParseDuration lacks.
var dayUnits = map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}

// maxSpan bounds a relative time: far beyond any retention, and far from
// overflowing time.Duration (about 292 years) when added up.
const maxSpan = 100 * 365 * 24 * time.Hour

// ParseDuration is time.ParseDuration with days, weeks and years added
// ("7d", "2w", "1y", "1d12h"); it refuses negative and zero durations.
func ParseDuration(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("%q is not a duration like 15m, 6h, 7d or 1y", s)
		}
		num := rest[:i]
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		unit := rest[i:j]
		rest = rest[j:]
		if d, ok := dayUnits[unit[0]]; ok && len(unit) == 1 {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration like 15m, 6h, 7d or 1y", s)
			}
			if f*float64(d) > float64(maxSpan) {
				return 0, fmt.Errorf("%q is longer than %d years", s, maxSpan/dayUnits['y'])
			}
			total += time.Duration(f * float64(d))
			continue
		}
		d, err := time.ParseDuration(num + unit)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like 15m, 6h, 7d or 1y", s)
		}
		total += d
	}
	if total > maxSpan {
		return 0, fmt.Errorf("%q is longer than %d years", s, maxSpan/dayUnits['y'])
	}
	if total <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return total, nil
}
