package redisstream

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history/tier"
)

// The Redis-mode defaults of the tiers' retention. Redis keeps everything
// in memory, so these are shorter than the history file's: a bucket of a
// 2-core host with two disks, three filesystems and two interfaces takes
// about 920 bytes (bench/cluster.md), which puts three days of minutes and
// 400 days of hours at about 12 MiB per host, under the 16 MiB per host
// vitals promises (90 days of minutes alone would be 114 MiB). The hours
// cover every range from a week to a year (400 days, not 365, so a
// year-over-year chart has both ends); three days of minutes cover the
// 6-hour and 24-hour views and the days after an incident.
const (
	DefaultMinuteRetention = 3 * 24 * time.Hour
	DefaultHourRetention   = 400 * 24 * time.Hour
)

// The Redis-mode byte caps of the tiers, per host: 16 MiB together, the
// bound vitals promises whatever a host's shape. The 2-core host above
// stays under both by its retention (3.8 and 8.4 MiB); a host with many
// cores, filesystems or interfaces reaches them and keeps less time.
const (
	DefaultMinuteBytes = 5 << 20
	DefaultHourBytes   = 11 << 20
)

// TierKey is the Redis stream holding host's rollup points of one topic
// at one step: "vitals:{<host>}:tier:1m:<topic>" or "...:1h:<topic>". A
// stream per topic lets a chart read its topic alone.
func TierKey(host string, step time.Duration, topic string) string {
	return hostKey(host, "tier:"+stepName(step)+":"+topic)
}

func stepName(step time.Duration) string {
	switch step {
	case tier.Minute:
		return "1m"
	case tier.Hour:
		return "1h"
	}
	return step.String()
}

// TierOptions are the tiers' retention in Redis: how far back from the
// newest point written a stream keeps its points. Zero is the default.
type TierOptions struct {
	MinuteRetention time.Duration // default DefaultMinuteRetention
	HourRetention   time.Duration // default DefaultHourRetention
	// MinuteBytes and HourBytes cap what each tier of the host takes in
	// Redis, every topic together, as MEMORY USAGE counts it. Default
	// DefaultMinuteBytes and DefaultHourBytes. See TierStore.
	MinuteBytes, HourBytes int64
}

// WithDefaults is o with each zero field set to its Redis-mode default.
func (o TierOptions) WithDefaults() TierOptions {
	if o.MinuteRetention <= 0 {
		o.MinuteRetention = DefaultMinuteRetention
	}
	if o.HourRetention <= 0 {
		o.HourRetention = DefaultHourRetention
	}
	if o.MinuteBytes <= 0 {
		o.MinuteBytes = DefaultMinuteBytes
	}
	if o.HourBytes <= 0 {
		o.HourBytes = DefaultHourBytes
	}
	return o
}

// TierStore is one host's tier.Store on Redis Streams: a stream per step
// and topic (TierKey), one entry per bucket. It holds no state but its
// options and a counter; it is safe for concurrent use and starts no
// goroutine.
//
// An entry's id is "<bucket start ms>-<n>": the bucket's T fixes the id,
// so the streams are ordered by bucket and read by time with XRANGE.
// Writing a bucket that is its stream's newest again (a roller that
// crashed after its write) adds "<T>-<n+1>" and deletes the older
// entries of that T; a reader that catches both sees the newer only. A
// bucket older than its stream's newest can't be placed in a stream
// (entries only append): the stored one is kept, and Skipped counts it.
//
// Trimming: each XADD trims its stream to MINID ~ (T - retention), so the
// retention is measured from the data's own newest bucket, and an XTRIM
// MAXLEN ~ (retention / step) caps the length whatever the clocks did.
// Redis trims whole listpack nodes ("~"), so a stream keeps up to about a
// hundred entries beyond its retention, never fewer.
//
// Byte caps: after a Write that reaches an hour of buckets past the last
// check of a tier, the tier's streams are measured (MEMORY USAGE, every
// node counted); past the tier's cap, every topic's stream of the tier is
// cut to the same share of its length (XTRIM MAXLEN, exact), oldest
// buckets first, to 95% of the cap. Between checks a tier may pass its cap
// by an hour of buckets.
type TierStore struct {
	c       redis.UniversalClient
	host    string
	o       TierOptions
	skipped atomic.Uint64
	// checked is, per tier (minutes, hours), the newest bucket's T at
	// the last byte-cap check.
	checked [2]atomic.Int64
}

// NewTierStore returns host's tier store on c (for a Backend, its Client;
// Backend.TierStore does this). Every key it touches is in host's slot,
// so one Write is one MULTI/EXEC on one cluster node.
func NewTierStore(c redis.UniversalClient, host string, o TierOptions) *TierStore {
	return &TierStore{c: c, host: host, o: o.WithDefaults()}
}

