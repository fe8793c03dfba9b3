package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"vitals/alerts"
)

// Options configures a Dispatcher. DB and Targets are required.
type Options struct {
	// DB holds the outbox; the app may pass its history's own bbolt DB.
	DB *bbolt.DB
	// Bucket is the outbox's top-level bucket (default "alerts-outbox").
	Bucket  string
	Targets []Target
	Logger  *slog.Logger
	// Now is the clock (default time.Now). Backoff is computed from it; a
	// test that moves it calls Wake.
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the wait between attempts on one
	// notification (defaults 5 s and 5 min): doubling from the first, so a
	// target down for an hour is tried about twenty times and hears within
	// five minutes of coming back.
	MinBackoff, MaxBackoff time.Duration
	// Jitter returns [0, 1) (default math/rand/v2); each wait is between
	// half and all of its backoff, so restarted instances do not retry in
	// step.
	Jitter func() float64
	// SendTimeout bounds one attempt (default 30 s).
	SendTimeout time.Duration
	// Keep is how long a delivered transition's id is remembered so a
	// replay cannot send it twice (default 7 days).
	Keep time.Duration
}

// Dispatcher delivers queued notifications, one goroutine per target, each
// in enqueue order. See the package doc for its contract.
type Dispatcher struct {
	cfg     Options
	root    []byte
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	wake    []chan struct{} // one per target, buffered 1
	closeMu sync.Mutex      // guards closed
	closed  bool
}

// New opens the outbox in cfg.DB, forgets old delivery records and the
// queues of targets no longer configured, and starts delivering what is
// waiting, including what a previous process left.
func New(cfg Options) (*Dispatcher, error) {
	if cfg.DB == nil {
		return nil, errors.New("notify: no DB")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "alerts-outbox"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 5 * time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(5*time.Minute, cfg.MinBackoff)
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 7 * 24 * time.Hour
	}
	seen := map[string]bool{}
	for _, t := range cfg.Targets {
		if t.sender == nil {
			return nil, fmt.Errorf("notify: target %q not made by NewTarget or ParseTarget", t.Name)
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("notify: target %s given twice", t.Name)
		}
		seen[t.ID] = true
	}
	d := &Dispatcher{cfg: cfg, root: []byte(cfg.Bucket)}
	var dropped int
	if err := cfg.DB.Update(func(tx *bbolt.Tx) error {
		var err error
		dropped, err = tidy(tx, d.root, cfg.Targets, cfg.Now(), cfg.Keep)
		return err
	}); err != nil {
		return nil, fmt.Errorf("open notification outbox: %w", err)
	}
	if dropped > 0 {
		cfg.Logger.Warn("dropped notifications for targets no longer configured", "count", dropped)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	for _, t := range cfg.Targets {
		wake := make(chan struct{}, 1)
		d.wake = append(d.wake, wake)
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.run(t, wake)
		}()
	}
	return d, nil
}

// Enqueue queues the transitions that targets want, once per transition
// and target however often it is called with the same one, and wakes the
// workers. Call it after publishing the transitions to the history; at
// start-up, after Replay, call it again with the replayed transitions of
// the last minutes, so one enqueued by no one before a crash still goes.
func (d *Dispatcher) Enqueue(ts ...alerts.Transition) error {
	var added bool
	err := d.cfg.DB.Update(func(tx *bbolt.Tx) error {
		var err error
		added, err = d.enqueueTx(tx, ts)
		return err
	})
	if err != nil {
		return err
	}
	if added {
		d.Wake()
	}
	return nil
}

// EnqueueTx is Enqueue inside the caller's write transaction, for an app
// that keeps the outbox in its history DB and appends the "alerts" events
// in the same transaction: then a transition is in both or in neither. Call
// Wake after the transaction commits.
func (d *Dispatcher) EnqueueTx(tx *bbolt.Tx, ts ...alerts.Transition) error {
	_, err := d.enqueueTx(tx, ts)
	return err
}

