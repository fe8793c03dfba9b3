package kfile

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
)

// ErrSyntax is returned for a file or field that is not the number expected.
var ErrSyntax = errors.New("not a decimal number")

// ParseUint parses a decimal unsigned number, ignoring surrounding ASCII
// space and newlines. It allocates nothing, unlike strconv on a []byte that
// has to become a string first.
func ParseUint(b []byte) (uint64, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0, ErrSyntax
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrSyntax
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, ErrSyntax
		}
		n = n*10 + d
	}
	return n, nil
}

// ParseInt is ParseUint with an optional leading minus sign: hwmon and
// thermal zones report temperatures below zero that way.
func ParseInt(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, err := ParseUint(b)
	if err != nil || u > math.MaxInt64 {
		return 0, ErrSyntax
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// ReadUint reads a file that holds one decimal number.
func ReadUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := ParseUint(b)
	if err != nil {
		return 0, &os.PathError{Op: "parse", Path: path, Err: err}
	}
	return n, nil
}

// ReadInt reads a file that holds one signed decimal number.
func ReadInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := ParseInt(b)
	if err != nil {
		return 0, &os.PathError{Op: "parse", Path: path, Err: err}
	}
	return n, nil
}

// ReadString reads a one-line file without its trailing newline.
func ReadString(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b)), nil
}

// Round2 rounds to two decimals: more digits are noise on a dashboard and
// make every payload longer.
func Round2(x float64) float64 {
	return math.Round(x*100) / 100
}

// Rate is the per-second rate of a cumulative counter that went from prev to
// cur in dt seconds, rounded to two decimals. A counter that went backwards
// (a reset, a re-created cgroup) or dt <= 0 gives 0: one flat point is better
// than a spike that wrecks a chart's scale.
func Rate(prev, cur uint64, dt float64) float64 {
	if cur < prev || dt <= 0 {
		return 0
	}
	return Round2(float64(cur-prev) / dt)
}

// Itoa is strconv.Itoa, here so callers building /proc paths need one
// import less.
func Itoa(n int) string { return strconv.Itoa(n) }
