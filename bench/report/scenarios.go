package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"vitals/bench/internal/loadresult"
)

func (rep *report) dataDir(name string) string {
	d := filepath.Join(rep.o.workDir, "data-"+name)
	os.MkdirAll(d, 0o750)
	return d
}

func dstr(d time.Duration) string { return d.String() }

// coreTopics are the five topics every scenario's streams ask for: what
// the gin baseline carries, so the two servers send the same events, and
// what every host has, so the expected counts hold on any machine. The
// other topics (processes, containers, alerts...) would only add bytes
// that differ from host to host.
const coreTopics = "cpu,memory,load,disk,network"

// fanOut: N streams, the five core topics, against vitals, the floor
// (bench/floor: the least a server can do for the same bytes) and the gin
// baseline, one after the other. A count the open-file limit can't hold
// (server and load generator each need one descriptor per stream) is
// skipped and said so.
func fanOut(ctx context.Context, rep *report) error {
	hold := rep.o.scale(30*time.Second, 60*time.Second)
	room := fdRoom()
	for _, n := range rep.o.fanout {
		if n > room {
			rep.fanSkipped = append(rep.fanSkipped, n)
			logf("fan-out %d skipped: the hard open-file limit holds about %d streams", n, room)
			continue
		}
		h := hold
		if n <= 1000 && !rep.o.full {
			h = 20 * time.Second
		}
		ramp := "2000"
		if n > 20000 {
			ramp = "4000"
		}
		f := fanPair{n: n}
		for _, which := range []string{"vitals", "floor", "gin"} {
			var srv *server
			var err error
			args := []string{"-streams", strconv.Itoa(n), "-ramp", ramp, "-hold", dstr(h), "-topics", coreTopics}
			switch which {
			case "vitals":
				srv, err = rep.startVitals(ctx, rep.dataDir(fmt.Sprintf("fan%d", n)), "")
				if err == nil && rep.tickBytes == 0 {
					// The floor writes blocks of vitals' tick size.
					if rep.tickBytes, err = tickBytes(srv.url, coreTopics); err != nil {
						srv.stop()
						return fmt.Errorf("measure vitals' tick: %w", err)
					}
				}
			case "floor":
				srv, err = rep.startFloor(ctx, rep.tickBytes)
				args = append(args, "-truth", "ticks")
			default:
				srv, err = rep.startGin(ctx)
				args = append(args, "-truth", "ticks")
			}
			if err != nil {
				return err
			}
			args = append(args, "-url", srv.url, "-pid", strconv.Itoa(srv.PID()))
			// The kernel's memory halfway through the window: sockets
			// are not in any process's RSS.
			mem := make(chan int64, 1)
			go func() { // owned here: read below, before the next run
				base := kernelKiB()
				if base < 0 {
					mem <- -1
					return
				}
				t := time.NewTimer(time.Duration(n/2000+2)*time.Second + h/2)
				defer t.Stop()
				select {
				case <-t.C:
					if now := kernelKiB(); now >= 0 {
						mem <- now - base
					} else {
						mem <- -1
					}
				case <-ctx.Done():
					mem <- -1
				}
			}()
			res, err := rep.loadgen(ctx, fmt.Sprintf("fanout-%d-%s", n, which), args...)
			srv.stop()
			kern := <-mem
			if err != nil {
				return err
			}
			switch which {
			case "vitals":
				f.vitals, f.vitalsKern = res, kern
			case "floor":
				f.floor, f.floorKern = res, kern
			default:
				f.gin = res
			}
			time.Sleep(2 * time.Second) // let sockets of the last run close
		}
		rep.fan = append(rep.fan, f)
	}
	return nil
}

