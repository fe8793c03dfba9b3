package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/history/redisstream"
	"vitals/history/tier"
	"vitals/hostinfo"
	"vitals/metrics"
)

// openRedis opens the --redis backend, publishing host (with this
// process's interval and history) and serving every host in that Redis.
// The URL and the go-redis logger are wiring, so they are handled here;
// no error reaching the log carries the URL's password.
func openRedis(ctx context.Context, cfg Config, host hostinfo.Info, topics []string, log *slog.Logger) (*redisstream.Backend, error) {
	// go-redis logs pool trouble through a process-wide logger (like gin's
	// mode switch, only main may set it). Our own warnings say the same
	// once, so its lines go to debug.
	redis.SetLogger(slogPrintf{log})
	client, err := dialRedis(ctx, cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("--redis: %v", redactURL(err.Error(), cfg.Redis))
	}
	b, err := redisstream.Open(ctx, redisstream.Options{
		Client: client,
		Host:   host,
		// The minute rollups go into the host's stream too (opt-in, as
		// in the history file), so a long chart resumes like any stream.
		Topics:    append(topics, tier.Topic),
		AllTopics: append(logTopics(metrics.AllTopics()), tier.Topic),
		OptIn:     []string{tier.Topic},
		Redact:    redactors(),
		MaxBytes:  cfg.HistoryBytes,
		Buffer:    cfg.RedisBuffer,
		Tiers:     cfg.Tiers.redis(),
		Logger:    log,
	})
	if err != nil && strings.Contains(err.Error(), "cluster support disabled") {
		return nil, errors.New("--redis: addr= names the nodes of a Redis Cluster, but this is a single server: give its address alone")
	}
	if err != nil {
		return nil, fmt.Errorf("--redis: %v", redactURL(err.Error(), cfg.Redis))
	}
	return b, nil
}

// dialTimeout bounds each connection attempt, and so the start-up check:
// a wrong host should fail the start promptly, yet a Redis on the far side
// of a slow link must still get through.
const dialTimeout = 5 * time.Second

// dialRedis connects to the --redis URL: one server, or a Redis Cluster.
// A URL naming more servers with addr= parameters
// (redis://h1:7000?addr=h2:7000&addr=h3:7000, go-redis's cluster URL) is a
// cluster seeded by all of them; a URL naming one server is a cluster when
// that server says so (INFO cluster), so any one node's address works.
// A cluster has only db 0.
func dialRedis(ctx context.Context, raw string) (redis.UniversalClient, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Query().Has("addr") {
		return dialCluster(u)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = dialTimeout
	// The probe stays on db 0: a cluster node refuses SELECT, which would
	// hide the clearer message below.
	probeOpts := *opts
	probeOpts.DB = 0
	c := redis.NewClient(&probeOpts)
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	info, err := c.Info(pctx, "cluster").Result()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to %s (db %d): %w", opts.Addr, opts.DB, err)
	}
	if strings.Contains(info, "cluster_enabled:1") {
		c.Close()
		return dialCluster(u)
	}
	if opts.DB == 0 {
		return c, nil
	}
	c.Close()
	return redis.NewClient(opts), nil
}

// dialCluster is a cluster client seeded by every address in the URL.
func dialCluster(u *url.URL) (redis.UniversalClient, error) {
	opts, err := clusterOptions(u)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = dialTimeout
	return redis.NewClusterClient(opts), nil
}

// clusterOptions reads a cluster URL: go-redis's form, with the db, if
// any, 0 (a Redis Cluster has no other).
func clusterOptions(u *url.URL) (*redis.ClusterOptions, error) {
	if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
		return nil, fmt.Errorf("%s is a Redis Cluster, which has only db 0, not %s", u.Host, db)
	}
	c := *u
	c.Path = ""
	opts, err := redis.ParseClusterURL(c.String())
	if err != nil {
		return nil, fmt.Errorf("cluster URL: %w", err)
	}
	return opts, nil
}

// redactURL removes the password of raw from msg, in case a library quotes
// the URL back.
func redactURL(msg, raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		if at := strings.LastIndex(raw, "@"); at > i {
			userinfo := raw[i+3 : at]
			if _, pw, ok := strings.Cut(userinfo, ":"); ok && pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	return msg
}

// slogPrintf adapts slog to go-redis's Printf-style logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
