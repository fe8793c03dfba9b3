package redisstream

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"vitals/history"
	"vitals/history/tier"
	"vitals/hostinfo"
)

// TestBackendDescribesHosts opens a Backend as the program does and reads
// back its own host and one whose record is in an earlier version's format: no
// interval or retention inside the description, and an unknown boot time
// as the unix seconds of the zero time.Time.
func TestBackendDescribesHosts(t *testing.T) {
	self := hostinfo.Info{Hostname: "a", OS: "linux", Platform: "debian", PlatformVersion: "12.5", Kernel: "6.1.0",
		Arch: "x86_64", CPUs: 4, BootTime: time.Unix(1_700_000_000, 0), Interval: time.Second, Retention: time.Hour}
	b, srv := openTestBackend(t, Options{Host: self, Topics: testTopics, MaxBytes: 64 << 20, Buffer: time.Minute})
	const old = `{"name":"old","info":{"os":"linux","platform":"","platform_version":"","kernel":"5.10","arch":"arm64","cpus":1,"boot_time":-62135596800},"interval_ms":2000,"retention_ms":600000,"last_seen":1}`
	srv.Do(t, "SET", RecordKey("old"), old)
	srv.Do(t, "SADD", HostsKey, "old")

	b.Publish(time.Now(), []history.Sample{{Topic: "cpu", Data: []byte(`{"t":1}`)}})
	var rec HostRecord
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw := srv.Do(t, "EXISTS", RecordKey("a"))
		if raw == ":1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the publisher wrote no record")
		}
		time.Sleep(10 * time.Millisecond)
	}
	hosts, err := b.Hosts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]hostinfo.Status{}
	for _, h := range hosts {
		got[h.Info.Hostname] = h
	}
	if st := got["a"]; st.Info != self || !st.Self || !st.Live {
		t.Errorf("own host = %+v, want %+v, self and live", st, self)
	}
	wantOld := hostinfo.Info{Hostname: "old", OS: "linux", Kernel: "5.10", Arch: "arm64", CPUs: 1,
		Interval: 2 * time.Second, Retention: 10 * time.Minute}
	if st := got["old"]; st.Info != wantOld || st.Self || st.Live {
		t.Errorf("old record = %+v, want %+v, neither self nor live", st, wantOld)
	}

	// The record's description keeps today's bytes: interval and
	// retention only beside it.
	c := newRedisClient(t, srv)
	raw, err := c.Get(context.Background(), RecordKey("a")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	const wantInfo = `{"os":"linux","platform":"debian","platform_version":"12.5","kernel":"6.1.0","arch":"x86_64","cpus":4,"boot_time":1700000000}`
	if string(rec.Info) != wantInfo || rec.IntervalMS != 1000 || rec.RetentionMS != 3600_000 {
		t.Errorf("record = %s\nwant info %s, interval_ms 1000, retention_ms 3600000", raw, wantInfo)
	}

	if _, info, err := b.Source(context.Background(), ""); err != nil || info != self {
		t.Errorf("Source(\"\") = %+v, %v; want %+v", info, err, self)
	}
}

// TestBackendTierStores: this machine's tier store is one store whatever
// it is asked as, and reads back what it wrote through any host's.
func TestBackendTierStores(t *testing.T) {
	self := hostinfo.Info{Hostname: "a", Interval: time.Second, Retention: time.Hour}
	b, _ := openTestBackend(t, Options{Host: self, Topics: testTopics, MaxBytes: 1 << 20, Buffer: time.Minute})
	if b.TierStore("") != b.TierStore("a") {
		t.Error("two stores for this machine")
	}
	p := tier.Point{Topic: "cpu", T: 1_795_598_940_000, Step: tier.Minute, Count: 60,
		Fields: map[string]tier.Stat{"total": {Min: 1, Max: 3, Sum: 120, N: 60}}}
	if err := b.TierStore("").Write([]tier.Point{p}); err != nil {
		t.Fatal(err)
	}
	var got []tier.Point
	b.TierStore("a").Points(tier.Minute, "cpu", time.UnixMilli(p.T), time.UnixMilli(p.T+60_000), func(p tier.Point) bool {
		got = append(got, p)
		return true
	})
	if len(got) != 1 || got[0].Fields["total"] != p.Fields["total"] {
		t.Errorf("read %+v, want %+v", got, p)
	}
}
