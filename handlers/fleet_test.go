package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
)

func TestHostsAndUnknownHostOnOneHostServer(t *testing.T) {
	f := newFixture(t, nil)
	resp, err := http.Get(f.srv.URL + "/api/hosts")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Self  string     `json:"self"`
		Hosts []hostJSON `json:"hosts"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/hosts: %d %v", resp.StatusCode, err)
	}
	if got.Self != "testhost" || len(got.Hosts) != 1 || got.Hosts[0].Name != "testhost" || !got.Hosts[0].Self ||
		got.Hosts[0].IntervalMS != 1000 || got.Hosts[0].CPUs != 2 {
		t.Errorf("/api/hosts = %+v", got)
	}

	for _, path := range []string{"/events?host=other", "/api/history?host=other", "/api/snapshot?host=other"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(f.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error string   `json:"error"`
				Known []string `json:"known"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusNotFound || !slices.Equal(body.Known, []string{"testhost"}) {
				t.Errorf("%s: %d %+v", path, resp.StatusCode, body)
			}
		})
	}
	resp, err = http.Get(f.srv.URL + "/api/history?host=testhost&limit=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("own host by name: %d", resp.StatusCode)
	}
}

func TestHealthzDegraded(t *testing.T) {
	f := newFixture(t, func(c *Options) {
		c.Degraded = func() error { return errors.New("redis away: 3 ticks buffered") }
	})
	resp, err := http.Get(f.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body["status"] != "degraded" || body["reason"] != "redis away: 3 ticks buffered" {
		t.Errorf("healthz: %d %v", resp.StatusCode, body)
	}
}
