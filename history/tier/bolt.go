package tier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// rootBucket holds the tiers in the history file, beside the broker's and
// the notification outbox's buckets: one sub-bucket per step, one per topic
// under it, keyed by block start.
var rootBucket = []byte("tiers")

// sizeKey, in each step's bucket, holds the bytes its blocks take
// (uint64, big endian), kept up to date by every Write.
var sizeKey = []byte("size")

// Keep is one tier's retention: points older than Age (behind the newest
// point written at that step) are dropped, and the oldest go first while
// the tier's stored bytes exceed MaxBytes.
type Keep struct {
	Age      time.Duration
	MaxBytes int64
}

// BoltOptions configures a BoltStore.
type BoltOptions struct {
	Minutes, Hours Keep // both required
}

// BoltStore is the tiers' Store in the bbolt history file (the Broker's
// DB). Each Write is one transaction; reads take their own. Safe for
// concurrent use: one writer (the roller) and any number of readers.
//
// Retention is judged against the newest point written at each step, not
// the wall clock, so a clock step never drops a tier early and a
// simulated fill with an injected clock ages out as real time would.
//
// bbolt never gives pages back to the file system, but it reuses freed
// ones: once retention drops as much as each write adds (a steady state
// reached after the retention period), the file stops growing.
type BoltStore struct {
	db   *bolt.DB
	keep map[time.Duration]Keep

	mu     sync.Mutex // guards following fields
	bytes  map[time.Duration]int64
	newest map[time.Duration]int64
	open   map[openKey]openBlock // each topic's newest block, decoded
}

type openKey struct {
	step  time.Duration
	topic string
}

type openBlock struct {
	start  int64
	points []Point
}

type blockKey struct {
	step  time.Duration
	topic string
	start int64
}

