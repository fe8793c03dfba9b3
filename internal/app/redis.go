package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"vitals/history/redisstream"
	"vitals/hostinfo"
	"vitals/metrics"
)

// openRedis opens the --redis backend, publishing host (with this
// process's interval and history) and serving every host in that Redis.
// The URL and the go-redis logger are wiring, so they are handled here;
// no error reaching the log carries the URL's password.
func openRedis(ctx context.Context, cfg Config, host hostinfo.Info, topics []string, log *slog.Logger) (*redisstream.Backend, error) {
	opts, err := redis.ParseURL(cfg.Redis)
	if err != nil {
		return nil, fmt.Errorf("--redis: %v", redactURL(err.Error(), cfg.Redis))
	}
	// go-redis logs pool trouble through a process-wide logger (like gin's
	// mode switch, only main may set it). Our own warnings say the same
	// once, so its lines go to debug.
	redis.SetLogger(slogPrintf{log})
	b, err := redisstream.Open(ctx, redisstream.Options{
		Redis:     opts,
		Host:      host,
		Topics:    topics,
		AllTopics: logTopics(metrics.AllTopics()),
		Redact:    redactors(),
		MaxBytes:  cfg.HistoryBytes,
		Buffer:    cfg.RedisBuffer,
		Logger:    log,
	})
	if err != nil {
		return nil, fmt.Errorf("--redis: %v", redactURL(err.Error(), cfg.Redis))
	}
	return b, nil
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
