package history

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		name      string
		id, event string
		data      string
		want      string
	}{
		{"full", "ab.1", "cpu", `{"t":1}`, "id: ab.1\nevent: cpu\ndata: {\"t\":1}\n\n"},
		{"no id", "", "hello", `{}`, "event: hello\ndata: {}\n\n"},
		{"no event", "x.2", "", `1`, "id: x.2\ndata: 1\n\n"},
		{"empty data still dispatches", "", "ping", "", "event: ping\ndata: \n\n"},
		{"LF split", "", "", "a\nb", "data: a\ndata: b\n\n"},
		{"CRLF split once", "", "", "a\r\nb", "data: a\ndata: b\n\n"},
		{"lone CR split", "", "", "a\rb", "data: a\ndata: b\n\n"},
		{"CR CR is two breaks", "", "", "a\r\rb", "data: a\ndata: \ndata: b\n\n"},
		{"trailing LF keeps empty line", "", "", "a\n", "data: a\ndata: \n\n"},
		{"leading space kept", "", "", " a", "data:  a\n\n"},
		{"colon in data", "", "", "k: v", "data: k: v\n\n"},
		{"NUL allowed in data", "", "", "a\x00b", "data: a\x00b\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendEvent(nil, tt.id, tt.event, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendEventRefusesBadFields(t *testing.T) {
	for _, tt := range []struct{ name, id, event string }{
		{"LF in id", "a\nb", "cpu"},
		{"CR in id", "a\rb", "cpu"},
		{"NUL in id", "a\x00b", "cpu"},
		{"LF in event", "a", "cpu\ndata: x"},
		{"CR in event", "a", "c\r"},
		{"NUL in event", "a", "c\x00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendEvent(dst, tt.id, tt.event, []byte("x"))
			if !errors.Is(err, ErrBadField) {
				t.Fatalf("err = %v, want ErrBadField", err)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed to %q", got)
			}
		})
	}
}

func TestAppendCommentAndRetry(t *testing.T) {
	if got := string(AppendComment(nil, "ping")); got != ": ping\n\n" {
		t.Errorf("comment = %q", got)
	}
	if got := string(AppendComment(nil, "a\nb\rc")); got != ": a b c\n\n" {
		t.Errorf("comment with breaks = %q", got)
	}
	if got := string(AppendRetry(nil, 2000)); got != "retry: 2000\n\n" {
		t.Errorf("retry = %q", got)
	}
	evs, retry := parseSSE(t, AppendRetry(nil, 1500))
	if len(evs) != 0 || retry != 1500 {
		t.Errorf("parsed retry: events %v, retry %d", evs, retry)
	}
}

func FuzzAppendEventRoundTrip(f *testing.F) {
	f.Add("a.1", "cpu", []byte(`{"t":1}`))
	f.Add("", "", []byte("a\r\nb\rc\nd"))
	f.Add("x", "y", []byte(""))
	f.Add("x", "y", []byte("\n\n"))
	f.Add(" id", ":ev", []byte(" lead"))
	f.Fuzz(func(t *testing.T, id, event string, data []byte) {
		// A browser decodes the stream as UTF-8; the round trip is exact for
		// valid UTF-8, which is all the server ever sends (JSON).
		if !utf8.ValidString(id) || !utf8.ValidString(event) || !utf8.Valid(data) {
			t.Skip()
		}
		wire, err := AppendEvent(nil, id, event, data)
		if !fieldOK(id) || !fieldOK(event) {
			if err == nil {
				t.Fatalf("accepted id %q event %q", id, event)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		evs, _ := parseSSE(t, wire)
		if len(evs) != 1 {
			t.Fatalf("%q parsed into %d events", wire, len(evs))
		}
		wantType := event
		if wantType == "" {
			wantType = "message"
		}
		wantData := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
		got := evs[0]
		if got.typ != wantType || got.data != wantData || got.lastID != id {
			t.Fatalf("round trip of (%q,%q,%q) gave %+v", id, event, data, got)
		}
	})
}

// parsedEvent is what a browser's EventSource would dispatch.
type parsedEvent struct {
	typ, data, lastID string
}

// parseSSE is an independent, spec-exact implementation of the
// event-stream interpretation algorithm of the HTML standard (section
// 9.2.6), used only to check the encoder.
func parseSSE(t testing.TB, stream []byte) (events []parsedEvent, retry int) {
	t.Helper()
	s := string(bytes.TrimPrefix(stream, []byte("\xEF\xBB\xBF")))
	var data, typ strings.Builder
	lastID, retry := "", -1
	for len(s) > 0 {
		// Take one line, ending in CRLF, LF or CR. A final line with no
		// terminator is incomplete and ignored, as in a browser.
		end := strings.IndexAny(s, "\r\n")
		if end < 0 {
			break
		}
		line := s[:end]
		if s[end] == '\r' && end+1 < len(s) && s[end+1] == '\n' {
			s = s[end+2:]
		} else {
			s = s[end+1:]
		}
		switch {
		case line == "":
			if data.Len() == 0 {
				typ.Reset()
				continue
			}
			d := strings.TrimSuffix(data.String(), "\n")
			ty := typ.String()
			if ty == "" {
				ty = "message"
			}
			events = append(events, parsedEvent{typ: ty, data: d, lastID: lastID})
			data.Reset()
			typ.Reset()
		case line[0] == ':':
			// comment
		default:
			field, value := line, ""
			if i := strings.IndexByte(line, ':'); i >= 0 {
				field, value = line[:i], strings.TrimPrefix(line[i+1:], " ")
			}
			switch field {
			case "event":
				typ.Reset()
				typ.WriteString(value)
			case "data":
				data.WriteString(value)
				data.WriteByte('\n')
			case "id":
				if !strings.ContainsRune(value, 0) {
					lastID = value
				}
			case "retry":
				n := 0
				ok := value != ""
				for _, c := range value {
					if c < '0' || c > '9' {
						ok = false
						break
					}
					n = n*10 + int(c-'0')
				}
				if ok {
					retry = n
				}
			}
		}
	}
	return events, retry
}
