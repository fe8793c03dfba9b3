package redisstream

import (
	"strconv"
	"strings"

	"vitals/history"
)

// With the Redis backend, an event's wire id is its Redis stream entry id,
// "<ms>-<seq>", exactly as Redis returns it: every instance reading the
// stream sends the same id for the same event, so a client that reconnects
// to another instance resumes exactly. The publisher sets the ids itself
// (ms is the sample time, seq the topic's place in the tick), which makes a
// retried tick idempotent; see publisher.go.
//
// Inside the window the pair is packed into one uint64 (ms<<seqBits | seq)
// so the window orders and searches Redis events like bbolt ones.

// seqBits leaves 44 bits for milliseconds (good until the year 2527) and 20
// for the sequence within one millisecond. Our publisher uses 0..topics-1;
// an id with a larger seq was never issued by vitals and is malformed.
const seqBits = 20

// maxStreamIDLen: two decimal uint64s and a dash; the wire limit of 40
// bytes (see history/id.go) holds.
const maxStreamIDLen = 20 + 1 + 20

func parseStreamID(id string) (ms, seq uint64, ok bool) {
	if len(id) > maxStreamIDLen {
		return 0, 0, false
	}
	a, b, found := strings.Cut(id, "-")
	if !found || !decimal(a) || !decimal(b) {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(a, 10, 64)
	seq, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || ms >= 1<<(64-seqBits) || seq >= 1<<seqBits {
		return 0, 0, false
	}
	return ms, seq, true
}

// streamPosition is a Redis window's position function.
func streamPosition(id string) (uint64, string) {
	ms, seq, ok := parseStreamID(id)
	if !ok {
		return 0, history.ReasonMalformed
	}
	return ms<<seqBits | seq, ""
}

func formatStreamID(ms, seq uint64) string {
	return strconv.FormatUint(ms, 10) + "-" + strconv.FormatUint(seq, 10)
}

// decimal: non-empty ASCII digits without a leading zero (Redis never
// writes one, so "01-0" can't name an entry).
func decimal(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isStaleAdd tells an XADD that Redis refused because its id is not above
// the stream's newest: a write retried after it had landed, which is
// skipped, not retried.
func isStaleAdd(err error) bool {
	return err != nil && strings.Contains(err.Error(), "equal or smaller")
}