// OpenBolt opens (creating if missing) the tiers' buckets in db and counts
// what they hold.
func OpenBolt(db *bolt.DB, o BoltOptions) (*BoltStore, error) {
	for _, k := range []Keep{o.Minutes, o.Hours} {
		if k.Age <= 0 || k.MaxBytes <= 0 {
			return nil, errors.New("tier: each tier needs a positive retention and byte cap")
		}
	}
	s := &BoltStore{db: db, keep: map[time.Duration]Keep{Minute: o.Minutes, Hour: o.Hours},
		bytes: map[time.Duration]int64{}, newest: map[time.Duration]int64{}, open: map[openKey]openBlock{}}
	err := db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		for step := range s.keep {
			b, err := root.CreateBucketIfNotExists(stepName(step))
			if err != nil {
				return err
			}
			// The byte count is kept in the file, so opening reads one
			// block per topic instead of paging the whole file in.
			v := b.Get(sizeKey)
			if v != nil {
				s.bytes[step] = int64(binary.BigEndian.Uint64(v))
			}
			err = b.ForEachBucket(func(topic []byte) error {
				c := b.Bucket(topic).Cursor()
				if v == nil {
					for k, v := c.First(); k != nil; k, v = c.Next() {
						s.bytes[step] += int64(len(k) + len(v))
					}
				}
				if k, v := c.Last(); k != nil {
					ps, err := decodeBlock(string(topic), int64(binary.BigEndian.Uint64(k)), step, v)
					if err != nil {
						return fmt.Errorf("topic %s: %w", topic, err)
					}
					if len(ps) > 0 {
						s.newest[step] = max(s.newest[step], ps[len(ps)-1].T)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open history tiers: %w", err)
	}
	return s, nil
}

func stepName(step time.Duration) []byte {
	if step == Hour {
		return []byte("1h")
	}
	return []byte("1m")
}

func blockKeyBytes(start int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(start)) }

// Write stores points (see [Store.Write]) in one transaction, then drops
// what each step's retention and byte cap no longer keep.
func (s *BoltStore) Write(points []Point) error {
	if len(points) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Group by block, keeping each block's points in time order.
	groups := map[blockKey][]Point{}
	var order []blockKey
	for _, p := range points {
		if _, ok := s.keep[p.Step]; !ok {
			return fmt.Errorf("tier: no tier with step %v", p.Step)
		}
		k := blockKey{p.Step, p.Topic, floor(p.T, blockSpan(p.Step))}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	newOpen := map[blockKey][]Point{}
	newBytes := map[time.Duration]int64{}
	newest := map[time.Duration]int64{}
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(rootBucket)
		for _, k := range order {
			sb := root.Bucket(stepName(k.step))
			tb, err := sb.CreateBucketIfNotExists([]byte(k.topic))
			if err != nil {
				return err
			}
			// Blocks are written in time order: packing pages full saves
			// the half-empty pages bbolt's default split leaves behind.
			tb.FillPercent = 0.95
			key := blockKeyBytes(k.start)
			var have []Point
			old := tb.Get(key)
			if ob, ok := s.open[openKey{k.step, k.topic}]; ok && ob.start == k.start && old != nil {
				have = ob.points
			} else if old != nil {
				if have, err = decodeBlock(k.topic, k.start, k.step, old); err != nil {
					return fmt.Errorf("topic %s: %w", k.topic, err)
				}
			}
			merged := mergePoints(have, groups[k])
			enc, err := encodeBlock(k.start, k.step, merged)
			if err != nil {
				return err
			}
			if old != nil {
				newBytes[k.step] -= int64(len(key) + len(old))
			}
			if err := tb.Put(key, enc); err != nil {
				return err
			}
			newBytes[k.step] += int64(len(key) + len(enc))
			newOpen[k] = merged
			newest[k.step] = max(newest[k.step], merged[len(merged)-1].T)
		}
		for step, keep := range s.keep {
			nb := s.bytes[step] + newBytes[step]
			freed, err := trim(root.Bucket(stepName(step)), step, max(s.newest[step], newest[step]), keep, nb)
			if err != nil {
				return err
			}
			newBytes[step] -= freed
			size := binary.BigEndian.AppendUint64(nil, uint64(s.bytes[step]+newBytes[step]))
			if err := root.Bucket(stepName(step)).Put(sizeKey, size); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write history tiers: %w", err)
	}
	for step, n := range newBytes {
		s.bytes[step] += n
	}
	for step, t := range newest {
		s.newest[step] = max(s.newest[step], t)
	}
	// Keep each topic's newest block decoded: the one the next minute
	// goes into, so a write decodes nothing.
	for k, ps := range newOpen {
		ok := openKey{k.step, k.topic}
		if ob, have := s.open[ok]; !have || ob.start <= k.start {
			s.open[ok] = openBlock{start: k.start, points: ps}
		}
	}
	return nil
}

// mergePoints returns have with add merged in by T (add replaces).
func mergePoints(have, add []Point) []Point {
	out := slices.Clone(have)
	for _, p := range add {
		i, found := slices.BinarySearchFunc(out, p.T, func(a Point, t int64) int {
			switch {
			case a.T < t:
				return -1
			case a.T > t:
				return 1
			}
			return 0
		})
		if found {
			out[i] = p
		} else {
			out = slices.Insert(out, i, p)
		}
	}
	return out
}

// trim drops the blocks of one step that retention no longer keeps: every
// block wholly older than newest - keep.Age, then the oldest blocks (of
// every topic at once) while bytes exceeds keep.MaxBytes, never the
// newest block. It returns the bytes freed.
func trim(sb *bolt.Bucket, step time.Duration, newest int64, keep Keep, bytes int64) (int64, error) {
	span := blockSpan(step).Milliseconds()
	cutoff := newest - keep.Age.Milliseconds()
	var freed int64
	var topics [][]byte
	sb.ForEachBucket(func(k []byte) error { topics = append(topics, k); return nil })
	for _, t := range topics {
		c := sb.Bucket(t).Cursor()
		for k, v := c.First(); k != nil && int64(binary.BigEndian.Uint64(k))+span <= cutoff; k, v = c.First() {
			freed += int64(len(k) + len(v))
			if err := c.Delete(); err != nil {
				return freed, err
			}
		}
	}
	for bytes-freed > keep.MaxBytes {
		// The oldest block start over all topics.
		oldest, newestStart := int64(1<<63-1), int64(-1<<63)
		for _, t := range topics {
			c := sb.Bucket(t).Cursor()
			if k, _ := c.First(); k != nil {
				oldest = min(oldest, int64(binary.BigEndian.Uint64(k)))
			}
			if k, _ := c.Last(); k != nil {
				newestStart = max(newestStart, int64(binary.BigEndian.Uint64(k)))
			}
		}
		if oldest >= newestStart {
			break // only the block being filled is left
		}
		for _, t := range topics {
			c := sb.Bucket(t).Cursor()
			if k, v := c.First(); k != nil && int64(binary.BigEndian.Uint64(k)) == oldest {
				freed += int64(len(k) + len(v))
				if err := c.Delete(); err != nil {
					return freed, err
				}
			}
		}
	}
	return freed, nil
}

// Points calls fn with topic's points at step in [from, to), oldest first
// (see [Store.Points]).
func (s *BoltStore) Points(step time.Duration, topic string, from, to time.Time, fn func(Point) bool) error {
	f, t := from.UnixMilli(), to.UnixMilli()
	return s.blocks(step, topic, f, t, func(c *columns) bool {
		for _, p := range c.points(topic, step) {
			if p.T >= f && p.T < t && !fn(p) {
				return false
			}
		}
		return true
	})
}

var _ SeriesReader = (*BoltStore)(nil)

// Series is Points for a chart: it calls fn with each point of topic at
// step in [from, to), oldest first, until fn returns false, giving only
// the fields asked for: stats[i] is fields[i]'s Stat (N = 0 where the
// point lacks it). It builds no map per point, so 90 days of minutes read
// about twice as fast as through Points. stats and marks are valid only
// during the call.
func (s *BoltStore) Series(step time.Duration, topic string, fields []string, from, to time.Time,
	fn func(t int64, count uint32, stats []Stat, marks []Mark) bool) error {
	f, t := from.UnixMilli(), to.UnixMilli()
	stats := make([]Stat, len(fields))
	idx := make([]int, len(fields))
	return s.blocks(step, topic, f, t, func(c *columns) bool {
		for i, name := range fields {
			idx[i] = slices.Index(c.names, name)
		}
		np := len(c.ts)
		for pi, pt := range c.ts {
			if pt < f || pt >= t {
				continue
			}
			for i, fi := range idx {
				stats[i] = Stat{}
				if fi >= 0 {
					stats[i] = c.stats[fi*np+pi]
				}
			}
			if !fn(pt, c.counts[pi], stats, c.marks[pi]) {
				return false
			}
		}
		return true
	})
}

// blocks calls fn with each decoded block of topic at step that may hold
// points in [from, to) (unix ms), oldest first, until fn returns false.
func (s *BoltStore) blocks(step time.Duration, topic string, from, to int64, fn func(*columns) bool) error {
	if _, ok := s.keep[step]; !ok {
		return fmt.Errorf("tier: no tier with step %v", step)
	}
	return s.db.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(rootBucket).Bucket(stepName(step)).Bucket([]byte(topic))
		if tb == nil {
			return nil
		}
		c := tb.Cursor()
		for k, v := c.Seek(blockKeyBytes(floor(from, blockSpan(step)))); k != nil; k, v = c.Next() {
			start := int64(binary.BigEndian.Uint64(k))
			if start >= to {
				return nil
			}
			cols, err := decodeColumns(start, step, v)
			if err != nil {
				return fmt.Errorf("read history tier %s %s: %w", stepName(step), topic, err)
			}
			if !fn(cols) {
				return nil
			}
		}
		return nil
	})
}

// Newest returns the T of topic's newest point at step.
func (s *BoltStore) Newest(step time.Duration, topic string) (int64, bool, error) {
	var t int64
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		tb := tx.Bucket(rootBucket).Bucket(stepName(step))
		if tb != nil {
			tb = tb.Bucket([]byte(topic))
		}
		if tb == nil {
			return nil
		}
		k, v := tb.Cursor().Last()
		if k == nil {
			return nil
		}
		ps, err := decodeBlock(topic, int64(binary.BigEndian.Uint64(k)), step, v)
		if err != nil || len(ps) == 0 {
			return err
		}
		t, found = ps[len(ps)-1].T, true
		return nil
	})
	return t, found, err
}

// Bytes is what one step's blocks take in the file (keys and values,
// before bbolt's page overhead).
func (s *BoltStore) Bytes(step time.Duration) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes[step]
}
