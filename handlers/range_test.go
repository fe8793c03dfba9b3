package handlers

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"vitals/history"
	"vitals/history/query"
	"vitals/history/tier"
	"vitals/history/tier/tiertest"
)

// oneStore is the TierStores of a server with one host's rollups.
type oneStore struct{ tier.Store }

func (o oneStore) TierStore(context.Context, string) (tier.Store, error) { return o.Store, nil }

// publishCPU publishes n ticks of cpu (total = i % 100) ending at now.
func (f *fixture) publishCPU(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		f.mu.Lock()
		ts := f.now
		f.now = f.now.Add(time.Second)
		f.mu.Unlock()
		data := fmt.Appendf(nil, `{"t":%d,"total":%d,"user":1,"cores":[%d,2],"core_ids":[0,1]}`, ts.UnixMilli(), i%100, i%100)
		if err := f.broker.Publish(ts, []history.Sample{{Topic: "cpu", Data: data}}); err != nil {
			t.Fatal(err)
		}
	}
}

func getJSON(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	return resp.StatusCode, string(b)
}

func TestRangeAPI(t *testing.T) {
	store := tiertest.NewMem()
	f := newFixture(t, func(o *Options) { o.Tiers = oneStore{store} })
	f.now = f.now.Add(-130 * time.Second) // the ticks end before the server's now
	f.publishCPU(t, 120)
	now := f.clock()
	var pts []tier.Point
	for m := now.Add(-3 * 24 * time.Hour).Truncate(time.Minute); m.Before(now.Add(-time.Hour)); m = m.Add(time.Minute) {
		pts = append(pts, tier.Point{Topic: "cpu", T: m.UnixMilli(), Step: tier.Minute, Count: 60,
			Fields: map[string]tier.Stat{"total": {Min: 1, Max: 99, Sum: 600, N: 60}}})
	}
	if err := store.Write(pts); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		query.Result
		Series map[string]struct{ Mean, Min, Max []*float64 } `json:"series"`
	}

	t.Run("raw window", func(t *testing.T) {
		code, body := getJSON(t, f.srv.URL+"/api/range?topic=cpu&fields=total,cores.1&from=-5m&points=10")
		a := decode[answer](t, body)
		if code != 200 || a.Host != "testhost" || a.Tier != "raw" || a.Step%1000 != 0 || len(a.T) > 10 || len(a.Series) != 2 ||
			len(a.Tiers) != 3 || a.RollupAfter == "" {
			t.Fatalf("%d %s", code, body)
		}
		if c := a.Series["cores.1"]; c.Max[len(c.Max)-2] == nil || *c.Max[len(c.Max)-2] != 2 {
			t.Errorf("cores.1 = %s", body)
		}
	})
	t.Run("minutes", func(t *testing.T) {
		code, body := getJSON(t, f.srv.URL+"/api/range?topic=cpu&fields=total&from=-2d&to=now&points=500")
		a := decode[answer](t, body)
		if code != 200 || a.Tier != "1m" || a.Step != 6*60_000 || len(a.T) != 481 {
			t.Fatalf("%d %.300s", code, body)
		}
		if *a.Series["total"].Max[100] != 99 || a.Count[100] != 360 || *a.Series["total"].Mean[100] != 10 {
			t.Fatalf("%d %.300s", code, body)
		}
		if !strings.Contains(body, `"mean":[`) || !strings.Contains(body, "null") {
			t.Errorf("no nulls where the last hour has no rollups: %.300s", body)
		}
	})
	for name, tc := range map[string]struct{ q, param string }{
		"no topic":      {"from=-1h", "topic"},
		"unknown topic": {"topic=nope", "topic"},
		"unknown field": {"topic=cpu&fields=total,bogus", "fields"},
		"bad from":      {"topic=cpu&from=last+tuesday", "from"},
		"empty range":   {"topic=cpu&from=now&to=-1h", "from"},
		"absurd points": {"topic=cpu&points=99999999", "points"},
	} {
		t.Run(name, func(t *testing.T) {
			code, body := getJSON(t, f.srv.URL+"/api/range?"+tc.q)
			got := decode[map[string]string](t, body)
			if code != 400 || got["param"] != tc.param || got["error"] == "" {
				t.Fatalf("%d %s, want 400 naming %s", code, body, tc.param)
			}
		})
	}
	t.Run("unknown host", func(t *testing.T) {
		if code, body := getJSON(t, f.srv.URL+"/api/range?topic=cpu&host=other"); code != 404 {
			t.Fatalf("%d %s", code, body)
		}
	})
}