// catchUp: one client resumes from the oldest id of a full hour.
func catchUp(ctx context.Context, rep *report) error {
	dir := rep.dataDir("catchup")
	start := time.Now()
	n, err := prefillHour(dir)
	if err != nil {
		return fmt.Errorf("prefill: %w", err)
	}
	rep.prefilled, rep.prefillTook = n, time.Since(start)
	srv, err := rep.startVitals(ctx, dir, "")
	if err != nil {
		return err
	}
	defer srv.stop()
	for i := range 5 {
		res, err := rep.loadgen(ctx, fmt.Sprintf("catchup-%d", i), "-url", srv.url, "-streams", "1", "-resume", "oldest",
			"-hold", "3s", "-grace", "1s", "-topics", coreTopics, "-pid", strconv.Itoa(srv.PID()))
		if err != nil {
			return err
		}
		rep.catchup = append(rep.catchup, res)
	}
	return nil
}

// storm: 5,000 streams, the server restarted under them, all resume.
func storm(ctx context.Context, rep *report) error {
	dir := rep.dataDir("storm")
	srv, err := rep.startVitals(ctx, dir, "")
	if err != nil {
		return err
	}
	addr := srv.url[len("http://"):]
	hold := 25 * time.Second
	type out struct {
		r   *loadresult.Result
		err error
	}
	done := make(chan out, 1)
	go func() { // owned here: we wait on done below
		r, err := rep.loadgen(ctx, "storm", "-url", srv.url, "-streams", "5000", "-ramp", "2500", "-hold", dstr(hold),
			"-reconnect", "-grace", "3s")
		done <- out{r, err}
	}()
	time.Sleep(10 * time.Second) // ramp (2 s) and some live ticks
	restartAt := time.Now()
	srv.stop()
	srv2, err := rep.startVitals(ctx, dir, addr)
	rep.stormRestart = time.Since(restartAt)
	if err != nil {
		<-done
		return err
	}
	o := <-done
	srv2.stop()
	if o.err != nil {
		return o.err
	}
	rep.storm = o.r
	return nil
}

// slowReaders: 1,000 healthy streams, then 100 that stop reading.
func slowReaders(ctx context.Context, rep *report) error {
	srv, err := rep.startVitals(ctx, rep.dataDir("slow"), "")
	if err != nil {
		return err
	}
	defer srv.stop()
	res, err := rep.loadgen(ctx, "slow", "-url", srv.url, "-streams", "1000", "-slow", "100",
		"-hold", dstr(rep.o.scale(50*time.Second, 120*time.Second)), "-slow-drain", "3s", "-topics", coreTopics,
		"-pid", strconv.Itoa(srv.PID()))
	if err != nil {
		return err
	}
	rep.slow = res
	return nil
}

// idle: one stream, the server's own cost.
func idle(ctx context.Context, rep *report) error {
	srv, err := rep.startVitals(ctx, rep.dataDir("idle"), "")
	if err != nil {
		return err
	}
	defer srv.stop()
	res, err := rep.loadgen(ctx, "idle", "-url", srv.url, "-streams", "1", "-topics", coreTopics,
		"-hold", dstr(rep.o.scale(60*time.Second, 5*time.Minute)), "-pid", strconv.Itoa(srv.PID()))
	if err != nil {
		return err
	}
	rep.idle = res
	rep.idleMetrics = scrapeSampleMetrics(srv.url)
	return nil
}

// churn: streams connecting and disconnecting, resuming by id.
func churn(ctx context.Context, rep *report) error {
	srv, err := rep.startVitals(ctx, rep.dataDir("churn"), "")
	if err != nil {
		return err
	}
	defer srv.stop()
	res, err := rep.loadgen(ctx, "churn", "-url", srv.url, "-streams", "500", "-churn", "-churn-min", "1s", "-churn-max", "10s",
		"-hold", dstr(rep.o.scale(90*time.Second, 10*time.Minute)), "-settle", "5s",
		"-pid", strconv.Itoa(srv.PID()), "-pprof", srv.pprof)
	if err != nil {
		return err
	}
	rep.churn = res
	return nil
}
