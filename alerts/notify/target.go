package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"vitals/alerts"
)

// Target is one place notifications go: a shoutrrr service URL (ntfy://,
// telegram://, smtp://, ...) or a plain JSON webhook (http://, https://).
// Its URL often holds a secret (a token, a password, a private topic), so
// it is kept unexported: logs, errors and the page see only Name.
type Target struct {
	// Name is the URL with every secret part replaced by ***.
	Name string
	// ID keys the target's queue and delivery record in the outbox: a hash
	// of the URL, stable across restarts and revealing nothing.
	ID string
	// MinSeverity is the least severe firing this target is told about;
	// a resolution is sent when the episode's peak reached it.
	MinSeverity alerts.Severity

	url    string
	sender sender
}

// sender delivers one message; an error means "not accepted, retry".
type sender interface {
	send(ctx context.Context, m message) error
}

// ParseTarget reads one --notify value:
//
//	URL            ntfy://ntfy.sh/my-topic, https://example.org/hook, smtp://...
//	file:PATH      the URL is the content of PATH (trimmed), kept out of argv
//	env:NAME       the URL is the environment variable NAME
//
// each optionally followed by "#min=critical" (default: warning). getenv
// is os.Getenv in the app, a map in tests.
func ParseTarget(spec string, getenv func(string) string) (Target, error) {
	min := alerts.SevWarning
	if i := strings.LastIndex(spec, "#min="); i >= 0 {
		switch sev := alerts.Severity(spec[i+len("#min="):]); sev {
		case alerts.SevWarning, alerts.SevCritical:
			min = sev
		default:
			return Target{}, fmt.Errorf("notify target: min=%q: valid: warning, critical", sev)
		}
		spec = spec[:i]
	}
	raw := spec
	switch {
	case strings.HasPrefix(spec, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(spec, "file:"))
		if err != nil {
			return Target{}, fmt.Errorf("notify target: read the URL: %w", err)
		}
		raw = strings.TrimSpace(string(b))
	case strings.HasPrefix(spec, "env:"):
		name := strings.TrimPrefix(spec, "env:")
		if raw = strings.TrimSpace(getenv(name)); raw == "" {
			return Target{}, fmt.Errorf("notify target: environment variable %s is empty or unset", name)
		}
	}
	return NewTarget(raw, min)
}

// NewTarget makes a target from a URL.
func NewTarget(rawURL string, min alerts.Severity) (Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return Target{}, fmt.Errorf("notify target %s: not a URL", Redact(rawURL))
	}
	sum := sha256.Sum256([]byte(rawURL))
	t := Target{Name: Redact(rawURL), ID: hex.EncodeToString(sum[:8]), MinSeverity: min, url: rawURL}
	switch u.Scheme {
	case "http", "https":
		t.sender = &webhook{url: rawURL}
	default:
		s, err := newShoutrrr(rawURL)
		if err != nil {
			return Target{}, fmt.Errorf("notify target %s: %w", t.Name, scrub(err, rawURL))
		}
		t.sender = s
	}
	return t, nil
}

// wants reports whether the target is told about a transition.
func (t Target) wants(tr alerts.Transition) bool {
	if !tr.Notify() {
		return false
	}
	sev := tr.Severity
	if tr.To == alerts.StateResolved {
		sev = tr.Peak
	}
	return sev.Rank() >= t.MinSeverity.Rank()
}

// Redact shows where a URL points without its secrets: the scheme and the
// host stay, user info, path and query become ***. ntfy topics, webhook
// paths and bot tokens are secrets as much as passwords are.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return "***"
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString("***@")
	}
	b.WriteString(u.Host)
	if u.Path != "" && u.Path != "/" || u.Opaque != "" {
		b.WriteString("/***")
	}
	if u.RawQuery != "" {
		b.WriteString("?***")
	}
	return b.String()
}

// secretError carries a sender's error with the URL's secrets cut out, so
// it can be logged; libraries put URLs into their errors freely.
type secretError struct{ msg string }

func (e secretError) Error() string { return e.msg }

// scrub replaces every secret part of rawURL in err's text with ***.
func scrub(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	var already secretError
	if errors.As(err, &already) {
		return err
	}
	msg := err.Error()
	for _, s := range secrets(rawURL) {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	return secretError{msg}
}

// secrets lists the parts of a URL that must not be shown, longest first
// so a part of a longer secret is not replaced before it.
func secrets(rawURL string) []string {
	out := []string{rawURL}
	if u, err := url.Parse(rawURL); err == nil {
		if u.User != nil {
			out = append(out, u.User.String(), u.User.Username())
			if p, ok := u.User.Password(); ok {
				out = append(out, p, url.QueryEscape(p))
			}
		}
		out = append(out, u.RawQuery, u.Opaque)
		for _, part := range strings.Split(u.Path, "/") {
			out = append(out, part, url.PathEscape(part))
		}
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
		// Bare host stays: it is in Name too and is no secret.
	}
	// Short fragments ("v1", "api") would garble messages and are no secret.
	out = slices.DeleteFunc(out, func(s string) bool { return len(s) < 4 })
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
