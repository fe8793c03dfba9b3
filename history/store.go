package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the history file inside --data-dir.
const FileName = "history.db"

// reserveBlock is how many sequence numbers are reserved on disk ahead of
// use. Reserving ahead is what makes ids safe against kill -9 and a full
// disk: after a restart numbering resumes at the reservation mark, above any
// id a client could have seen, even if the last ticks never reached disk.
// 2^24 ids last 38 days at 5 events per second, so a disk would have to stay
// full that long before an unpersisted reservation could be outrun. The cost
// is a jump in the numbers at each restart, which clients never see because
// ids are opaque.
const reserveBlock = 1 << 24

// openTimeout bounds the wait for bbolt's file lock: another process holding
// the file gets a clear error in about a second instead of a hang.
const openTimeout = time.Second

var (
	bucketMeta   = []byte("meta")
	bucketEvents = []byte("events")
	keyEpoch     = []byte("epoch")
	keyReserved  = []byte("reserved") // every seq below it may have been issued
	keyTrimmed   = []byte("trimmed")  // the newest seq ever evicted (0: none)
	keyFormat    = []byte("format")
)

const formatVersion = 1

// errCorrupt marks a file whose contents can't be trusted; the caller moves
// it aside and starts afresh.
var errCorrupt = errors.New("history file is corrupt")

// store is the bbolt file behind the window. It is used only by the publisher
// (and by Open and Close), so it needs no lock of its own.
type store struct {
	db       *bolt.DB
	path     string
	reserved uint64 // the persisted reservation mark
}

// loaded is what a store hands back at open.
type loaded struct {
	epoch   string
	next    uint64 // first seq to issue
	trimmed uint64
	events  []*Event // retained window, oldest first (already re-encoded)
}

// openStore opens (or creates) the history file in dir, drops what is past
// retention, and returns the retained window. A corrupt file is moved aside
// to "<name>.corrupt-<time>" and a fresh one is created; a file locked by
// another process is an error naming the path.
func openStore(dir string, keep retention, now time.Time, log *slog.Logger) (*store, loaded, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, loaded{}, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	s, l, err := tryOpen(path, keep, now)
	if errors.Is(err, errCorrupt) {
		aside := fmt.Sprintf("%s.corrupt-%s", path, now.UTC().Format("20060102T150405Z"))
		log.Error("history file is corrupt; moved aside and starting a fresh history",
			"path", path, "moved_to", aside, "err", err)
		if rerr := os.Rename(path, aside); rerr != nil {
			return nil, loaded{}, fmt.Errorf("move corrupt history %s aside: %w", path, rerr)
		}
		s, l, err = tryOpen(path, keep, now)
	}
	if err != nil {
		return nil, loaded{}, err
	}
	return s, l, nil
}

func tryOpen(path string, keep retention, now time.Time) (s *store, l loaded, err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, l, fmt.Errorf("open history %s: the file is locked by another process (is another vitals using this --data-dir?)", path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, l, fmt.Errorf("%w: %v", errCorrupt, err)
	case err != nil:
		return nil, l, fmt.Errorf("open history %s: %w", path, err)
	}
	s = &store{db: db, path: path}
	// bbolt panics on some kinds of page corruption instead of returning an
	// error; loading reads every page we use, so a panic here means the
	// file is corrupt, not that the program is broken.
	defer func() {
		if r := recover(); r != nil {
			db.Close()
			s, err = nil, fmt.Errorf("%w: %v", errCorrupt, r)
		}
	}()
	l, err = s.load(keep, now)
	if err != nil {
		db.Close()
		return nil, l, err
	}
	return s, l, nil
}

// load reads the window back, evicts what retention no longer keeps, and
// moves the reservation mark one block ahead, all in one write transaction.
func (s *store) load(keep retention, now time.Time) (loaded, error) {
	var l loaded
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		evb, err := tx.CreateBucketIfNotExists(bucketEvents)
		if err != nil {
			return err
		}
		if v := meta.Get(keyFormat); v == nil {
			if evb.Stats().KeyN > 0 {
				return fmt.Errorf("%w: events without a format mark", errCorrupt)
			}
			l.epoch = newEpoch()
			if err := meta.Put(keyEpoch, []byte(l.epoch)); err != nil {
				return err
			}
			if err := meta.Put(keyFormat, u64(formatVersion)); err != nil {
				return err
			}
		} else if len(v) != 8 || binary.BigEndian.Uint64(v) != formatVersion {
			return fmt.Errorf("%w: unknown format %x", errCorrupt, v)
		} else {
			l.epoch = string(meta.Get(keyEpoch))
			if _, _, ok := parseID(formatID(l.epoch, 1)); !ok {
				return fmt.Errorf("%w: bad epoch %q", errCorrupt, l.epoch)
			}
		}
		reserved, err := getU64(meta, keyReserved)
		if err != nil {
			return err
		}
		if l.trimmed, err = getU64(meta, keyTrimmed); err != nil {
			return err
		}

		var r retained
		c := evb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			ev, err := decodeEvent(l.epoch, k, v)
			if err != nil {
				return err
			}
			if ev.Seq >= reserved {
				// Can't happen with this code; repair rather than reuse.
				reserved = ev.Seq + 1
			}
			r.append([]*Event{ev})
		}
		if n := r.evictCount(r.olderThan(now.Add(-keep.Age).UnixMilli()), 0, keep.MaxBytes); n > 0 {
			through := r.evs[n-1].Seq
			if err := deleteThrough(evb, through); err != nil {
				return err
			}
			l.trimmed = max(l.trimmed, through)
			r.evict(n)
		}
		l.events = r.evs
		l.next = max(reserved, 1)
		s.reserved = l.next + reserveBlock
		return putMeta(meta, s.reserved, l.trimmed)
	})
	return l, err
}

