package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"vitals/history"
	"vitals/history/tier"
	"vitals/metrics"
)

const historyUsage = `usage:
  vitals history fill [--years N] [--data-dir DIR] [flags]
      fill the per-minute and per-hour history with a simulated host, up to now
      (the server must not be running on DIR; vitals history fill -h lists flags)`

// runHistoryCommand runs "vitals history ...": fill pushes a simulated
// host's ticks, ending now, through the real roller into DIR's history
// file, so a year-long chart can be seen without waiting a year.
func runHistoryCommand(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, historyUsage)
		if len(args) == 0 {
			return errors.New("history: want fill (vitals history -h)")
		}
		return ErrHelp
	}
	if args[0] != "fill" {
		return fmt.Errorf("unknown history command %q: want fill (vitals history -h)", args[0])
	}
	fs := flag.NewFlagSet("vitals history fill", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", "./data", "directory of the history file to fill")
	years := fs.Float64("years", 1, "how many years to simulate, ending now")
	every := duration(30 * time.Second)
	fs.Var(&every, "every", "time between simulated ticks (a `duration`); each counts as every/interval ticks")
	interval := duration(time.Second)
	fs.Var(&interval, "interval", "the sampling interval the counts stand for (a `duration`)")
	seed := fs.Uint64("seed", 0, "seed of the simulation, to draw the same host again (0: a new one each run)")
	var host tier.SimHost
	fs.IntVar(&host.Cores, "cores", 2, "simulated CPU cores")
	fs.IntVar(&host.Disks, "disks", 2, "simulated disks")
	fs.IntVar(&host.Mounts, "mounts", 3, "simulated filesystems")
	fs.IntVar(&host.Interfaces, "interfaces", 3, "simulated network interfaces")
	var tiers Tiers
	tiers.addFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, historyUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return ErrHelp
		}
		return flagError(fs, err)
	}
	switch {
	case *years <= 0 || *years > 10:
		return fmt.Errorf("--years %g: use more than 0 and at most 10", *years)
	case time.Duration(interval) < minInterval:
		return fmt.Errorf("--interval %v is too short: at least %v", time.Duration(interval), minInterval)
	case every < interval || time.Duration(every)%time.Duration(interval) != 0:
		return fmt.Errorf("--every %v must be a whole number of --interval (%v)", time.Duration(every), time.Duration(interval))
	case host.Cores < 1 || host.Disks < 0 || host.Mounts < 0 || host.Interfaces < 0:
		return errors.New("--cores must be at least 1, --disks, --mounts and --interfaces at least 0")
	}
	if err := tiers.finish(); err != nil {
		return err
	}
	if err := checkDataDir(*dataDir); err != nil {
		return err
	}
	broker, err := history.Open(history.Options{Dir: *dataDir, Topics: append(logTopics(metrics.AllTopics()), tier.Topic),
		OptIn: []string{tier.Topic}, Retention: time.Hour, MaxBytes: 64 << 20})
	if err != nil {
		return err
	}
	defer broker.Close()
	store, err := tier.OpenBolt(broker.DB(), tiers.keep())
	if err != nil {
		return err
	}
	// A one-off batch job that allocates a point map per field per
	// minute: collecting garbage less often saves a fifth of its CPU for
	// about twice the heap (a few hundred MiB at most).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	started := time.Now()
	if *seed == 0 {
		*seed = uint64(started.UnixNano())
	}
	span := time.Duration(*years * float64(year))
	n, err := fillTiers(store, tier.Simulation{From: started.Add(-span), Span: span, Every: time.Duration(every),
		Interval: time.Duration(interval), Host: host, Seed: *seed})
	if err != nil {
		return err
	}
	if err := broker.Close(); err != nil {
		return err
	}
	fi, err := os.Stat(filepath.Join(*dataDir, history.FileName))
	size := int64(0)
	if err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(stdout, "filled %s: %g simulated years in %d ticks, %.1f MiB of minutes and %.1f MiB of hours, history file %.1f MiB, in %v\n",
		*dataDir, *years, n, float64(store.Bytes(tier.Minute))/(1<<20), float64(store.Bytes(tier.Hour))/(1<<20),
		float64(size)/(1<<20), time.Since(started).Round(time.Millisecond))
	return nil
}

// fillTiers pushes sim through real rollers into store and returns how
// many ticks it fed. The parts of the simulation (see tier.SimPlan) are
// rolled up at once, a roller each on as many cores as there are, since a
// part's points are the ones one roller fed everything writes; the points
// go to the store in time order, from this goroutine (the store's one
// writer), in batches (see tier.Batch).
func fillTiers(store tier.Store, sim tier.Simulation) (int, error) {
	plan, err := sim.Plan()
	if err != nil {
		return 0, err
	}
	workers := runtime.GOMAXPROCS(0)
	type part struct {
		points []tier.Point
		ticks  int
		err    error
	}
	// Each part's result has its own channel, so they are written in
	// order; a part starts only when a token is free, which bounds the
	// points held in memory to a few parts per worker.
	results := make([]chan part, plan.Parts())
	for i := range results {
		results[i] = make(chan part, 1)
	}
	tokens := make(chan struct{}, 2*workers)
	next := make(chan int)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(next)
		for i := range plan.Parts() {
			select {
			case tokens <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case next <- i:
			case <-stop:
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for i := range next {
				var out pointSink
				roller := tier.NewRoller(tier.RollerOptions{Store: &out})
				ticks, err := plan.RunPart(i, func(t time.Time, samples []tier.Sample, weight uint32) error {
					roller.TickWeighted(t, samples, weight)
					return nil
				})
				if err == nil {
					err = roller.Flush()
				}
				results[i] <- part{points: out, ticks: ticks, err: err}
			}
		})
	}
	defer wg.Wait()
	defer close(stop)

	// About two days of minutes, little memory; flushed after whole parts,
	// so after whole blocks of minutes.
	batch := &tier.Batch{Store: store, Size: 1 << 14}
	n := 0
	for _, ch := range results {
		p := <-ch
		<-tokens
		n += p.ticks
		if p.err != nil {
			return n, p.err
		}
		if err := batch.Write(p.points); err != nil {
			return n, err
		}
	}
	return n, batch.Flush()
}

// pointSink is a tier.Store that keeps what a part's roller completes.
type pointSink []tier.Point

func (s *pointSink) Write(points []tier.Point) error {
	*s = append(*s, points...) // the roller reuses points' backing array
	return nil
}

func (s *pointSink) Points(time.Duration, string, time.Time, time.Time, func(tier.Point) bool) error {
	return nil
}