var _ tier.Store = (*TierStore)(nil)

var _ tier.Newester = (*TierStore)(nil)

// Newest is the T of the newest point of topic at step (found false when
// the stream holds none): an entry's id begins with its bucket's T, so
// it is the newest entry's (XREVRANGE COUNT 1). A roller's Restore asks it
// where the raw ticks to replay begin.
func (s *TierStore) Newest(step time.Duration, topic string) (int64, bool, error) {
	if _, err := s.retention(step); err != nil {
		return 0, false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), tierTimeout)
	defer cancel()
	key := TierKey(s.host, step, topic)
	msgs, err := s.c.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		return 0, false, fmt.Errorf("read newest of tier %s: %w", key, err)
	}
	if len(msgs) == 0 {
		return 0, false, nil
	}
	ms, _, _ := strings.Cut(msgs[0].ID, "-")
	t, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("read newest of tier %s: entry id %q", key, msgs[0].ID)
	}
	return t, true, nil
}

// Skipped is how many points Write could not place because their stream
// already held a newer bucket.
func (s *TierStore) Skipped() uint64 { return s.skipped.Load() }

// tierIndex is step's place in checked, and its byte cap.
func (s *TierStore) tierIndex(step time.Duration) (int, int64) {
	if step == tier.Minute {
		return 0, s.o.MinuteBytes
	}
	return 1, s.o.HourBytes
}

// capCheckEvery is how much newer a tier's newest bucket must be than at
// its last byte-cap check before the next: MEMORY USAGE of a few days of
// minutes walks about a thousand listpack nodes, too much for every
// minute, cheap once an hour.
const capCheckEvery = time.Hour

// capMargin is the share of its cap a tier is cut to, so an hour's growth
// doesn't put it straight back over.
const capMargin = 0.95

// enforceCaps checks the byte cap of each tier points wrote to, when it is
// due.
func (s *TierStore) enforceCaps(ctx context.Context, points []tier.Point) error {
	newest := map[time.Duration]int64{}
	topics := map[time.Duration][]string{}
	for _, p := range points {
		newest[p.Step] = max(newest[p.Step], p.T)
		if !slices.Contains(topics[p.Step], p.Topic) {
			topics[p.Step] = append(topics[p.Step], p.Topic)
		}
	}
	for step, t := range newest {
		i, limit := s.tierIndex(step)
		last := s.checked[i].Load()
		if t-last < capCheckEvery.Milliseconds() || !s.checked[i].CompareAndSwap(last, t) {
			continue
		}
		if err := s.capTier(ctx, step, topics[step], limit); err != nil {
			return err
		}
	}
	return nil
}

// capTier cuts step's streams of topics to the same share of their
// lengths when together they take more than limit bytes. Memory doesn't
// shrink quite in proportion (a cut listpack node keeps its deleted
// entries' bytes until all of it goes), so it measures again after a cut,
// a few rounds at most.
func (s *TierStore) capTier(ctx context.Context, step time.Duration, topics []string, limit int64) error {
	for range capRounds {
		pipe := s.c.Pipeline()
		usage := make([]*redis.IntCmd, len(topics))
		lens := make([]*redis.IntCmd, len(topics))
		for i, topic := range topics {
			key := TierKey(s.host, step, topic)
			usage[i] = pipe.MemoryUsage(ctx, key, 0)
			lens[i] = pipe.XLen(ctx, key)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("measure tier %s of %s: %w", stepName(step), s.host, err)
		}
		var total int64
		for _, u := range usage {
			total += u.Val()
		}
		if total <= limit {
			return nil
		}
		share := float64(limit) / float64(total) * capMargin
		pipe = s.c.TxPipeline()
		for i, topic := range topics {
			pipe.XTrimMaxLen(ctx, TierKey(s.host, step, topic), int64(float64(lens[i].Val())*share))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("cap tier %s of %s at %d bytes: %w", stepName(step), s.host, limit, err)
		}
	}
	return nil
}

// capRounds bounds capTier's measure-and-cut rounds: the first cut lands
// within a few percent, the second under the cap.
const capRounds = 3

func (s *TierStore) retention(step time.Duration) (time.Duration, error) {
	switch step {
	case tier.Minute:
		return s.o.MinuteRetention, nil
	case tier.Hour:
		return s.o.HourRetention, nil
	}
	return 0, fmt.Errorf("tier step %v: want a minute or an hour", step)
}

// tierTimeout bounds one Write or Points: a write of a day's hours of
// every topic, or a read of a year of hours, moves a few megabytes at most.
const tierTimeout = 10 * time.Second

