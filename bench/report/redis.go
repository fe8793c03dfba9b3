package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/bench/internal/loadresult"
	"vitals/history/redisstream"
	"vitals/internal/redistest"
)

// The Redis scale-out scenario (docs/scale-out.md): ten vitals
// processes publish ten hosts (h0..h9, all sampling this machine) to one
// throwaway redis-server; two of them, h0 and h1, also serve 10,000
// streams between them, every stream reading one of the ten hosts.
const (
	redisHosts    = 10
	redisServing  = 2
	redisStreams  = 10000
	redisInterval = time.Second
)

// redisReport is what the scenario measured.
type redisReport struct {
	res      *loadresult.Result
	hosts    []string
	serving  []*loadresult.ProcReport // h0, h1
	redisCPU *loadresult.ProcReport
	pubs     []*loadresult.ProcReport // h2..h9: publish only
	version  string

	memEmpty, memEnd int64 // INFO memory used_memory before any host, after the run
	streams          []streamStat
	startup          time.Duration // redis and ten vitals up, every host known
	hourEntries      int64         // entries of the one-hour replica of h0's stream
	hourUsage        int64         // its MEMORY USAGE
	hourErr          string
}

// streamStat is one host's stream at the end of the run.
type streamStat struct {
	host          string
	xlen          int64
	first, last   string  // entry ids
	retainedHours float64 // last - first sample time + one interval
	memUsage      int64   // MEMORY USAGE key SAMPLES 0
}

// startRedis starts the scenario's throwaway redis-server, as the tests
// do: a free loopback port, no persistence, its files in dir.
func startRedis(dir string) (*redistest.Server, error) {
	s, err := redistest.Launch(dir)
	if errors.Is(err, redistest.ErrNotInstalled) {
		return nil, errors.New("redis-server not found on PATH (Debian's redis-server package): the Redis scenario needs it")
	}
	return s, err
}

// redisScaleOut runs the scenario; see the constants above.
func redisScaleOut(ctx context.Context, rep *report) error {
	began := time.Now()
	rs, err := startRedis(filepath.Join(rep.o.workDir, "redis"))
	if err != nil {
		return err
	}
	defer rs.Close()
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rc.Close()
	out := &redisReport{}
	info, err := redisInfo(ctx, rc, "server")
	if err != nil {
		return err
	}
	out.version = info["redis_version"]
	if out.memEmpty, err = usedMemory(ctx, rc); err != nil {
		return err
	}

	var vs []*server
	defer func() { stopAll(vs) }()
	for i := range redisHosts {
		name := "h" + strconv.Itoa(i)
		out.hosts = append(out.hosts, name)
		srv, err := rep.startVitals(ctx, rep.dataDir("redis-"+name), "",
			"--redis", rs.URL, "--name", name, "--interval", redisInterval.String())
		if err != nil {
			return fmt.Errorf("start vitals --name %s: %w", name, err)
		}
		vs = append(vs, srv)
	}
	// Every host must be known (announced with its first tick) before a
	// stream asks for it: an unknown host is a 404.
	if err := waitHosts(ctx, vs[0].url, redisHosts, 20*time.Second); err != nil {
		return err
	}
	out.startup = time.Since(began)

	var urls, pids []string
	for _, v := range vs[:redisServing] {
		urls = append(urls, v.url)
		pids = append(pids, strconv.Itoa(v.PID()))
	}
	pids = append(pids, strconv.Itoa(rs.PID()))
	for _, v := range vs[redisServing:] {
		pids = append(pids, strconv.Itoa(v.PID()))
	}
	res, err := rep.loadgen(ctx, "redis-scaleout", "-urls", strings.Join(urls, ","), "-hosts", strings.Join(out.hosts, ","),
		"-streams", strconv.Itoa(redisStreams), "-ramp", "1000", "-hold", dstr(rep.o.scale(30*time.Second, 60*time.Second)),
		"-topics", coreTopics, "-interval", redisInterval.String(), "-pids", strings.Join(pids, ","), "-max-time", "5m")
	if err != nil {
		return err
	}
	out.res = res
	if n := len(res.Servers); n != redisServing+1+redisHosts-redisServing {
		return fmt.Errorf("loadgen reported %d processes, want %d", n, redisHosts+1)
	}
	out.serving = res.Servers[:redisServing]
	out.redisCPU = res.Servers[redisServing]
	out.pubs = res.Servers[redisServing+1:]

	// Redis's side, while every publisher still runs.
	if out.memEnd, err = usedMemory(ctx, rc); err != nil {
		return err
	}
	for _, h := range out.hosts {
		st, err := streamStats(ctx, rc, h)
		if err != nil {
			return err
		}
		out.streams = append(out.streams, st)
	}
	out.hourEntries, out.hourUsage, err = hourReplica(ctx, rc, out.hosts[0])
	if err != nil {
		out.hourErr = err.Error()
	}
	rep.redis = out
	return nil
}

