// Command vitals samples this machine every second, keeps a bounded history
// on disk, and streams it to browsers over Server-Sent Events.
//
// Everything but the process's edges lives in vitals/internal/app: this file
// turns signals into a context and an error into an exit status.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"vitals/internal/app"
)

func main() {
	signalled, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling, so a second
	// Ctrl-C ends the process at once; Run hears of the first only after
	// that, so no second signal can land in between.
	ctx, cancel := context.WithCancel(context.Background())
	context.AfterFunc(signalled, func() { stop(); cancel() })
	err := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	cancel()
	if err != nil && !errors.Is(err, app.ErrHelp) {
		fmt.Fprintln(os.Stderr, "vitals:", err)
		os.Exit(1)
	}
}
