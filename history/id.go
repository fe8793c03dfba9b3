package history

import (
	"crypto/rand"
	"strconv"
	"strings"
)

// An event id on the wire is "<epoch>.<seq>": epoch names one store (it is
// drawn at random when a data dir's history file is created), seq is a
// decimal counter that only grows within that store. Clients must treat ids
// as opaque strings; only this file knows their shape.
//
// The epoch is what keeps a wiped or replaced data dir from silently
// accepting an id that meant a different event: such an id names another
// epoch and is reported as "other-store".

// maxIDLen bounds what we accept from a client. Our own ids are at most
// 8 + 1 + 20 = 29 bytes; 40 is the documented ceiling.
const maxIDLen = 40

// epochLen is 8 base-32 characters: 40 random bits, enough that two stores
// on one machine never share an epoch by chance.
const epochLen = 8

const epochAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

func newEpoch() string {
	var b [epochLen]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead on a broken OS)
	for i := range b {
		b[i] = epochAlphabet[b[i]&31]
	}
	return string(b[:])
}

func formatID(epoch string, seq uint64) string {
	return epoch + "." + strconv.FormatUint(seq, 10)
}

// parseID splits an id into its epoch and sequence. ok is false for anything
// that is not an id this package could have issued.
func parseID(id string) (epoch string, seq uint64, ok bool) {
	if len(id) > maxIDLen {
		return "", 0, false
	}
	epoch, num, found := strings.Cut(id, ".")
	if !found || len(epoch) != epochLen || num == "" || (len(num) > 1 && num[0] == '0') {
		return "", 0, false
	}
	for i := 0; i < len(epoch); i++ {
		if !strings.ContainsRune(epochAlphabet, rune(epoch[i])) {
			return "", 0, false
		}
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return epoch, seq, true
}