// hourReplica measures what one full hour of a host's history costs in
// Redis without waiting an hour: it copies the host's real entries, in
// order and with the publisher's field order, into a scratch stream until
// it holds one hour of ticks (ids one interval apart, as the publisher
// sets them), reads MEMORY USAGE and deletes it. Read after every other
// figure, so it changes none.
func hourReplica(ctx context.Context, rc *redis.Client, host string) (entries, usage int64, err error) {
	msgs, err := rc.XRange(ctx, redisstream.StreamKey(host), "-", "+").Result()
	if err != nil || len(msgs) == 0 {
		return 0, 0, fmt.Errorf("XRANGE %s: %v (%d entries)", host, err, len(msgs))
	}
	key := "bench:{" + host + "}:hour"
	defer rc.Del(context.WithoutCancel(ctx), key)
	base, _ := time.Parse(time.RFC3339, "2026-01-01T00:00:00Z")
	var groups [][]redis.XMessage // the host's ticks: entries sharing a sample time
	for i, m := range msgs {
		if i == 0 || idMS(m.ID) != idMS(msgs[i-1].ID) {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], m)
	}
	ticks := int(time.Hour / redisInterval)
	pipe := rc.Pipeline()
	for tick := range ticks {
		ms := base.Add(time.Duration(tick) * redisInterval).UnixMilli()
		for seq, m := range groups[tick%len(groups)] {
			topic, _ := m.Values["topic"].(string)
			data, _ := m.Values["data"].(string)
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: fmt.Sprintf("%d-%d", ms, seq),
				Values: []string{"topic", topic, "data", data}})
		}
		if pipe.Len() >= 1000 || tick == ticks-1 {
			if _, err := pipe.Exec(ctx); err != nil {
				return 0, 0, fmt.Errorf("XADD %s: %w", key, err)
			}
		}
	}
	if entries, err = rc.XLen(ctx, key).Result(); err != nil {
		return 0, 0, err
	}
	usage, err = rc.MemoryUsage(ctx, key, 0).Result()
	return entries, usage, err
}

// stopAll stops servers at once (each takes up to one XREAD BLOCK).
func stopAll(vs []*server) {
	var wg sync.WaitGroup
	for _, v := range vs {
		wg.Go(v.stop)
	}
	wg.Wait()
}

func waitHosts(ctx context.Context, base string, want int, limit time.Duration) error {
	var last string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(200 * time.Millisecond) {
		resp, err := httpClient.Get(base + "/api/hosts")
		if err != nil {
			last = err.Error()
			continue
		}
		var body struct {
			Hosts []struct {
				Name string `json:"name"`
				Live bool   `json:"live"`
			} `json:"hosts"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		live := 0
		for _, h := range body.Hosts {
			if h.Live {
				live++
			}
		}
		if err == nil && live >= want {
			return nil
		}
		last = fmt.Sprintf("%d of %d hosts live (%v)", live, want, err)
	}
	return fmt.Errorf("%s/api/hosts: not every host announced itself: %s", base, last)
}

// redisInfo reads one INFO section as key/value pairs.
func redisInfo(ctx context.Context, rc *redis.Client, section string) (map[string]string, error) {
	raw, err := rc.Info(ctx, section).Result()
	if err != nil {
		return nil, fmt.Errorf("INFO %s: %w", section, err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(raw, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
			m[k] = v
		}
	}
	return m, nil
}

func usedMemory(ctx context.Context, rc *redis.Client) (int64, error) {
	m, err := redisInfo(ctx, rc, "memory")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(m["used_memory"], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("INFO memory: used_memory %q", m["used_memory"])
	}
	return n, nil
}

// streamStats reads one host's stream: length, first and last entry,
// and MEMORY USAGE with every node counted (SAMPLES 0).
func streamStats(ctx context.Context, rc *redis.Client, host string) (streamStat, error) {
	key := redisstream.StreamKey(host)
	st := streamStat{host: host}
	xi, err := rc.XInfoStream(ctx, key).Result()
	if err != nil {
		return st, fmt.Errorf("XINFO STREAM %s: %w", key, err)
	}
	st.xlen, st.first, st.last = xi.Length, xi.FirstEntry.ID, xi.LastEntry.ID
	if st.memUsage, err = rc.MemoryUsage(ctx, key, 0).Result(); err != nil {
		return st, fmt.Errorf("MEMORY USAGE %s: %w", key, err)
	}
	f, l := idMS(st.first), idMS(st.last)
	if f > 0 && l >= f {
		st.retainedHours = float64(l-f+redisInterval.Milliseconds()) / float64(time.Hour.Milliseconds())
	}
	return st, nil
}

func idMS(id string) int64 {
	ms, _, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return n
}
