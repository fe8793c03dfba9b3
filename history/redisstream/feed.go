package redisstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history"
)

// Feed is one host's history on this instance: the same window and fan-out
// as a Broker, fed by a reader goroutine that follows the host's Redis
// stream. Its ids are the stream's entry ids.
type Feed struct {
	*history.Window
	wr   *history.Writer // owned by the reader
	hub  *Hub
	host string
	key  string

	loaded  chan struct{} // closed once the stream is loaded
	stop    chan struct{} // closed by end
	stopped sync.Once
	// ctx is cancelled by end, so a call that hasn't reached its blocking
	// read returns at once (one that has returns within Block).
	ctx     context.Context
	cancel  context.CancelFunc
	touched atomic.Int64 // unix ms of the last Source for this host

	lastID string // the newest entry read; owned by the reader

	mu     sync.Mutex // guards following fields
	rec    *HostRecord
	err    error         // the reader's current error; nil while reading
	adv    chan struct{} // closed and replaced whenever events arrive
	advSeq uint64        // newest seq appended
}

// futureWait bounds how long a client whose id is newer than this feed has
// read waits for the reader: the id came from another instance reading the
// same stream, a round trip ahead at most.
const futureWait = 2 * time.Second

// Subscribe is the window's Subscribe, after waiting (briefly) for the
// reader to reach the client's id when another instance already sent it.
func (f *Feed) Subscribe(o history.SubscribeOptions) (*history.Subscription, error) {
	f.touch()
	if o.Resume {
		if seq, reason := streamPosition(o.After); reason == "" {
			f.waitFor(seq)
		}
	}
	return f.Window.Subscribe(o)
}

// Host is the name this feed follows.
func (f *Feed) Host() string { return f.host }

// Topics is what the host publishes, as its record says (those the window
// knows), else every topic the window knows.
func (f *Feed) Topics() []string {
	all := f.Window.Topics()
	rec := f.record()
	if rec == nil || len(rec.Topics) == 0 {
		return all
	}
	out := make([]string, 0, len(rec.Topics))
	for _, t := range rec.Topics {
		if slices.Contains(all, t) {
			out = append(out, t)
		}
	}
	return out
}

// LastSeen is the host's newest sign of life as its record said when the
// feed was last asked for (Hub.Source reads the record each time): when
// the host wrote its newest tick, or announced itself before its first.
// Zero when the record is not known.
func (f *Feed) LastSeen() time.Time {
	rec := f.record()
	if rec == nil || rec.LastSeen == 0 {
		return time.Time{}
	}
	return time.UnixMilli(rec.LastSeen)
}

func (f *Feed) waitFor(seq uint64) {
	timeout := time.NewTimer(futureWait)
	defer timeout.Stop()
	for {
		f.mu.Lock()
		reached, adv := f.advSeq >= seq, f.adv
		f.mu.Unlock()
		if reached {
			return
		}
		select {
		case <-adv:
		case <-timeout.C:
			return
		case <-f.stop:
			return
		}
	}
}

func (f *Feed) touch() { f.touched.Store(time.Now().UnixMilli()) }

func (f *Feed) record() *HostRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec
}

func (f *Feed) setRecord(rec HostRecord) {
	f.mu.Lock()
	f.rec = &rec
	f.mu.Unlock()
}

func (f *Feed) readErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *Feed) setErr(err error) {
	f.mu.Lock()
	was := f.err
	f.err = err
	f.mu.Unlock()
	f.wr.SetErr(err)
	switch {
	case err != nil && was == nil:
		f.hub.log.Warn("redis read failed; streams keep their heartbeat and resume when it is back",
			"stream", f.key, "err", err)
	case err == nil && was != nil:
		f.hub.log.Info("redis reads recovered", "stream", f.key)
	}
}

// end stops the reader and ends every subscription. Called with hub.mu
// held (or by retire).
func (f *Feed) end() {
	f.stopped.Do(func() {
		close(f.stop)
		f.cancel()
		f.Shutdown()
	})
}

// readBatch is how many entries one XRANGE page or XREAD returns at most:
// a few hundred kilobytes, so loading an hour (18,000 entries) takes a
// handful of round trips without one huge reply.
const readBatch = 1000

// retryBackoff is the pause after a failed Redis call, doubled up to
// maxBackoff: quick recovery from a restart without hammering a dead
// server.
const (
	retryBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// run is the feed's reader goroutine, owned by the hub: it loads the
// stream, then follows it with XREAD BLOCK until end or idleness.
func (f *Feed) run() {
	defer f.hub.wg.Done()
	defer f.cancel()
	ctx := f.ctx
	backoff := retryBackoff
	pause := func() bool { // false when the feed is stopping
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, maxBackoff)
		select {
		case <-t.C:
			return true
		case <-f.stop:
			return false
		}
	}
	for {
		err := f.load(ctx)
		if err == nil {
			break
		}
		f.setErr(err)
		if f.idleRetire() || !pause() {
			return
		}
	}
	f.setErr(nil)
	close(f.loaded)
	backoff = retryBackoff
	for {
		select {
		case <-f.stop:
			return
		default:
		}
		res, err := f.hub.o.Client.XRead(ctx, &redis.XReadArgs{
			Streams: []string{f.key, f.lastID},
			Count:   readBatch,
			Block:   f.hub.o.Block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil): // nothing new within Block
			f.setErr(nil)
			if f.idleRetire() {
				return
			}
			continue
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			f.setErr(err)
			if f.idleRetire() || !pause() {
				return
			}
			continue
		}
		f.setErr(nil)
		backoff = retryBackoff
		for _, s := range res {
			f.append(s.Messages)
		}
	}
}

