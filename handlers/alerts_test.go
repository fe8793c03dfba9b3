package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"vitals/alerts"
)

// fakeAlerts records silences; the real runtime is tested in internal/app.
type fakeAlerts struct{ silenced []alerts.Silence }

func (f *fakeAlerts) Current(time.Time) any { return map[string]any{"firing": []any{}} }
func (f *fakeAlerts) Silence(s alerts.Silence, now time.Time) (alerts.Silence, error) {
	if s.Rule != "cpu-busy" {
		return s, errors.New("silence: unknown rule")
	}
	s.Kind, s.Created = alerts.KindSilence, now
	f.silenced = append(f.silenced, s)
	return s, nil
}
func (f *fakeAlerts) SendTest(context.Context) []TestResult {
	return []TestResult{{Target: "ntfy://ntfy.sh/***", OK: true}}
}

func TestAlertWrites(t *testing.T) {
	fa := &fakeAlerts{}
	f := newFixture(t, func(c *Options) {
		c.Access.Token, c.Access.ReadToken = testToken, testReadToken
		c.Alerts = fa
	})
	full := "Authorization: Bearer " + testToken
	read := "Authorization: Bearer " + testReadToken
	jsonCT := "Content-Type: application/json"
	for _, tt := range []struct {
		name, method, path, body string
		headers                  []string
		want                     int
		param                    string
	}{
		{"state with the read token", "GET", "/api/alerts", "", []string{read}, 200, ""},
		{"history with the read token", "GET", "/api/alerts/history", "", []string{read}, 200, ""},
		{"silence with the read token", "POST", "/api/alerts/silences", `{"rule":"cpu-busy","until":"1h"}`, []string{read, jsonCT}, 403, ""},
		{"silence without a token", "POST", "/api/alerts/silences", `{"rule":"cpu-busy","until":"1h"}`, []string{jsonCT}, 401, ""},
		{"silence as a form", "POST", "/api/alerts/silences", `rule=cpu-busy`, []string{full, "Content-Type: application/x-www-form-urlencoded"}, 415, "Content-Type"},
		{"silence from another origin", "POST", "/api/alerts/silences", `{"rule":"cpu-busy","until":"1h"}`, []string{full, jsonCT, "Origin: https://evil.example"}, 403, ""},
		{"silence without rule", "POST", "/api/alerts/silences", `{"until":"1h"}`, []string{full, jsonCT}, 400, "rule"},
		{"silence of an unknown rule", "POST", "/api/alerts/silences", `{"rule":"nope","until":"1h"}`, []string{full, jsonCT}, 400, "rule"},
		{"silence with a bad until", "POST", "/api/alerts/silences", `{"rule":"cpu-busy","until":"soon"}`, []string{full, jsonCT}, 400, "until"},
		{"silence with an unknown key", "POST", "/api/alerts/silences", `{"rule":"cpu-busy","until":"1h","x":1}`, []string{full, jsonCT}, 400, "body"},
		{"silence", "POST", "/api/alerts/silences", `{"rule":"cpu-busy","item":"/","until":"2h","comment":"restore"}`, []string{full, jsonCT}, 200, ""},
		{"test notification", "POST", "/api/alerts/test", `{}`, []string{full, jsonCT}, 200, ""},
		{"post elsewhere", "POST", "/api/history", `{}`, []string{full, jsonCT}, 405, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, strings.NewReader(tt.body))
			for _, h := range tt.headers {
				k, v, _ := strings.Cut(h, ": ")
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			decodeBody(t, resp, &body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.want, body)
			}
			if tt.param != "" && body["param"] != tt.param {
				t.Fatalf("param %v, want %s: %v", body["param"], tt.param, body)
			}
		})
	}
	if len(fa.silenced) != 1 || fa.silenced[0].Item != "/" || fa.silenced[0].Comment != "restore" ||
		time.Until(fa.silenced[0].Until) < time.Hour {
		t.Fatalf("silences %+v", fa.silenced)
	}
}

func TestAlertRoutesNeedAlerts(t *testing.T) {
	f := newFixture(t, nil)
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/alerts/silences", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405 without alerts", resp.StatusCode)
	}
}

func decodeBody(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode body: %v", err)
	}
}
