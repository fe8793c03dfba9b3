package handlers

// The stream writer: how the bytes of one /events response reach the
// client, over a connection taken from net/http or through it.

import (
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"vitals/history"
)

// stream writes one /events response. Each write gets a deadline, so a
// client that stops reading is dropped instead of holding its goroutine;
// the one exception is the writers' non-blocking write (tryWrite), which
// never waits and so needs none.
//
// Once the response is admitted, the stream takes the connection over from
// net/http (hijack) and writes the chunked body itself: net/http would keep
// a 4 KiB read buffer, a 4 KiB write buffer and a background-read goroutine
// per connection for as long as the stream lives, which is most of a
// stream's memory at 10,000 streams (bench/findings.md). A tick then costs
// one deadline and one writev of [chunk size, events..., CRLF], with no copy.
// The connection is closed when the stream ends, so the response says
// "Connection: close". Where the connection can't be taken (HTTP/2, whose
// streams share one connection; HTTP/1.0; a ResponseWriter that can't
// hijack) the stream writes through net/http: the same bytes, each tick
// flushed and given its write deadline through http.ResponseController.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	// restricted streams (the read token) write each event's redacted
	// form where it has one.
	restricted bool
	last       time.Time
	err        error // the first write error

	conn  net.Conn    // the hijacked connection; nil when writing through w
	bufs  [][]byte    // the parts of one writev, reused
	nb    net.Buffers // what writev consumes (it reslices as it goes)
	chunk [20]byte    // chunk-size line
	// flat gathers a chunk into one buffer on a connection without writev
	// (TLS): each Write there is a TLS record and a syscall, so a tick
	// written part by part would cost seven of each. Reused; nil on TCP.
	flat []byte
	tcp  bool // conn is a plain TCP connection: writev works
	// raw writes to conn without blocking, for the writers;
	// nil while the stream writes under deadlines.
	raw syscall.RawConn
}

// start sends the response head. Nothing may be written to w after it
// returns, except through st.
func (st *stream) start(r *http.Request) error {
	if r.ProtoAtLeast(1, 1) && canHijack(st.w) {
		conn, brw, err := st.rc.Hijack()
		if err == nil {
			st.conn = conn
			_, st.tcp = conn.(*net.TCPConn)
			head := make([]byte, 0, 512)
			head = append(head, "HTTP/1.1 200 OK\r\n"...)
			h := st.w.Header()
			h.Set("Transfer-Encoding", "chunked")
			h.Set("Connection", "close")
			h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
			var hb headerBuf
			h.Write(&hb) // sanitises values; never fails on a buffer
			head = append(append(head, hb...), "\r\n"...)
			// brw holds nothing we need: a GET has no body, and nothing
			// was written before the hijack.
			_ = brw
			st.last = time.Now()
			if err := conn.SetWriteDeadline(st.last.Add(st.timeout)); err != nil {
				st.err = err
				return err
			}
			_, st.err = conn.Write(head)
			return st.err
		}
		if !errors.Is(err, http.ErrNotSupported) {
			st.err = err
			return err
		}
	}
	// Streams live far longer than any server-wide deadline.
	st.rc.SetReadDeadline(time.Time{})
	st.w.WriteHeader(http.StatusOK)
	return st.rc.Flush()
}

// canHijack reports whether the innermost ResponseWriter can hand over its
// connection. Asking a wrapper is not enough: gin's writer claims Hijack and
// panics when the writer under it can't.
func canHijack(w http.ResponseWriter) bool {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			_, ok := w.(http.Hijacker)
			return ok
		}
		w = u.Unwrap()
	}
}

// headerBuf lets http.Header.Write append to a byte slice.
type headerBuf []byte

func (b *headerBuf) Write(p []byte) (int, error)       { *b = append(*b, p...); return len(p), nil }
func (b *headerBuf) WriteString(s string) (int, error) { *b = append(*b, s...); return len(s), nil }

// write sends p as one chunk of the body.
func (st *stream) write(p []byte) error {
	st.bufs = append(st.bufs[:0], p)
	err := st.send()
	clear(st.bufs) // p may be a catch-up's buffer: don't keep it for the stream's life
	return err
}

