// Package alerts turns the metric samples of each tick into alert
// transitions: rules (a YAML file and a built-in default set), an Engine
// that evaluates them over windows of raw samples with hysteresis, a for
// duration, repeats and silences, and the records (Transition, Silence)
// that the app publishes under topic "alerts" and replays after a restart.
//
// The Engine is pure: it never reads the clock, never starts a goroutine
// and does no I/O. The app passes each tick's time and payloads to Tick,
// publishes what Tick and Silence return, and feeds the published records
// back through Replay when it starts, so the history is the only state.
//
// Concurrency: an Engine is safe for concurrent use; one mutex guards all
// of it, so Tick (the sampler), Silence and Snapshot (HTTP handlers) and
// SetRules (a reload) may run from different goroutines. Tick holds the
// lock for the whole evaluation, a few tens of µs with the default rules.
// Rules, Transitions and Silences are values and may be shared freely.
package alerts
