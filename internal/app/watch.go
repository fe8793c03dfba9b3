package app

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// watchSampler feeds the vitals topic to the alert rules when the sampler
// does not: a sampler stuck in a collector publishes nothing, so its age
// must come from elsewhere. It looks every interval and ticks the rules
// only once two intervals passed without a sample, so on a healthy host
// it costs a clock read per interval. It returns when ctx is done.
func watchSampler(ctx context.Context, interval time.Duration, lastTick func() time.Time, started time.Time, a *alerting, events backend) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			last := lastTick()
			if last.IsZero() {
				last = started
			}
			age := now.Sub(last)
			if age < 2*interval {
				continue
			}
			samples, ts := a.tick(now, nil, age)
			if len(samples) > 0 {
				events.Publish(now, samples)
				a.published(ts)
			}
		}
	}
}

// onHangup calls every reloader, in order, on each SIGHUP until the
// returned stop is called (safe to call twice); stop waits for a reload in
// progress. Other parts that can reload (TLS certificates, say) add their
// func to the same list in Run, so one signal reloads everything.
func onHangup(log *slog.Logger, reloaders []func()) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
				log.Info("SIGHUP: reloading")
				for _, r := range reloaders {
					r()
				}
			}
		}
	})
	return sync.OnceFunc(func() {
		signal.Stop(hup)
		close(done)
		wg.Wait()
	})
}
