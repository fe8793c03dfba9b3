package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"vitals/hostinfo"
	"vitals/internal/redistest"
)

func TestScaleOutFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  []string
		want ScaleOut
	}{
		{"off by default", nil, nil, ScaleOut{RedisBuffer: 10 * time.Minute}},
		{"flags", []string{"--redis", "redis://:pw@127.0.0.1:6379/2", "--name", "web-1.example", "--redis-buffer", "30m"}, nil,
			ScaleOut{Redis: "redis://:pw@127.0.0.1:6379/2", Name: "web-1.example", RedisBuffer: 30 * time.Minute}},
		{"tls url", []string{"--redis", "rediss://cache.internal:6380/0"}, nil,
			ScaleOut{Redis: "rediss://cache.internal:6380/0", RedisBuffer: 10 * time.Minute}},
		{"environment", nil, []string{"VITALS_REDIS", "redis://r:6379/0", "VITALS_NAME", "db_2", "VITALS_REDIS_BUFFER", "90s"},
			ScaleOut{Redis: "redis://r:6379/0", Name: "db_2", RedisBuffer: 90 * time.Second}},
		{"flag wins over environment", []string{"--name", "a", "--redis-buffer", "1m"},
			[]string{"VITALS_NAME", "b", "VITALS_REDIS_BUFFER", "2m"}, ScaleOut{Name: "a", RedisBuffer: time.Minute}},
		{"name without redis", []string{"--name", "solo"}, nil, ScaleOut{Name: "solo", RedisBuffer: 10 * time.Minute}},
		{"cluster", []string{"--redis", "redis://:pw@h1:7000?addr=h2:7000&addr=h3:7000"}, nil,
			ScaleOut{Redis: "redis://:pw@h1:7000?addr=h2:7000&addr=h3:7000", RedisBuffer: 10 * time.Minute}},
		{"buffer of exactly one interval", []string{"--redis", "redis://r:1/0", "--interval", "2s", "--redis-buffer", "2s"}, nil,
			ScaleOut{Redis: "redis://r:1/0", RedisBuffer: 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, env(tt.env...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.ScaleOut != tt.want {
				t.Fatalf("got %+v, want %+v", c.ScaleOut, tt.want)
			}
		})
	}
}

func TestScaleOutFlagsReject(t *testing.T) {
	const secret = "s3cret-pass"
	tests := []struct {
		name string
		args []string
		env  []string
		want string // the error names the flag (and the variable when it came from one)
	}{
		{"http url", []string{"--redis", "http://x"}, nil, "--redis"},
		{"no scheme", []string{"--redis", "127.0.0.1:6379"}, nil, "--redis"},
		{"no host", []string{"--redis", "redis:///0"}, nil, "--redis"},
		{"unparsable url with a password", []string{"--redis", "redis://:" + secret + "@host:port/0"}, nil, "--redis"},
		{"bad url from env", nil, []string{"VITALS_REDIS", "tcp://r:6379"}, "--redis"},
		{"name with a brace", []string{"--name", "a}b"}, nil, "--name"},
		{"name with a space", []string{"--name", "web 1"}, nil, "--name"},
		{"name with a slash from env", nil, []string{"VITALS_NAME", "a/b"}, "--name"},
		{"name too long", []string{"--name", strings.Repeat("x", 254)}, nil, "--name"},
		{"buffer garbage", []string{"--redis-buffer", "lots"}, nil, "--redis-buffer"},
		{"buffer garbage from env", nil, []string{"VITALS_REDIS_BUFFER", "big"}, "--redis-buffer (from VITALS_REDIS_BUFFER)"},
		{"buffer under one interval", []string{"--redis", "redis://r:1/0", "--interval", "5s", "--redis-buffer", "1s"}, nil, "--redis-buffer"},
		{"buffer zero", []string{"--redis", "redis://r:1/0", "--redis-buffer", "0s"}, nil, "--redis-buffer"},
		{"cluster with a db", []string{"--redis", "redis://h1:7000/2?addr=h2:7000"}, nil, "--redis"},
		{"cluster seed without a port", []string{"--redis", "redis://:" + secret + "@h1:7000?addr=h2"}, nil, "--redis"},
		{"cluster option it lacks", []string{"--redis", "redis://h1:7000?addr=h2:7000&db=1"}, nil, "--redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, env(tt.env...), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line naming %s", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the password: %v", err)
			}
		})
	}
}

func TestValidHostName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "web-1.example.com": true, "db_2": true, "A.B-c_9": true, strings.Repeat("x", 253): true,
		"": false, "a b": false, "a{b": false, "a}b": false, "a:b": false, "a/b": false, "é": false, strings.Repeat("x", 254): false,
	} {
		if got := validHostName(name); got != want {
			t.Errorf("validHostName(%q) = %v", name, got)
		}
	}
}

// TestDialRedisFindsTheCluster: a URL naming one node of a Redis Cluster,
// or all of them, gives a cluster client; one naming a lone server a plain
// client; a db other than 0 on a cluster stops the start.
func TestDialRedisFindsTheCluster(t *testing.T) {
	single := redistest.Start(t)
	cl := redistest.StartCluster(t)
	for _, tc := range []struct {
		url     string
		cluster bool
	}{
		{single.URL, false},
		{cl.URL, true},
		{"redis://" + cl.Nodes[1].Addr, true},
		{"redis://" + cl.Nodes[1].Addr + "/0", true},
	} {
		c, err := dialRedis(context.Background(), tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		_, isCluster := c.(*redis.ClusterClient)
		if isCluster != tc.cluster {
			t.Errorf("%s: a %T", tc.url, c)
		}
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Errorf("%s: PING: %v", tc.url, err)
		}
		c.Close()
	}
	if _, err := dialRedis(context.Background(), "redis://"+cl.Nodes[0].Addr+"/3"); err == nil || !strings.Contains(err.Error(), "db 0") {
		t.Errorf("db 3 on a cluster: %v", err)
	}
	cfg := Config{HistoryBytes: 1 << 20, ScaleOut: ScaleOut{Redis: single.URL + "?addr=" + single.Addr, RedisBuffer: time.Minute}}
	host := hostinfo.Info{Hostname: "a", Interval: time.Second, Retention: time.Hour}
	_, err := openRedis(context.Background(), cfg, host, []string{"cpu"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "single server") || strings.Contains(err.Error(), "\n") {
		t.Errorf("addr= on a single server: %v, want one line saying so", err)
	}
}
