package history

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadField is returned by AppendEvent when an id or event name could not
// be sent as one SSE field line.
var ErrBadField = errors.New("sse: id and event must not contain CR, LF or NUL")

// AppendEvent appends one Server-Sent Event to dst and returns the extended
// slice. An empty id or event leaves that field out (the browser then keeps
// its last event id, or dispatches a plain "message"). data is split on every
// line break (CRLF, CR or LF) into several "data:" lines, so the browser
// rebuilds it with LF line ends; at least one "data:" line is always written
// because a browser drops an event whose data buffer is empty.
//
// id and event are refused if they contain CR or LF (they would end the field
// early and let a value inject fields of its own) or NUL (the spec makes a
// browser ignore an id containing NUL).
func AppendEvent(dst []byte, id, event string, data []byte) ([]byte, error) {
	if !fieldOK(id) || !fieldOK(event) {
		return dst, fmt.Errorf("%w: id %q, event %q", ErrBadField, id, event)
	}
	if id != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, id...)
		dst = append(dst, '\n')
	}
	if event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, event...)
		dst = append(dst, '\n')
	}
	for {
		i := lineBreak(data)
		dst = append(dst, "data: "...)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n'), nil
}

// AppendComment appends an SSE comment line (": text"). Browsers ignore
// comments; proxies and the server's write deadline see traffic. Line breaks
// in text are replaced by spaces so a comment can never become a field.
func AppendComment(dst []byte, text string) []byte {
	dst = append(dst, ": "...)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, "\n\n"...)
}

// AppendRetry appends a "retry:" field telling the browser how many
// milliseconds to wait before reconnecting. It dispatches no event.
func AppendRetry(dst []byte, ms int64) []byte {
	if ms < 0 {
		ms = 0
	}
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, "\n\n"...)
}

func fieldOK(s string) bool {
	return !strings.ContainsAny(s, "\r\n\x00")
}

// lineBreak returns the index of the first CR or LF in b, or -1.
func lineBreak(b []byte) int {
	for i, c := range b {
		if c == '\r' || c == '\n' {
			return i
		}
	}
	return -1
}