func (d *Dispatcher) enqueueTx(tx *bbolt.Tx, ts []alerts.Transition) (bool, error) {
	added, err := enqueue(tx, d.root, d.cfg.Targets, d.cfg.Now(), ts)
	if err != nil {
		return false, fmt.Errorf("queue notifications: %w", err)
	}
	return added, nil
}

// Wake makes every worker look at its queue now.
func (d *Dispatcher) Wake() {
	for _, w := range d.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Waiting counts the notifications not yet accepted, per target Name.
func (d *Dispatcher) Waiting() (map[string]int, error) {
	byID, err := waiting(d.cfg.DB, d.root)
	if err != nil {
		return nil, fmt.Errorf("count queued notifications: %w", err)
	}
	out := map[string]int{}
	for _, t := range d.cfg.Targets {
		out[t.Name] = byID[t.ID]
	}
	return out, nil
}

// Close stops the workers and waits for them: an attempt in flight is
// cancelled (a webhook) or finished (a shoutrrr service, bounded by its own
// timeout). What is queued stays in the outbox for the next start. It does
// not close the DB.
func (d *Dispatcher) Close() error {
	d.closeMu.Lock()
	if d.closed {
		d.closeMu.Unlock()
		return nil
	}
	d.closed = true
	d.closeMu.Unlock()
	d.cancel()
	d.wg.Wait()
	return nil
}

// run delivers one target's queue in order until Close.
func (d *Dispatcher) run(t Target, wake <-chan struct{}) {
	log := d.cfg.Logger.With("target", t.Name)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := d.attempt(t, log)
		if d.ctx.Err() != nil {
			return
		}
		if wait == 0 {
			continue
		}
		var tick <-chan time.Time
		if wait > 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		select {
		case <-d.ctx.Done():
			return
		case <-wake:
		case <-tick:
		}
	}
}

// attempt tries the head of a target's queue once. It returns how long to
// wait: 0 to go on at once, a negative duration for "until woken".
func (d *Dispatcher) attempt(t Target, log *slog.Logger) time.Duration {
	key, e, ok, err := head(d.cfg.DB, d.root, t.ID)
	if err != nil {
		log.Error("read notification outbox", "err", err)
		return d.cfg.MaxBackoff
	}
	if !ok {
		return -1
	}
	now := d.cfg.Now()
	if wait := time.UnixMilli(e.Next).Sub(now); wait > 0 {
		return wait
	}
	var tr alerts.Transition
	if err := json.Unmarshal(e.Body, &tr); err != nil {
		log.Error("drop unreadable notification", "id", e.ID, "err", err)
		if err := done(d.cfg.DB, d.root, key); err != nil {
			log.Error("drop unreadable notification", "id", e.ID, "err", err)
			return d.cfg.MaxBackoff
		}
		return 0
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.SendTimeout)
	err = t.sender.send(ctx, newMessage(tr))
	cancel()
	if d.ctx.Err() != nil {
		return 0 // closing: the entry stays for the next start
	}
	if err == nil {
		if err := done(d.cfg.DB, d.root, key); err != nil {
			// It was delivered; sending it again after a restart is
			// the lesser harm than losing it, so only log.
			log.Error("mark notification delivered", "id", e.ID, "err", err)
			return d.cfg.MaxBackoff
		}
		if e.Attempts > 0 {
			log.Info("notification delivered after retries", "id", e.ID, "attempts", e.Attempts+1)
		}
		return 0
	}
	err = scrub(err, t.url)
	e.Attempts++
	e.LastErr = err.Error()
	backoff := d.backoff(e.Attempts)
	e.Next = d.cfg.Now().Add(backoff).UnixMilli()
	log.Warn("notification not accepted; will retry", "id", e.ID, "attempt", e.Attempts, "retry_in", backoff.Round(time.Millisecond), "err", err)
	if err := reschedule(d.cfg.DB, d.root, key, e); err != nil {
		log.Error("reschedule notification", "id", e.ID, "err", err)
	}
	return backoff
}

// backoff doubles from MinBackoff per failed attempt up to MaxBackoff, then
// takes a random point in its upper half.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.cfg.MinBackoff
	for i := 1; i < attempts && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	return b/2 + time.Duration(d.cfg.Jitter()*float64(b/2))
}