// Write stores points in one MULTI/EXEC (every key is in the host's
// slot). See TierStore for replacing a bucket and for trimming.
func (s *TierStore) Write(points []tier.Point) error {
	if len(points) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tierTimeout)
	defer cancel()
	pipe := s.c.TxPipeline()
	adds := make([]*redis.StringCmd, len(points))
	keys := make([]string, len(points))
	for i, p := range points {
		ret, err := s.retention(p.Step)
		if err != nil {
			return err
		}
		if p.T <= 0 {
			return fmt.Errorf("tier point %s at %d: T must be a positive unix ms", p.Topic, p.T)
		}
		values, err := encodePoint(p)
		if err != nil {
			return err
		}
		keys[i] = TierKey(s.host, p.Step, p.Topic)
		adds[i] = pipe.XAdd(ctx, &redis.XAddArgs{
			Stream: keys[i],
			ID:     strconv.FormatInt(p.T, 10) + "-*",
			MinID:  strconv.FormatInt(max(p.T-ret.Milliseconds(), 1), 10),
			Approx: true,
			Values: values,
		})
		pipe.XTrimMaxLenApprox(ctx, keys[i], int64(ret/p.Step), 0)
	}
	_, err := pipe.Exec(ctx)
	var replaced []func(redis.Pipeliner)
	for i, add := range adds {
		switch aerr := add.Err(); {
		case aerr == nil:
		case isStaleAdd(aerr):
			s.skipped.Add(1)
			continue
		default:
			return fmt.Errorf("write tier %s: %w", keys[i], aerr)
		}
		t, n, ok := parseStreamID(add.Val())
		if !ok || n == 0 {
			continue
		}
		older := make([]string, n)
		for j := range older {
			older[j] = formatStreamID(t, uint64(j))
		}
		key := keys[i]
		replaced = append(replaced, func(p redis.Pipeliner) { p.XDel(ctx, key, older...) })
	}
	if err != nil && !isStaleAdd(err) {
		return fmt.Errorf("write tiers of %s: %w", s.host, err)
	}
	if len(replaced) > 0 {
		if _, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, del := range replaced {
				del(p)
			}
			return nil
		}); err != nil {
			// Harmless: readers take the newest entry of a bucket.
			return fmt.Errorf("delete replaced tier entries of %s: %w", s.host, err)
		}
	}
	return s.enforceCaps(ctx, points)
}

// tierReadBatch is one XRANGE page: a few hundred kilobytes of the widest
// topic's buckets (each entry's paths come with it), nine pages for a
// year of hours.
const tierReadBatch = 1000

// Points calls fn with each stored point of topic at step whose T is in
// [from, to), oldest first, until fn returns false.
func (s *TierStore) Points(step time.Duration, topic string, from, to time.Time, fn func(tier.Point) bool) error {
	if _, err := s.retention(step); err != nil {
		return err
	}
	lo, hi := max(from.UnixMilli(), 0), to.UnixMilli()-1
	if hi < lo {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tierTimeout)
	defer cancel()
	key := TierKey(s.host, step, topic)
	start := strconv.FormatInt(lo, 10)
	var pending *tier.Point
	var cache pathCache
	for {
		msgs, err := s.c.XRangeN(ctx, key, start, strconv.FormatInt(hi, 10), tierReadBatch).Result()
		if err != nil {
			return fmt.Errorf("read tier %s: %w", key, err)
		}
		for _, m := range msgs {
			p, err := decodePoint(m, topic, step, &cache)
			if err != nil {
				return fmt.Errorf("read tier %s: %w", key, err)
			}
			// Entries of one bucket are adjacent; the newest wins.
			if pending != nil && pending.T != p.T && !fn(*pending) {
				return nil
			}
			pending = &p
		}
		if len(msgs) < tierReadBatch {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	if pending != nil {
		fn(*pending)
	}
	return nil
}

// An entry has up to three fields: ":n", the bucket's tick count in
// decimal; the numeric fields' paths, sorted and joined by newlines, as one
// field name whose value packs their Stats in that order; and ":m", the
// marks as JSON, when there are any. Redis stores an entry's field names
// once per listpack node when they match the node's first entry's, so the
// paths (about 900 bytes for a 2-core host's disk topic and its peers) cost
// a few bytes per entry; one packed value instead of a field per path keeps
// a read to a handful of allocations per bucket. A path starts with a
// payload key, never with ':', and holds no newline.
const (
	fieldCount = ":n"
	fieldMarks = ":m"
	pathSep    = "\n"
)

// A packed Stat is a flags byte, then float32s (little-endian): one when
// min = max = mean (a total, an idle counter), else min, max and mean; then,
// when the field's sample count isn't the bucket's (a field some ticks
// lacked), that count as a uvarint. float32 keeps about 7 significant
// digits: ample for a chart.
const (
	statFull  = 1 << 0 // min, max, mean follow; else one value
	statCount = 1 << 1 // a uvarint sample count follows
)

func encodePoint(p tier.Point) ([]string, error) {
	values := make([]string, 0, 6)
	values = append(values, fieldCount, strconv.FormatUint(uint64(p.Count), 10))
	paths := make([]string, 0, len(p.Fields))
	for path, st := range p.Fields {
		if st.N == 0 {
			continue
		}
		if path == "" || path[0] == ':' || strings.Contains(path, pathSep) {
			return nil, fmt.Errorf("tier point %s: field path %q can't be stored", p.Topic, path)
		}
		paths = append(paths, path)
	}
	// Sorted: the same fields give the same name, which Redis shares.
	slices.Sort(paths)
	if len(paths) > 0 {
		buf := make([]byte, 0, len(paths)*13)
		for _, path := range paths {
			st := p.Fields[path]
			mean := float32(st.Sum / float64(st.N))
			lo, hi := float32(st.Min), float32(st.Max)
			var flags byte
			if lo != hi || hi != mean {
				flags |= statFull
			}
			if st.N != p.Count {
				flags |= statCount
			}
			buf = append(buf, flags)
			if flags&statFull != 0 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(lo))
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(hi))
			}
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(mean))
			if flags&statCount != 0 {
				buf = binary.AppendUvarint(buf, uint64(st.N))
			}
		}
		values = append(values, strings.Join(paths, pathSep), string(buf))
	}
	if len(p.Marks) > 0 {
		m, err := json.Marshal(p.Marks)
		if err != nil {
			return nil, fmt.Errorf("encode marks of %s: %w", p.Topic, err)
		}
		values = append(values, fieldMarks, string(m))
	}
	return values, nil
}

