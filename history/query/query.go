package query

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"vitals/history"
	"vitals/history/tier"
)

// Tier names as answers give them.
const (
	TierRaw    = "raw"
	TierMinute = "1m"
	TierHour   = "1h"
)

// Point counts: the default is about the width of a wide chart in pixels;
// beyond MaxPoints a chart gains nothing and the answer only grows.
const (
	DefaultPoints = 1500
	MaxPoints     = 10_000
	minPoints     = 2
)

// Default retentions of the rollup tiers, used to pick a tier when the
// Engine is not told the configured ones.
const (
	DefaultMinutes = 90 * 24 * time.Hour
	DefaultHours   = 730 * 24 * time.Hour
)

// notNumeric are topics with no series to draw: alert transitions, and the
// rollups themselves (a query reads those from the store).
var notNumeric = map[string]bool{"alerts": true, "rollup": true}

// ParamError is a bad request: Param names the query parameter at fault
// ("topic", "fields", "from", "to", "points") and Msg says what is wrong.
type ParamError struct {
	Param, Msg string
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// Request is one chart's question.
type Request struct {
	Topic string
	// Fields are paths as tier.Point keys them ("total", "cores.3");
	// nil asks for every numeric field of the topic's newest event.
	Fields   []string
	From, To time.Time // [From, To)
	// Points is the most points the answer may have; 0 means
	// DefaultPoints.
	Points int
}

// ParseRequest reads a request from URL parameters topic, fields (comma
// separated), from and to (see ParseTime; defaults -1h and now) and points
// (2 to MaxPoints). A bad value is a *ParamError naming its parameter.
func ParseRequest(q url.Values, now time.Time) (Request, error) {
	r := Request{Topic: strings.TrimSpace(q.Get("topic"))}
	if r.Topic == "" {
		return r, &ParamError{"topic", "topic is required, e.g. topic=cpu"}
	}
	for _, f := range strings.Split(q.Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(r.Fields, f) {
			r.Fields = append(r.Fields, f)
		}
	}
	from, to := q.Get("from"), q.Get("to")
	if from == "" {
		from = "-1h"
	}
	var err error
	if r.From, err = ParseTime(from, now); err != nil {
		return r, &ParamError{"from", err.Error()}
	}
	if r.To, err = ParseTime(to, now); err != nil {
		return r, &ParamError{"to", err.Error()}
	}
	if !r.From.Before(r.To) {
		return r, &ParamError{"from", "from must be before to"}
	}
	if raw := q.Get("points"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < minPoints || n > MaxPoints {
			return r, &ParamError{"points", fmt.Sprintf("points must be a whole number from %d to %d", minPoints, MaxPoints)}
		}
		r.Points = n
	}
	return r, nil
}

// Engine answers range queries for one server's settings.
type Engine struct {
	Interval time.Duration // the host's sampling interval (required)
	Raw      time.Duration // the raw window, --history (required)
	// Minutes and Hours are the rollup tiers' retentions; zero means
	// DefaultMinutes and DefaultHours.
	Minutes, Hours time.Duration
	Now            func() time.Time // default time.Now
}

// Result is the columnar answer: T[i] is the start of point i (unix ms,
// a multiple of Step), Count[i] the ticks it holds (0: no samples, a gap),
// and each series' Mean[i], Min[i] and Max[i] its values (NaN, null in
// JSON, where the point has none of that field).
type Result struct {
	Host  string `json:"host"`
	Topic string `json:"topic"`
	Tier  string `json:"tier"`
	// Tiers are the tiers this server can answer from: ["raw"] when it
	// keeps no rollups, else ["raw", "1m", "1h"].
	Tiers  []string          `json:"tiers"`
	Step   int64             `json:"step"` // ms covered by one point
	From   int64             `json:"from"` // the range asked, unix ms
	To     int64             `json:"to"`
	T      []int64           `json:"t"`
	Count  []uint32          `json:"count"`
	Series map[string]Series `json:"series"`
	Gaps   []Gap             `json:"gaps"`
	// RollupAfter is the event id to resume /events?topics=rollup from:
	// every minute completed after it is not in this answer.
	RollupAfter string `json:"rollup_after"`
	// NewestEnd is the end (unix ms) of the newest data in the answer: a
	// live rollup minute whose t is before it is already counted. 0 when
	// the answer holds no data.
	NewestEnd int64 `json:"newest_end"`
}

// Series is one field's values, one per point. N is how many samples of
// the field each point holds (it can be less than the point's Count when
// the field was missing from some ticks): with it a client folds a live
// minute into a point exactly, by tier.Stat's Merge rule.
type Series struct {
	Mean Values   `json:"mean"`
	Min  Values   `json:"min"`
	Max  Values   `json:"max"`
	N    []uint32 `json:"n"`
}

// Gap is a span with no samples, [From, To) in unix ms. Kind is
// "restart" (the server was down between two runs), "late" (the sampler
// skipped ticks), "clock" (the wall clock stepped by Step ms) or
// "offline" (no samples and no mark saying why).
type Gap struct {
	From int64  `json:"from"`
	To   int64  `json:"to"`
	Kind string `json:"kind"`
	Step int64  `json:"step,omitempty"`
}

// Gap kinds, the words the dashboard's bands use.
const (
	GapOffline = "offline"
	GapRestart = "restart"
	GapLate    = "late"
	GapClock   = "clock"
)

// Query answers req from src's raw window or store's rollups (store may be
// nil: then only the raw window is read, and Tiers says so). A bad topic,
// field or range is a *ParamError.
func (e Engine) Query(src history.Source, store tier.Store, req Request) (*Result, error) {
	if e.Interval <= 0 || e.Raw <= 0 {
		return nil, errors.New("query: Interval and Raw must be positive")
	}
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	if !slices.Contains(src.Topics(), req.Topic) || notNumeric[req.Topic] {
		valid := slices.DeleteFunc(slices.Clone(src.Topics()), func(t string) bool { return notNumeric[t] })
		return nil, &ParamError{"topic", fmt.Sprintf("unknown topic %q; topics with series: %s", req.Topic, strings.Join(valid, ", "))}
	}
	from, to := req.From.UnixMilli(), req.To.UnixMilli()
	if from >= to {
		return nil, &ParamError{"from", "from must be before to"}
	}
	points := req.Points
	if points == 0 {
		points = DefaultPoints
	}
	if points < minPoints || points > MaxPoints {
		return nil, &ParamError{"points", fmt.Sprintf("points must be a whole number from %d to %d", minPoints, MaxPoints)}
	}

	// The head is read before anything else: a minute completed after it
	// comes on the stream resumed from it, so nothing falls between the
	// answer and the stream (a minute in both is told apart by its time).
	_, head := src.Bounds()
	res := &Result{Topic: req.Topic, From: from, To: to, RollupAfter: head, Tiers: []string{TierRaw}}
	if store != nil {
		res.Tiers = []string{TierRaw, TierMinute, TierHour}
	}
	var base time.Duration
	res.Tier, base = e.pick(from, now, store != nil)
	step, start, n := buckets(from, to, base.Milliseconds(), int64(points))
	res.Step = step

	latest := e.latestFields(src, req.Topic)
	wanted := req.Fields
	if wanted == nil && len(latest) > 0 {
		// No fields asked: the answer is the topic's fields now, so only
		// those are read (and a store can read just them: SeriesReader).
		wanted = latest
	}
	acc := newAccum(start, step, int(n), wanted)
	var err error
	switch res.Tier {
	case TierRaw:
		err = e.readRaw(src, req.Topic, from, to, acc)
	case TierMinute:
		_, err = acc.read(store, tier.Minute, req.Topic, req.From, req.To)
	case TierHour:
		err = readHours(store, req.Topic, req.From, req.To, now, acc)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s tier of %s: %w", res.Tier, req.Topic, err)
	}

	fields := req.Fields
	if fields == nil {
		fields = latest
		if len(fields) == 0 {
			fields = acc.seenFields()
		}
	}
	for _, f := range fields {
		if !acc.seen(f) && !slices.Contains(latest, f) {
			return nil, &ParamError{"fields", fmt.Sprintf("unknown field %q of topic %s", f, req.Topic)}
		}
	}
	res.T = make([]int64, n)
	for i := range res.T {
		res.T[i] = start + int64(i)*step
	}
	res.Count = acc.count
	res.Series = make(map[string]Series, len(fields))
	for _, f := range fields {
		res.Series[f] = acc.series(f)
	}
	res.Gaps = e.gaps(acc, from, to, now.UnixMilli(), base.Milliseconds())
	if res.Gaps == nil {
		res.Gaps = []Gap{} // "gaps": [] for a client that reads its length
	}
	res.NewestEnd = acc.newestEnd
	return res, nil
}

// pick chooses the finest tier that covers from: the raw window, else the
// minutes, else the hours.
func (e Engine) pick(from int64, now time.Time, rollups bool) (string, time.Duration) {
	minutes, hours := e.Minutes, e.Hours
	if minutes <= 0 {
		minutes = DefaultMinutes
	}
	if hours <= 0 {
		hours = DefaultHours
	}
	switch {
	case !rollups || from >= now.Add(-e.Raw).UnixMilli():
		return TierRaw, e.Interval
	case from >= now.Add(-minutes).UnixMilli():
		return TierMinute, tier.Minute
	default:
		return TierHour, tier.Hour
	}
}

// buckets sizes the answer: the step is the smallest multiple of base that
// puts [from, to) into at most points buckets aligned to multiples of the
// step since the epoch (so a live minute folds into the same bucket on the
// client). It returns the step, the first bucket's start and the count.
func buckets(from, to, base, points int64) (step, start, n int64) {
	k := max(ceilDiv(to-from, base*points), 1)
	for {
		step = k * base
		start = floorDiv(from, step) * step
		n = ceilDiv(to-start, step)
		if n <= points {
			return step, start, n
		}
		k++
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// latestFields lists the numeric fields of topic's newest event, sorted:
// what the topic measures now.
func (e Engine) latestFields(src history.Source, topic string) []string {
	for _, ev := range src.Latest() {
		if ev.Topic != topic {
			continue
		}
		seen := map[string]bool{}
		var f tier.Flattener
		if err := f.Flatten(ev.Data, func(p []byte, _ float64) { seen[string(p)] = true }, nil); err != nil {
			return nil
		}
		return sortedKeys(seen)
	}
	return nil
}

// readRaw folds the raw window's events of topic in [from, to) into acc.
func (e Engine) readRaw(src history.Source, topic string, from, to int64, acc *accum) error {
	page, err := src.Range("", []string{topic}, 0)
	if err != nil {
		return err
	}
	// The rollups' own flattener, so a field has one path in every tier.
	var f tier.Flattener
	var marks []tier.Mark
	for _, ev := range page.Events {
		if ev.T < from || ev.T >= to {
			continue
		}
		i, ok := acc.index(ev.T)
		if !ok {
			continue
		}
		marks = marks[:0]
		err := f.Flatten(ev.Data, func(p []byte, v float64) { acc.add(i, p, v) },
			func(kind string, v int64) { marks = append(marks, tier.Mark{T: ev.T, Kind: kind, Value: v}) })
		if err != nil {
			continue // a payload that isn't an object has no series
		}
		acc.count[i]++
		acc.newestEnd = max(acc.newestEnd, ev.T+e.Interval.Milliseconds())
		acc.marks = append(acc.marks, marks...)
	}
	return nil
}

// readHours reads the hour tier, then the minutes after its newest hour:
// the hour in progress (and one completed but not yet written) is in the
// minute tier only.
func readHours(store tier.Store, topic string, from, to, now time.Time, acc *accum) error {
	// The hour in progress always comes from the minutes: a stored point
	// for it can only be partial (a simulated fill that ended mid-hour),
	// and reading it would end the answer's data in the future.
	cut := to
	if h := now.Truncate(tier.Hour); h.Before(cut) {
		cut = h
	}
	tail := from
	if from.Before(cut) {
		var err error
		if tail, err = acc.read(store, tier.Hour, topic, from, cut); err != nil {
			return err
		}
	}
	if !tail.Before(to) {
		return nil
	}
	_, err := acc.read(store, tier.Minute, topic, tail, to)
	return err
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
