package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// fillTiers pushes sim through a real roller into store (in batches, see
// tier.Batch) and returns how many ticks it fed.
func fillTiers(store tier.Store, sim tier.Simulation) (int, error) {
	batch := &tier.Batch{Store: store, Size: 1 << 14} // about two days of minutes: few blocks split, little memory
	roller := tier.NewRoller(tier.RollerOptions{Store: batch})
	n := 0
	err := sim.Run(func(t time.Time, samples []tier.Sample, weight uint32) error {
		roller.TickWeighted(t, samples, weight)
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, roller.Flush()
}