var errBadEntry = errors.New("malformed tier entry")

// pathCache keeps the last split field name: consecutive entries almost
// always share it.
type pathCache struct {
	names string
	paths []string
}

func (c *pathCache) split(names string) []string {
	if names != c.names || c.paths == nil {
		c.names, c.paths = names, strings.Split(names, pathSep)
	}
	return c.paths
}

// decodePoint is encodePoint's inverse.
func decodePoint(m redis.XMessage, topic string, step time.Duration, cache *pathCache) (tier.Point, error) {
	t, _, ok := parseStreamID(m.ID)
	if !ok {
		return tier.Point{}, fmt.Errorf("%w: id %q", errBadEntry, m.ID)
	}
	p := tier.Point{Topic: topic, T: int64(t), Step: step}
	raw, _ := m.Values[fieldCount].(string)
	count, err := strconv.ParseUint(raw, 10, 32)
	if err != nil {
		return tier.Point{}, fmt.Errorf("%w %s: count %q", errBadEntry, m.ID, raw)
	}
	p.Count = uint32(count)
	for name, v := range m.Values {
		s, _ := v.(string)
		switch name {
		case fieldCount:
		case fieldMarks:
			if err := json.Unmarshal([]byte(s), &p.Marks); err != nil {
				return tier.Point{}, fmt.Errorf("%w %s: marks: %v", errBadEntry, m.ID, err)
			}
		default:
			if p.Fields, ok = decodeStats(cache.split(name), s, p.Count); !ok {
				return tier.Point{}, fmt.Errorf("%w %s: packed fields", errBadEntry, m.ID)
			}
		}
	}
	if p.Fields == nil {
		p.Fields = map[string]tier.Stat{}
	}
	return p, nil
}

// decodeStats unpacks one Stat per path from b; false when b doesn't hold
// exactly that.
func decodeStats(paths []string, b string, count uint32) (map[string]tier.Stat, bool) {
	out := make(map[string]tier.Stat, len(paths))
	f := func() float64 {
		v := math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		b = b[4:]
		return float64(v)
	}
	for _, path := range paths {
		if len(b) < 1 {
			return nil, false
		}
		flags := b[0]
		b = b[1:]
		var st tier.Stat
		if flags&statFull != 0 {
			if len(b) < 12 {
				return nil, false
			}
			st.Min, st.Max, st.Sum = f(), f(), f()
		} else {
			if len(b) < 4 {
				return nil, false
			}
			st.Min = f()
			st.Max, st.Sum = st.Min, st.Min
		}
		st.N = count
		if flags&statCount != 0 {
			n, k := binary.Uvarint([]byte(b[:min(len(b), binary.MaxVarintLen32)]))
			if k <= 0 || n > math.MaxUint32 {
				return nil, false
			}
			st.N = uint32(n)
			b = b[k:]
		}
		st.Sum *= float64(st.N) // stored as the mean
		out[path] = st
	}
	return out, len(b) == 0
}
