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

// runAlertsCommand runs "vitals alerts ...". check prints nothing and
// returns nil for a good file, else the one line "file:line: what is
// wrong"; test sends one message and says what the target answered.
func runAlertsCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stdout, alertsUsage)
		return ErrHelp
	}
	if len(args) != 2 {
		return errors.New(alertsUsage)
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
	return fmt.Errorf("unknown alerts command %q\n%s", args[0], alertsUsage)
}
