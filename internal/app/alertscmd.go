package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"vitals/alerts"
	"vitals/alerts/notify"
)

const alertsUsage = `usage:
  vitals alerts check FILE   validate an alert rules file
  vitals alerts test URL     send a test notification (URL, file:PATH or env:NAME)`

// runAlertsCommand runs "vitals alerts ...". check prints "FILE: ok" for a
// good file, else returns the one line "file:line: what is wrong"; test
// sends one message and says what the target answered. A wrong command or
// argument count is one line saying what was wanted.
func runAlertsCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, alertsUsage)
		return ErrHelp
	}
	want := map[string]string{"check": "FILE", "test": "URL"}
	switch {
	case len(args) == 0:
		return errors.New("alerts: want check FILE or test URL (vitals alerts -h)")
	case want[args[0]] == "":
		return fmt.Errorf("unknown alerts command %q: want check FILE or test URL (vitals alerts -h)", args[0])
	case len(args) != 2:
		return fmt.Errorf("alerts %s takes one %s", args[0], want[args[0]])
	}
	switch args[0] {
	case "check":
		if err := alerts.CheckFile(args[1], alerts.MetricsSchema()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok\n", args[1])
		return nil
	case "test":
		t, err := notify.ParseTarget(args[1], getenv)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := notify.Test(ctx, t, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "test notification accepted by %s\n", t.Name)
		return nil
	}
	return nil // unreachable: the switch above covers want's keys
}