// append writes one tick's events, evicts everything up to and including
// seq through (0: nothing), and moves the reservation mark when the tick
// would reach it, all in one transaction.
func (s *store) append(evs []*Event, through, trimmed uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		evb := tx.Bucket(bucketEvents)
		for _, e := range evs {
			if err := evb.Put(u64(e.Seq), encodeValue(e)); err != nil {
				return err
			}
		}
		if through > 0 {
			if err := deleteThrough(evb, through); err != nil {
				return err
			}
		}
		reserved := s.reserved
		if last := evs[len(evs)-1].Seq; last+1 >= reserved {
			reserved = last + 1 + reserveBlock
		}
		if err := putMeta(tx.Bucket(bucketMeta), reserved, trimmed); err != nil {
			return err
		}
		s.reserved = reserved
		return nil
	})
}

// reservedMark is the seq the publisher must stay below while the store
// can't persist a new mark.
func (s *store) reservedMark() uint64 { return s.reserved }

func (s *store) close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close history %s: %w", s.path, err)
	}
	return nil
}

func deleteThrough(b *bolt.Bucket, through uint64) error {
	c := b.Cursor()
	// Re-seek after each delete: a bbolt cursor skips the next key if you
	// call Next after Delete.
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= through; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func putMeta(meta *bolt.Bucket, reserved, trimmed uint64) error {
	if err := meta.Put(keyReserved, u64(reserved)); err != nil {
		return err
	}
	return meta.Put(keyTrimmed, u64(trimmed))
}

func getU64(b *bolt.Bucket, key []byte) (uint64, error) {
	v := b.Get(key)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: meta %s is %d bytes", errCorrupt, key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func u64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

// A stored value is: 8 bytes sample time (unix ms), 1 byte topic length,
// the topic, then the JSON payload. The wire form is rebuilt at load, so the
// file stays compact and an encoder fix applies to old events too.
func encodeValue(e *Event) []byte {
	v := make([]byte, 0, 9+len(e.Topic)+len(e.Data))
	v = binary.BigEndian.AppendUint64(v, uint64(e.T))
	v = append(v, byte(len(e.Topic)))
	v = append(v, e.Topic...)
	return append(v, e.Data...)
}

func decodeEvent(epoch string, k, v []byte) (*Event, error) {
	if len(k) != 8 || len(v) < 9 || len(v) < 9+int(v[8]) {
		return nil, fmt.Errorf("%w: bad event record", errCorrupt)
	}
	n := int(v[8])
	seq := binary.BigEndian.Uint64(k)
	topic := string(v[9 : 9+n])
	if !fieldOK(topic) {
		return nil, fmt.Errorf("%w: bad topic %q", errCorrupt, topic)
	}
	// bbolt's slices are valid only inside the transaction; newEvent copies
	// the payload into the event's own wire buffer.
	e, _ := newEvent(epoch, seq, topic, int64(binary.BigEndian.Uint64(v[:8])), v[9+n:], nil)
	return e, nil
}

// newEvent builds an event, appending its wire form to buf (so one tick's
// events can share one allocation) and returning the extended buf. The
// topic must already be known to be a valid field. Data ends up pointing
// into the wire bytes when it has no line break (always, for JSON), so each
// payload is held once.
func newEvent(epoch string, seq uint64, topic string, t int64, data, buf []byte) (*Event, []byte) {
	return encodeEvent(formatID(epoch, seq), seq, topic, t, data, buf)
}

// NewEvent builds an event for a backend that forms its own ids (the Redis
// backend's stream entry ids), appending its wire form to buf like newEvent.
// seq must order the backend's events as its [WindowOptions.Position]
// does. An id or topic that can't be sent as an SSE field, or an empty
// topic, is ErrBadField.
func NewEvent(id string, seq uint64, topic string, t int64, data, buf []byte) (*Event, []byte, error) {
	if topic == "" || !fieldOK(topic) || !fieldOK(id) {
		return nil, buf, fmt.Errorf("%w: id %q, event %q", ErrBadField, id, topic)
	}
	e, buf := encodeEvent(id, seq, topic, t, data, buf)
	return e, buf, nil
}

// encodeEvent is newEvent for an id already formatted.
func encodeEvent(id string, seq uint64, topic string, t int64, data, buf []byte) (*Event, []byte) {
	e := &Event{ID: id, Seq: seq, Topic: topic, T: t}
	start := len(buf)
	buf, _ = AppendEvent(buf, e.ID, topic, data) // id and topic are valid fields
	// Full slice expression: nobody may append into a neighbour's bytes.
	e.Wire = buf[start:len(buf):len(buf)]
	if lineBreak(data) < 0 {
		end := len(e.Wire) - 2 // before the closing "\n\n"
		e.Data = e.Wire[end-len(data) : end : end]
	} else {
		e.Data = append([]byte(nil), data...)
	}
	return e, buf
}
