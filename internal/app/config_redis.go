package app

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"time"
)

// ScaleOut are the settings for many hosts and many dashboard instances on
// one Redis (docs/scale-out.md).
type ScaleOut struct {
	// Redis is a redis:// or rediss:// URL (password and db in it); ""
	// keeps the embedded bbolt history.
	Redis string
	// Name is the host name this process publishes as; "" is the
	// machine's host name.
	Name string
	// RedisBuffer is how much sampling is held locally while Redis can't
	// be written.
	RedisBuffer time.Duration
}

// defaultRedisBuffer covers a Redis restart, a failover or a short network
// cut with room to spare, at a cost of about 3 KB per tick for the five
// host topics plus about 4 KB for a processes list of 10 + 10 rows:
// 600 ticks at 1 s is under 5 MB.
const defaultRedisBuffer = 10 * time.Minute

func (s *ScaleOut) addFlags(fs *flag.FlagSet) {
	s.RedisBuffer = defaultRedisBuffer
	fs.StringVar(&s.Redis, "redis", "", "keep history in Redis Streams instead of bbolt: redis://[:password@]host:6379/0 or rediss://...; a Redis Cluster: any node's address, or several as redis://h1:6379?addr=h2:6379&addr=h3:6379 (docs/scale-out.md)")
	fs.StringVar(&s.Name, "name", "", "host name to publish this machine as (default: its host name)")
	fs.Var((*duration)(&s.RedisBuffer), "redis-buffer", "how much sampling to hold while Redis is unreachable (a `duration`)")
}

// finish checks the scale-out settings once flags and environment are in.
func (s *ScaleOut) finish(interval time.Duration) error {
	if s.Name != "" && !validHostName(s.Name) {
		return fmt.Errorf("--name %q: use letters, digits, '.', '_' and '-' (at most 253)", s.Name)
	}
	if s.Redis == "" {
		return nil
	}
	u, err := url.Parse(s.Redis)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return errors.New("--redis must be a URL like redis://host:6379/0 or rediss://host:6380/0")
	}
	if u.Query().Has("addr") {
		if _, err := clusterOptions(u); err != nil {
			return fmt.Errorf("--redis: %v", redactURL(err.Error(), s.Redis))
		}
	}
	if s.RedisBuffer < interval {
		return fmt.Errorf("--redis-buffer %v must be at least one --interval (%v)", s.RedisBuffer, interval)
	}
	return nil
}

// validHostName keeps a name safe inside a Redis key's hash tag
// ("vitals:{name}:events") and in a URL query.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '.' || c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}