func TestRangeAPIWithoutRollupsSaysSo(t *testing.T) {
	f := newFixture(t, nil)
	f.publishCPU(t, 10)
	code, body := getJSON(t, f.srv.URL+"/api/range?topic=cpu&from=-7d")
	a := decode[query.Result](t, body)
	if code != 200 || a.Tier != "raw" || len(a.Tiers) != 1 || a.Tiers[0] != "raw" {
		t.Fatalf("%d %.300s", code, body)
	}
}

// TestAPICompressed: JSON answers shrink for a client that accepts gzip;
// the event stream never is compressed, or events would wait in the
// compressor's buffer.
func TestAPICompressed(t *testing.T) {
	f := newFixture(t, nil)
	// An hour of five topics at 1 s, a dozen ticks per commit (one commit
	// per tick would spend the test in fsync).
	for i := range 300 {
		var samples []history.Sample
		for j := range 12 {
			ms := f.now.Add(time.Duration(12*i+j) * time.Second).UnixMilli()
			for _, topic := range testTopics {
				samples = append(samples, history.Sample{Topic: topic,
					Data: fmt.Appendf(nil, `{"t":%d,"total":%d.%d,"user":%d}`, ms, (i*7+j)%100, j, i%13)})
			}
		}
		if err := f.broker.Publish(f.now.Add(time.Duration(12*i)*time.Second), samples); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(path, accept string) *http.Response {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	plain := get("/api/history", "")
	plainBody, _ := io.ReadAll(plain.Body)
	zipped := get("/api/history", "gzip, deflate, br")
	zippedBody, _ := io.ReadAll(zipped.Body)
	if plain.Header.Get("Content-Encoding") != "" || zipped.Header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(strings.Join(zipped.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("headers: plain %v, zipped %v", plain.Header, zipped.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(string(zippedBody)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || string(unzipped) != string(plainBody) {
		t.Fatalf("gzip body differs: %v", err)
	}
	if len(zippedBody)*4 > len(plainBody) {
		t.Errorf("gzip %d bytes of %d: less than 4x smaller", len(zippedBody), len(plainBody))
	}
	t.Logf("/api/history: %d bytes, %d gzipped", len(plainBody), len(zippedBody))

	small := get("/api/hosts", "gzip")
	if small.Header.Get("Content-Encoding") != "" {
		t.Errorf("a small answer was compressed: %v", small.Header)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/events", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("/events: %v, first line %q", resp.Header, line)
	}
}

// tieredSources is a backend that keeps rollups beside its events, as
// the bbolt and Redis backends do: /api/range finds them without Tiers.
type tieredSources struct {
	Sources
	oneStore
}

func TestRangeAPIFindsTheBackendsRollups(t *testing.T) {
	store := tiertest.NewMem()
	f := newFixture(t, func(o *Options) {
		b, err := history.Open(history.Options{Dir: t.TempDir(), Topics: testTopics, Retention: time.Hour, MaxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		o.Sources = tieredSources{OneHost(b, o.Host, o.Interval), oneStore{store}}
	})
	code, body := getJSON(t, f.srv.URL+"/api/range?topic=cpu&from=-7d")
	a := decode[query.Result](t, body)
	if code != 200 || a.Tier != "1m" || len(a.Tiers) != 3 {
		t.Fatalf("%d %.300s", code, body)
	}
}
