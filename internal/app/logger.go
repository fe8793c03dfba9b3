package app

import (
	"io"
	"log/slog"
	"os"
)

// newLogger picks the log format: "text" for people, "json" for log
// collectors, and for "auto" text when stderr is a terminal and JSON
// otherwise (under systemd, docker or a pipe).
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" || (format == "auto" && !isTerminal(w)) {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// isTerminal reports whether w is a character device (a terminal). A
// Stat is enough: vitals only needs to tell a person from a pipe or file.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