// writeEvents sends the encoded events, then tail (more events, encoded,
// or nil), as one chunk.
func (st *stream) writeEvents(evs []*history.Event, tail []byte) error {
	st.bufs = st.bufs[:0]
	for _, e := range evs {
		st.bufs = append(st.bufs, e.For(st.restricted).Wire)
	}
	if len(tail) > 0 {
		st.bufs = append(st.bufs, tail)
	}
	err := st.send()
	clear(st.bufs) // don't pin events past this tick
	return err
}

// send writes st.bufs with one deadline, and on a hijacked connection one
// writev framed as one chunk.
func (st *stream) send() error {
	if st.err != nil {
		return st.err
	}
	st.last = time.Now()
	deadline := st.last.Add(st.timeout)
	var err error
	if st.conn == nil {
		if err = st.rc.SetWriteDeadline(deadline); err != nil && !errors.Is(err, http.ErrNotSupported) {
			st.err = err
			return err
		}
		for _, b := range st.bufs {
			if _, err = st.w.Write(b); err != nil {
				break
			}
		}
		if err == nil {
			err = st.rc.Flush()
		}
	} else if err = st.conn.SetWriteDeadline(deadline); err == nil {
		n := 0
		for _, b := range st.bufs {
			n += len(b)
		}
		if n == 0 {
			return nil // a zero-size chunk would end the body
		}
		size := append(strconv.AppendInt(st.chunk[:0], int64(n), 16), '\r', '\n')
		if st.tcp {
			st.nb = append(st.nb[:0], size)
			st.nb = append(st.nb, st.bufs...)
			st.nb = append(st.nb, crlf)
			_, err = st.nb.WriteTo(st.conn)
			clear(st.nb[:cap(st.nb)])
		} else {
			st.flat = append(st.flat[:0], size...)
			for _, b := range st.bufs {
				st.flat = append(st.flat, b...)
			}
			st.flat = append(st.flat, crlf...)
			_, err = st.conn.Write(st.flat)
			if cap(st.flat) > replayChunk+1024 {
				st.flat = nil // a catch-up's size: don't keep it for the live ticks
			}
		}
	}
	if err != nil {
		st.err = err
	}
	return err
}

var crlf = []byte("\r\n")

// rawConn readies a plain TCP stream for non-blocking writes: no deadline
// (a write that can't finish at once leaves the pool instead of waiting),
// and its file descriptor.
func (st *stream) rawConn() (syscall.RawConn, error) {
	tc, ok := st.conn.(*net.TCPConn)
	if !ok {
		return nil, errors.New("handlers: not a TCP connection")
	}
	if err := tc.SetWriteDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return tc.SyscallConn()
}

// tryWrite writes what of b the socket takes now, in one write(2), and
// never waits: n < len(b) with a nil error means the socket is full.
func (st *stream) tryWrite(b []byte) (int, error) {
	var n int
	var werr error
	if err := st.raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true // done either way: don't wait for the socket
	}); err != nil {
		st.err = err
		return 0, err
	}
	switch {
	case werr == syscall.EAGAIN:
		return 0, nil
	case werr == syscall.EINTR:
		return 0, nil // the slow path retries
	case werr != nil:
		st.err = os.NewSyscallError("write", werr)
		return 0, st.err
	}
	return n, nil
}

// sendRaw writes b as it is (the rest of a chunk a non-blocking write
// began) under the stream's deadline.
func (st *stream) sendRaw(b []byte) error {
	st.raw = nil
	st.last = time.Now()
	if st.err = st.conn.SetWriteDeadline(st.last.Add(st.timeout)); st.err != nil {
		return st.err
	}
	_, st.err = st.conn.Write(b)
	return st.err
}

// end finishes the body (the last chunk) so the client sees a clean end of
// stream, not a cut connection.
func (st *stream) end() {
	if st.conn != nil && st.err == nil {
		st.conn.SetWriteDeadline(time.Now().Add(st.timeout))
		st.conn.Write([]byte("0\r\n\r\n"))
	}
}

// close releases the hijacked connection.
func (st *stream) close() {
	if st.conn != nil {
		st.conn.Close()
	}
}
