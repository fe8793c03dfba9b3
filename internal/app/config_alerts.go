package app

import (
	"flag"
	"strings"
)

// Alerting are the settings for alert rules and notifications
// (docs/alerts.md).
type Alerting struct {
	// AlertsFile is a YAML rules file (--alerts); "" runs the built-in
	// rules alone.
	AlertsFile string
	// Notify are the --notify targets as given: a URL, file:PATH or
	// env:NAME, each optionally with #min=critical. They are read into
	// notify.Targets at start, so a secret never sits in Config's output.
	Notify targetList
}

func (a *Alerting) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.AlertsFile, "alerts", "", "alert rules `file` (YAML, docs/alerts.md); SIGHUP reloads it")
	fs.Var(&a.Notify, "notify", "send alert notifications to this `target`: a URL, file:PATH or env:NAME, optionally #min=critical; repeat it or separate with commas")
}

// targetList is a repeatable flag that also takes a comma-separated list
// (the only way to give several in VITALS_NOTIFY). A comma inside a URL
// (shoutrrr's smtp toaddresses=a,b) stays in it: a piece that does not
// start like a target is glued back onto the one before.
type targetList []string

func (l *targetList) String() string {
	if l == nil || len(*l) == 0 {
		return ""
	}
	// Targets hold secrets; -h shows the default (none), never values.
	return "***"
}

func (l *targetList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		p := strings.TrimSpace(part)
		switch {
		case p == "":
		case len(*l) > 0 && !startsTarget(p):
			(*l)[len(*l)-1] += "," + p
		default:
			*l = append(*l, p)
		}
	}
	return nil
}

func startsTarget(s string) bool {
	return strings.HasPrefix(s, "file:") || strings.HasPrefix(s, "env:") || strings.Contains(s, "://")
}
