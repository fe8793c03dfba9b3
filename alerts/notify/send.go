package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nicholas-fedor/shoutrrr/pkg/format"
	"github.com/nicholas-fedor/shoutrrr/pkg/router"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"

	"vitals/alerts"
)

// message is what a target is sent for one transition.
type message struct {
	Title      string            `json:"title"`
	Text       string            `json:"text"`
	Transition alerts.Transition `json:"transition"`
}

func newMessage(t alerts.Transition) message {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", t.Text())
	fmt.Fprintf(&b, "rule: %s\n", t.Rule)
	if t.Item != "" {
		fmt.Fprintf(&b, "item: %s\n", t.Item)
	}
	if t.Host != "" {
		fmt.Fprintf(&b, "host: %s\n", t.Host)
	}
	fmt.Fprintf(&b, "since: %s\n", t.Since.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "at: %s\n", t.Time.UTC().Format(time.RFC3339))
	for k, v := range t.Labels {
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	fmt.Fprintf(&b, "alert: %s", t.Alert)
	return message{Title: t.Text(), Text: b.String(), Transition: t}
}

// webhook POSTs the message as JSON; any 2xx is accepted.
// Its client has no overall timeout of its own: the dispatcher's context
// bounds each attempt.
type webhook struct {
	url    string
	client http.Client
}

func (w *webhook) send(ctx context.Context, m message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return scrub(err, w.url)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vitals-alerts")
	resp, err := w.client.Do(req)
	if err != nil {
		return scrub(err, w.url)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// shoutrrrSender sends through one shoutrrr service. Send has no context:
// each service bounds its own network calls (SMTP 10 s by default, the
// HTTP ones through their clients), and the dispatcher waits for it.
type shoutrrrSender struct {
	url     string
	service types.Service
	// noTitle is set once the service turned down a "title" parameter;
	// the title then leads the message instead.
	noTitle atomic.Bool
}

func newShoutrrr(rawURL string) (*shoutrrrSender, error) {
	r, err := router.New(nil)
	if err != nil {
		return nil, err
	}
	svc, err := r.Locate(rawURL)
	if err != nil {
		return nil, err
	}
	return &shoutrrrSender{url: rawURL, service: svc}, nil
}

func (s *shoutrrrSender) send(ctx context.Context, m message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.noTitle.Load() {
		err := s.service.Send(m.Text, &types.Params{"title": m.Title})
		if err == nil || !(errors.Is(err, format.ErrInvalidConfigKey) || strings.Contains(err.Error(), format.ErrInvalidConfigKey.Error())) {
			return scrub(err, s.url)
		}
		s.noTitle.Store(true)
	}
	return scrub(s.service.Send(m.Text, nil), s.url)
}

// Test sends a test notification to a target now, without the outbox:
// `vitals alerts test URL` and the page's "send a test notification".
func Test(ctx context.Context, t Target, now time.Time) error {
	tr := alerts.Transition{Kind: alerts.KindTransition, ID: "test", Alert: "test", Rule: "test",
		Summary: "vitals test notification", From: alerts.StateOK, To: alerts.StateFiring,
		Severity: alerts.SevWarning, Time: now, Since: now, Value: 1, Thresh: 1}
	if err := t.sender.send(ctx, newMessage(tr)); err != nil {
		return fmt.Errorf("notify %s: %w", t.Name, err)
	}
	return nil
}
