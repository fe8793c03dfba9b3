package loadresult

// Result is what one run measured. Durations are in milliseconds.
type Result struct {
	Label          string   `json:"label"`
	Streams        int      `json:"streams"`
	Slow           int      `json:"slow,omitempty"`
	Held           int64    `json:"held"`           // connected when the window ended
	Failed         int64    `json:"failed"`         // first connects that failed
	RampMS         float64  `json:"ramp_ms"`        // until every stream's first connect ended
	HoldMS         float64  `json:"hold_ms"`        // the measurement window
	LiveEvents     int64    `json:"live_events"`    // live events received in the window, all streams
	EventsPerSec   float64  `json:"events_per_sec"` // LiveEvents / window
	ExpectedPerSec float64  `json:"expected_per_sec"`
	Replayed       int64    `json:"replayed"`
	Latency        Latency  `json:"latency"`                     // live events in the window (first half with -slow)
	LatencySlow    *Latency `json:"latency_with_slow,omitempty"` // second half, while slow streams stall

	Check Check `json:"check"`

	Catchups      int     `json:"catchups,omitempty"`
	CatchupP50MS  float64 `json:"catchup_p50_ms,omitempty"` // connect to catchup-end
	CatchupMaxMS  float64 `json:"catchup_max_ms,omitempty"`
	Incomplete    int     `json:"incomplete_catchups,omitempty"`
	Reconnects    int     `json:"reconnects,omitempty"`
	AllCaughtUpMS float64 `json:"all_caught_up_ms,omitempty"` // first drop to last catchup-end (with -reconnect)
	SlowDropped   int     `json:"slow_dropped,omitempty"`

	Server  *ProcReport   `json:"server,omitempty"`
	Servers []*ProcReport `json:"servers,omitempty"` // -pids, in order
	Loadgen ProcReport    `json:"loadgen"`
	Errors  []string      `json:"errors,omitempty"`
}

// Check is the exactness verdict over every stream.
type Check struct {
	Mode          string `json:"mode"`
	Streams       int    `json:"streams"`
	Expected      int64  `json:"expected"`       // events owed, summed over streams
	Missed        int64  `json:"missed"`         // owed but never received
	StreamsMissed int    `json:"streams_missed"` // streams with at least one miss
	MaxMissed     int64  `json:"max_missed"`     // worst stream
	OutOfOrder    int64  `json:"out_of_order"`   // ids received twice or backwards
	Unknown       int64  `json:"unknown"`        // ids the server's log doesn't hold
	BadIDs        int64  `json:"bad_ids"`        // ids not of vitals' shape
	Logs          int    `json:"logs,omitempty"` // server logs read (one per URL and host)
	// Disagree counts ids that one URL's log holds and another's, for the
	// same host and over the span both hold, does not (-urls with Redis,
	// where the stream ids are the wire ids).
	Disagree int64  `json:"disagree,omitempty"`
	Note     string `json:"note,omitempty"`
}

// ProcReport is a process's cost during the window.
type ProcReport struct {
	PID             int     `json:"pid,omitempty"`  // with -pids
	Held            int64   `json:"held,omitempty"` // streams on this server (-pids with -urls)
	RSSBaseKiB      int64   `json:"rss_base_kib"`   // before the ramp
	RSSKiB          int64   `json:"rss_kib"`        // at the end of the window
	RSSPeakKiB      int64   `json:"rss_peak_kib"`
	PerStreamKiB    float64 `json:"per_stream_kib"` // (RSS - base) / held
	CPUPercent      float64 `json:"cpu_pct"`        // of one core, over the window
	Threads         int64   `json:"threads"`
	RSSAfterKiB     int64   `json:"rss_after_kib,omitempty"` // after streams closed and -settle
	GoroutinesBase  int64   `json:"goroutines_base,omitempty"`
	GoroutinesPeak  int64   `json:"goroutines,omitempty"`
	GoroutinesAfter int64   `json:"goroutines_after,omitempty"`
	HeapBase        int64   `json:"heap_inuse_base,omitempty"`
	HeapAfter       int64   `json:"heap_inuse_after,omitempty"`
}

// Latency is a summary in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}
