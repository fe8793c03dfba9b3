package notify

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"vitals/alerts"
)

// The outbox lives in one top-level bucket of a bbolt file (the history's
// own, or one of its own), with two nested buckets:
//
//	queue: targetID 0x00 seq(8, big endian) -> entry   waiting, per target in order
//	sent:  targetID 0x00 transitionID       -> unix ms  enqueued once, ever
//
// A notification is in queue until its target accepts it. Its sent key is
// written in the same transaction as its queue entry and outlives it, so
// enqueueing the same transition again (a replay after a crash) is a no-op.
var (
	bucketQueue = []byte("queue")
	bucketSent  = []byte("sent")
)

type entry struct {
	ID       string          `json:"id"` // the transition's
	Attempts int             `json:"attempts"`
	Next     int64           `json:"next"` // unix ms of the next attempt
	Created  int64           `json:"created"`
	LastErr  string          `json:"last_err,omitempty"` // scrubbed
	Body     json.RawMessage `json:"transition"`
}

func targetPrefix(targetID string) []byte { return append([]byte(targetID), 0) }

func queueKey(targetID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(targetPrefix(targetID), seq)
}

func sentKey(targetID, transitionID string) []byte {
	return append(targetPrefix(targetID), transitionID...)
}

// buckets returns the queue and sent buckets, creating them when tx is
// writable.
func buckets(tx *bbolt.Tx, root []byte) (queue, sent *bbolt.Bucket, err error) {
	if !tx.Writable() {
		r := tx.Bucket(root)
		if r == nil {
			return nil, nil, nil
		}
		return r.Bucket(bucketQueue), r.Bucket(bucketSent), nil
	}
	r, err := tx.CreateBucketIfNotExists(root)
	if err != nil {
		return nil, nil, fmt.Errorf("outbox bucket: %w", err)
	}
	if queue, err = r.CreateBucketIfNotExists(bucketQueue); err != nil {
		return nil, nil, fmt.Errorf("outbox queue: %w", err)
	}
	if sent, err = r.CreateBucketIfNotExists(bucketSent); err != nil {
		return nil, nil, fmt.Errorf("outbox sent: %w", err)
	}
	return queue, sent, nil
}

// enqueue adds a transition for every target that wants it and has not had
// it enqueued before. It reports whether anything was added.
func enqueue(tx *bbolt.Tx, root []byte, targets []Target, now time.Time, ts []alerts.Transition) (bool, error) {
	queue, sent, err := buckets(tx, root)
	if err != nil {
		return false, err
	}
	added := false
	for _, tr := range ts {
		var body []byte
		for _, t := range targets {
			if !t.wants(tr) {
				continue
			}
			sk := sentKey(t.ID, tr.ID)
			if sent.Get(sk) != nil {
				continue
			}
			if body == nil {
				if body, err = json.Marshal(tr); err != nil {
					return false, fmt.Errorf("encode transition %s: %w", tr.ID, err)
				}
			}
			seq, err := queue.NextSequence()
			if err != nil {
				return false, fmt.Errorf("outbox sequence: %w", err)
			}
			e, err := json.Marshal(entry{ID: tr.ID, Next: now.UnixMilli(), Created: now.UnixMilli(), Body: body})
			if err != nil {
				return false, fmt.Errorf("encode outbox entry: %w", err)
			}
			if err := queue.Put(queueKey(t.ID, seq), e); err != nil {
				return false, fmt.Errorf("outbox put: %w", err)
			}
			if err := sent.Put(sk, binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli()))); err != nil {
				return false, fmt.Errorf("outbox put: %w", err)
			}
			added = true
		}
	}
	return added, nil
}

// head returns the oldest waiting entry of a target.
func head(db *bbolt.DB, root []byte, targetID string) (key []byte, e entry, ok bool, err error) {
	err = db.View(func(tx *bbolt.Tx) error {
		queue, _, err := buckets(tx, root)
		if err != nil || queue == nil {
			return err
		}
		p := targetPrefix(targetID)
		k, v := queue.Cursor().Seek(p)
		if k == nil || len(k) != len(p)+8 || string(k[:len(p)]) != string(p) {
			return nil
		}
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decode outbox entry: %w", err)
		}
		key, ok = append([]byte(nil), k...), true
		return nil
	})
	return key, e, ok, err
}

// done removes a delivered entry; its sent key stays.
func done(db *bbolt.DB, root, key []byte) error {
	return db.Update(func(tx *bbolt.Tx) error {
		queue, _, err := buckets(tx, root)
		if err != nil {
			return err
		}
		return queue.Delete(key)
	})
}

// reschedule stores an entry's next attempt.
func reschedule(db *bbolt.DB, root, key []byte, e entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode outbox entry: %w", err)
	}
	return db.Update(func(tx *bbolt.Tx) error {
		queue, _, err := buckets(tx, root)
		if err != nil {
			return err
		}
		return queue.Put(key, v)
	})
}

// tidy drops sent keys older than keep and the queues of targets that are
// no longer configured (a removed --notify would otherwise wait forever).
func tidy(tx *bbolt.Tx, root []byte, targets []Target, now time.Time, keep time.Duration) (dropped int, err error) {
	queue, sent, err := buckets(tx, root)
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, t := range targets {
		known[string(targetPrefix(t.ID))] = true
	}
	isKnown := func(k []byte) bool {
		for i, c := range k {
			if c == 0 {
				return known[string(k[:i+1])]
			}
		}
		return false
	}
	// Keys are collected first: deleting under a cursor can skip the next.
	cut := uint64(now.Add(-keep).UnixMilli())
	var old, orphans [][]byte
	if err := sent.ForEach(func(k, v []byte) error {
		if len(v) == 8 && binary.BigEndian.Uint64(v) < cut {
			old = append(old, k)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if err := queue.ForEach(func(k, _ []byte) error {
		if !isKnown(k) {
			orphans = append(orphans, k)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := sent.Delete(k); err != nil {
			return 0, err
		}
	}
	for _, k := range orphans {
		if err := queue.Delete(k); err != nil {
			return 0, err
		}
	}
	dropped = len(orphans)
	return dropped, nil
}

// waiting counts the queued entries per target ID.
func waiting(db *bbolt.DB, root []byte) (map[string]int, error) {
	out := map[string]int{}
	err := db.View(func(tx *bbolt.Tx) error {
		queue, _, err := buckets(tx, root)
		if err != nil || queue == nil {
			return err
		}
		return queue.ForEach(func(k, _ []byte) error {
			if len(k) > 9 {
				out[string(k[:len(k)-9])]++
			}
			return nil
		})
	})
	return out, err
}