func (f *Feed) idleRetire() bool {
	if f.Stats().Subscribers > 0 {
		return false
	}
	return f.hub.retire(f)
}

// load reads the whole stream into the window. The first page and the
// stream's counters are read in one MULTI, so the trim mark agrees with the
// entries loaded; later pages follow by id (trimming only takes from the
// front, which the first page already fixed).
func (f *Feed) load(ctx context.Context) error {
	c := f.hub.o.Client
	pipe := c.TxPipeline()
	infoCmd := pipe.XInfoStream(ctx, f.key)
	firstCmd := pipe.XRangeN(ctx, f.key, "-", "+", readBatch)
	_, err := pipe.Exec(ctx)
	noStream := infoCmd.Err() != nil && strings.Contains(infoCmd.Err().Error(), "no such key")
	if err != nil && !(noStream && firstCmd.Err() == nil) {
		return fmt.Errorf("load %s: %w", f.key, err)
	}
	msgs := firstCmd.Val()
	evs := f.events(msgs)
	var trimmed uint64
	if !noStream {
		trimmed = trimMark(infoCmd.Val(), msgs)
	}
	for len(msgs) == readBatch {
		msgs, err = c.XRangeN(ctx, f.key, "("+msgs[len(msgs)-1].ID, "+", readBatch).Result()
		if err != nil {
			return fmt.Errorf("xrange %s: %w", f.key, err)
		}
		evs = append(evs, f.events(msgs)...)
	}
	f.wr.Load(evs, trimmed)
	if n := len(evs); n > 0 {
		f.lastID = evs[n-1].ID
		f.advanced(evs[n-1].Seq)
	}
	return nil
}

// trimMark is the window's "newest seq ever evicted" for a stream just
// loaded. Redis 7.0 doesn't record what MAXLEN trimmed (max-deleted-entry-id
// counts only XDEL), but entries-added > length says something was removed
// from the front, so everything before the first entry is gone: the mark
// is the position just before it. A client at exactly that position missed
// nothing, one before it gets complete:false "expired", and when nothing
// was ever removed an older id isn't from this stream at all ("unknown").
func trimMark(info *redis.XInfoStream, first []redis.XMessage) uint64 {
	var mark uint64
	if info.EntriesAdded > info.Length {
		if len(first) > 0 {
			if seq, reason := streamPosition(first[0].ID); reason == "" && seq > 0 {
				mark = seq - 1
			}
		} else if seq, reason := streamPosition(info.LastGeneratedID); reason == "" {
			mark = seq
		}
	}
	if seq, reason := streamPosition(info.MaxDeletedEntryID); reason == "" {
		mark = max(mark, seq)
	}
	return mark
}

// append adds newly read entries and evicts what the window no longer
// keeps.
func (f *Feed) append(msgs []redis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	f.lastID = msgs[len(msgs)-1].ID
	evs := f.events(msgs)
	if len(evs) == 0 {
		return
	}
	f.wr.Append(evs) // ErrClosed only when the feed is ending anyway
	f.advanced(evs[len(evs)-1].Seq)
}

func (f *Feed) advanced(seq uint64) {
	f.mu.Lock()
	f.advSeq = seq
	close(f.adv)
	f.adv = make(chan struct{})
	f.mu.Unlock()
}

// events turns stream entries into events, skipping any that vitals didn't
// write (logged at debug: someone else's XADD to our key).
func (f *Feed) events(msgs []redis.XMessage) []*history.Event {
	size := 0
	for _, m := range msgs {
		if d, ok := m.Values[fieldData].(string); ok {
			size += len(d) + 96 // + id, topic and field names
		}
	}
	buf := make([]byte, 0, size) // one allocation for the batch's wire bytes
	out := make([]*history.Event, 0, len(msgs))
	for _, m := range msgs {
		topic, _ := m.Values[fieldTopic].(string)
		data, _ := m.Values[fieldData].(string)
		ms, n, ok := parseStreamID(m.ID)
		var e *history.Event
		var err error
		if ok {
			e, buf, err = history.NewEvent(m.ID, ms<<seqBits|n, topic, int64(ms), []byte(data), buf)
		}
		if !ok || err != nil {
			f.hub.log.Debug("skipping a stream entry vitals didn't write", "stream", f.key, "id", m.ID)
			continue
		}
		out = append(out, e)
	}
	return out
}
