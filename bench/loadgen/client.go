package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Buffer sizes per connection. The connection reader only ever holds a
// status line, a header line or a chunk-size line (reads of event bytes go
// around it); the line reader holds one SSE line, and the longest (a disk
// event on a host with many devices) is a few KiB. Longer lines still work,
// through a slice allocated when first needed.
const (
	connBufSize = 512
	lineBufSize = 4 << 10
)

// stream is one simulated browser: it connects, reads, and (for churn or a
// restart) reconnects with its last id, like EventSource does.
type stream struct {
	r     *runner
	n     int
	query string // topics query value; "" means every topic
	u     int    // index of the URL it connects to
	hostQ string // its ?host= value; "" for none
	topic topicMask
	slow  bool
	rng   *rand.Rand

	// Written by this stream's goroutine only; read after it ended.
	lower     uint64 // key of the id this stream is owed events after (0: from the start)
	haveLower bool
	lowerSet  bool
	keys      []uint64 // every id received, in order
	last      uint64   // key of the last id received
	haveLast  bool
	ticks     [maxTopics]tickStat
	connects  int
	slowDrop  bool // a slow stream found its connection closed by the server
	connected bool // connected at the moment the run stopped
	retry     time.Duration
	epoch     epochCache // the epoch of the last id parsed
	cuStart   string     // the catch-up's "complete"/"reason", for the report
	long      []byte
}

// tickStat tracks one topic's sample times, for servers without ids.
type tickStat struct {
	first, last int64 // unix ms
	count       int64
}

// topicMask is a set of topic indexes into runner.topics.
type topicMask uint16

const maxTopics = 16

var errStopped = errors.New("run stopped")

// run is the stream's goroutine; it returns when the run's context ends.
func (s *stream) run(ctx context.Context, firstDone func()) {
	s.retry = 2 * time.Second // the SSE default until the server says
	first := true
	for {
		err := s.connectOnce(ctx, first, firstDone)
		if first {
			first = false
			firstDone()
		}
		if ctx.Err() != nil {
			return
		}
		if !s.r.cfg.Reconnect && !s.r.cfg.Churn {
			switch {
			case s.slow:
			case errors.Is(err, io.EOF):
				s.r.errs.note(errors.New("stream closed by the server"))
			case err != nil:
				s.r.errs.note(err)
			}
			return
		}
		wait := s.retry
		if s.r.cfg.Churn {
			wait = time.Duration(s.rng.Int64N(int64(time.Second))) // a browser tab coming back
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// connectOnce holds one connection until it ends.
func (s *stream) connectOnce(ctx context.Context, first bool, firstDone func()) (err error) {
	if first {
		select {
		case s.r.dialSem <- struct{}{}:
		case <-ctx.Done():
			return errStopped
		}
	}
	released := !first
	release := func() {
		if !released {
			released = true
			<-s.r.dialSem
		}
	}
	defer release()

	start := time.Now()
	conn, err := s.r.dial(ctx, s.n, s.slow, s.r.cfg.addrs[s.u])
	if err != nil {
		if first {
			s.r.failed.Add(1)
		}
		return err
	}
	s.connects++
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		stop()
		conn.Close()
	}()
	var lifetime *time.Timer
	if s.r.cfg.Churn {
		life := s.r.cfg.ChurnMin + time.Duration(s.rng.Int64N(int64(s.r.cfg.ChurnMax-s.r.cfg.ChurnMin)+1))
		lifetime = time.AfterFunc(life, func() { conn.Close() })
		defer lifetime.Stop()
	}

	req := make([]byte, 0, 256)
	req = append(req, "GET /events"...)
	sep := "?"
	if s.query != "" {
		req = append(req, "?topics="...)
		req = append(req, s.query...)
		sep = "&"
	}
	req = append(req, hostParam(sep, s.hostQ)...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, s.r.cfg.addrs[s.u]...)
	req = append(req, "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"...)
	resumeFrom := ""
	switch {
	case s.haveLast:
		resumeFrom = s.r.epochs.format(s.last)
	case first && s.r.cfg.resumeID != "":
		resumeFrom = s.r.cfg.resumeID
	}
	if resumeFrom != "" {
		req = append(req, "Last-Event-ID: "...)
		req = append(req, resumeFrom...)
		req = append(req, "\r\n"...)
		if !s.lowerSet {
			s.lower, s.haveLower = s.r.epochs.parse([]byte(resumeFrom))
			s.lowerSet = true
		}
	}
	req = append(req, "\r\n"...)
	if _, err := conn.Write(req); err != nil {
		return err
	}
	br := bufio.NewReaderSize(conn, connBufSize)
	chunked, err := readHeaders(br)
	if err != nil {
		return err
	}
	var body io.Reader = br
	if chunked {
		body = &chunkReader{br: br}
	}
	lr := bufio.NewReaderSize(body, lineBufSize)
	p := parser{s: s, start: start, resumed: resumeFrom != ""}
	// Held from the response head on: the gin baseline sends no hello.
	s.r.held.Add(1)
	s.r.heldBy[s.u].Add(1)
	if first {
		release()
		firstDone()
	}
	defer func() {
		s.r.held.Add(-1)
		s.r.heldBy[s.u].Add(-1)
		if p.hello {
			if ctx.Err() != nil {
				s.connected = true
			} else if s.r.cfg.Reconnect {
				s.r.noteDrop()
			}
		}
	}()
	for {
		line, err := s.readLine(lr)
		if err != nil {
			if p.slowStopped {
				s.slowDrop = errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
			}
			return err
		}
		p.line(line)
		if s.slow && p.hello && !p.slowStopped && !p.replay {
			// Stop reading, as a frozen tab or a stalled proxy does,
			// until the run releases slow streams; then drain briefly
			// to learn whether the server dropped us.
			p.slowStopped = true
			select {
			case <-ctx.Done():
				return errStopped
			case <-s.r.slowRelease:
			}
			conn.SetReadDeadline(time.Now().Add(s.r.cfg.SlowDrain))
		}
	}
}

// readLine returns one line without its line ending. The slice is valid
// until the next call.
func (s *stream) readLine(lr *bufio.Reader) ([]byte, error) {
	line, err := lr.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = lr.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readHeaders reads the response head and reports whether the body is
// chunked. Anything but 200 is an error.
func readHeaders(br *bufio.Reader) (chunked bool, err error) {
	status, err := br.ReadSlice('\n')
	if err != nil {
		return false, fmt.Errorf("read status: %w", err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200")) {
		return false, fmt.Errorf("status %q", bytes.TrimSpace(status))
	}
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return false, fmt.Errorf("read headers: %w", err)
		}
		h = bytes.TrimSpace(h)
		if len(h) == 0 {
			return chunked, nil
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		if bytes.EqualFold(k, []byte("Transfer-Encoding")) && bytes.Contains(bytes.ToLower(v), []byte("chunked")) {
			chunked = true
		}
	}
}

// chunkReader undoes HTTP/1.1 chunked framing. Reads larger than the
// connection buffer go straight from the socket into the caller's buffer.
type chunkReader struct {
	br      *bufio.Reader
	left    int64 // bytes left in the current chunk
	started bool
	done    bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		if c.started {
			if _, err := c.br.Discard(2); err != nil { // the CRLF after a chunk
				return 0, err
			}
		}
		c.started = true
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimSpace(line)
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(line), 16, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	return n, err
}

// parser turns SSE lines into what the run records.
type parser struct {
	s       *stream
	start   time.Time
	resumed bool

	id, event   []byte
	idBuf       [48]byte
	evBuf       [32]byte
	data        []byte // control events only (hello, catchup-*)
	t           int64
	haveT       bool
	hello       bool
	replay      bool
	slowStopped bool
}

var (
	evHello        = []byte("hello")
	evCatchupStart = []byte("catchup-start")
	evCatchupEnd   = []byte("catchup-end")
)

func (p *parser) line(l []byte) {
	if len(l) == 0 {
		p.dispatch()
		return
	}
	if l[0] == ':' {
		return // comment (heartbeat)
	}
	field, value, _ := bytes.Cut(l, []byte(":"))
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	switch string(field) {
	case "id":
		p.id = append(p.idBuf[:0], value...)
	case "event":
		p.event = append(p.evBuf[:0], value...)
	case "retry":
		if n, err := strconv.Atoi(string(value)); err == nil {
			p.s.retry = time.Duration(n) * time.Millisecond
		}
	case "data":
		if p.control() {
			if len(p.data) > 0 {
				p.data = append(p.data, '\n')
			}
			p.data = append(p.data, value...)
			return
		}
		if !p.haveT {
			p.t, p.haveT = sampleTime(value)
		}
	}
}

func (p *parser) control() bool {
	return bytes.Equal(p.event, evHello) || bytes.Equal(p.event, evCatchupStart) || bytes.Equal(p.event, evCatchupEnd)
}

func (p *parser) dispatch() {
	s, r := p.s, p.s.r
	defer func() {
		p.id, p.event, p.data, p.haveT = nil, nil, p.data[:0], false
	}()
	switch {
	case p.event == nil && len(p.data) == 0 && !p.haveT:
		return // a retry-only block or a comment (p.data is reused, never nil after hello)
	case bytes.Equal(p.event, evHello):
		p.hello = true
		if !s.lowerSet {
			var h struct {
				Newest string `json:"newest"`
			}
			json.Unmarshal(p.data, &h)
			s.lowerSet = true
			if h.Newest != "" {
				s.lower, s.haveLower = r.epochs.parse([]byte(h.Newest))
			}
		}
		return
	case bytes.Equal(p.event, evCatchupStart):
		p.replay = true
		var c struct {
			Complete bool   `json:"complete"`
			Reason   string `json:"reason"`
		}
		json.Unmarshal(p.data, &c)
		if !c.Complete {
			s.cuStart = "incomplete: " + c.Reason
		}
		return
	case bytes.Equal(p.event, evCatchupEnd):
		p.replay = false
		r.noteCatchup(s, time.Since(p.start))
		return
	}
	now := time.Now()
	if p.id != nil {
		if k, ok := r.epochs.parseCached(p.id, &s.epoch); ok {
			s.keys = append(s.keys, k)
			s.last, s.haveLast = k, true
		} else {
			r.badIDs.Add(1)
		}
	}
	if p.replay {
		r.replayed.Add(1)
		return
	}
	r.live.Add(1)
	if p.haveT {
		if r.measuring.Load() {
			r.phaseHist().record(s.n, now.UnixMicro()-p.t*1000)
		}
		if ti := r.topicIndex(p.event); ti >= 0 {
			st := &s.ticks[ti]
			if st.count == 0 {
				st.first = p.t
			}
			st.last = p.t
			st.count++
		}
	}
}

// sampleTime finds the payload's "t" (unix ms) without decoding the JSON.
func sampleTime(data []byte) (int64, bool) {
	i := bytes.Index(data, []byte(`"t":`))
	if i < 0 {
		return 0, false
	}
	var v int64
	j := i + 4
	for j < len(data) && data[j] == ' ' {
		j++
	}
	start := j
	for ; j < len(data) && data[j] >= '0' && data[j] <= '9'; j++ {
		v = v*10 + int64(data[j]-'0')
	}
	return v, j > start
}

// epochs interns the epoch part of ids, so an id is kept as 8 bytes: the
// epoch's index in the top 16 bits, the sequence number below. Ids are
// opaque to clients; this parses vitals' documented shapes only to store
// them compactly, and the run fails loudly on any other shape.
//
// vitals has two: "<epoch>.<seq>" (bbolt) and, with --redis, the Redis
// stream entry id "<ms>-<seq>" (seq is the topic's place in the tick). A
// Redis id is kept under the pseudo-epoch redisEpoch as ms<<redisSeqBits |
// seq, which keeps ids of one host in order.
type epochs struct {
	mu    sync.Mutex // guards following fields
	index map[string]uint64
	names []string
}

const seqBits = 48

// redisEpoch can't be a bbolt epoch (those are base-32 letters and digits).
const (
	redisEpoch   = "-"
	redisSeqBits = 4 // vitals' publisher uses seq 0..topics-1
)

// epochCache is one stream's last epoch, so parsing an id of the same
// epoch as the one before (nearly every event) takes no lock.
type epochCache struct {
	name string // interned: e.names[x]
	x    uint64
	ok   bool
}

var redisEpochBytes = []byte(redisEpoch)

func (e *epochs) parse(id []byte) (uint64, bool) { return e.parseCached(id, nil) }

// parseCached is parse with a stream's cache (nil for none). It allocates
// only when it meets an epoch for the first time.
func (e *epochs) parseCached(id []byte, c *epochCache) (uint64, bool) {
	i := bytes.LastIndexByte(id, '.')
	var seq uint64
	epoch := redisEpochBytes
	if i < 0 {
		ms, sq, ok := parseStreamID(id)
		if !ok {
			return 0, false
		}
		seq = ms<<redisSeqBits | sq
	} else {
		var err error
		seq, err = strconv.ParseUint(string(id[i+1:]), 10, 64)
		if err != nil || seq >= 1<<seqBits {
			return 0, false
		}
		epoch = id[:i]
	}
	if c != nil && c.ok && c.name == string(epoch) {
		return c.x<<seqBits | seq, true
	}
	x, name := e.intern(epoch)
	if c != nil {
		c.name, c.x, c.ok = name, x, true
	}
	return x<<seqBits | seq, true
}

// intern returns epoch's index and interned name, adding it when new.
func (e *epochs) intern(epoch []byte) (uint64, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.index[string(epoch)] // no allocation: the compiler reads the map in place
	if !ok {
		if e.index == nil {
			e.index = map[string]uint64{}
		}
		name := string(epoch)
		x = uint64(len(e.names))
		e.index[name] = x
		e.names = append(e.names, name)
	}
	return x, e.names[x]
}

func (e *epochs) format(k uint64) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	name, seq := e.names[k>>seqBits], k&(1<<seqBits-1)
	if name == redisEpoch {
		return strconv.FormatUint(seq>>redisSeqBits, 10) + "-" + strconv.FormatUint(seq&(1<<redisSeqBits-1), 10)
	}
	return name + "." + strconv.FormatUint(seq, 10)
}

// parseStreamID reads a Redis stream id "<ms>-<seq>" whose packed form
// fits below seqBits.
func parseStreamID(id []byte) (ms, seq uint64, ok bool) {
	a, b, found := bytes.Cut(id, []byte("-"))
	if !found || len(a) == 0 || len(b) == 0 {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseUint(string(a), 10, 64)
	seq, err2 := strconv.ParseUint(string(b), 10, 64)
	if err1 != nil || err2 != nil || seq >= 1<<redisSeqBits || ms >= 1<<(seqBits-redisSeqBits) {
		return 0, 0, false
	}
	return ms, seq, true
}

// dial connects stream n, binding it to a further loopback source address
// once the ones before hold -per-source streams each.
func (r *runner) dial(ctx context.Context, n int, slow bool, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	src := n / r.cfg.PerSource
	d.Control = func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if src > 0 {
				// Pick the port at connect time, by the full 4-tuple, so
				// ports in TIME_WAIT from a previous run don't block bind.
				serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
			}
			if slow && serr == nil {
				// A small receive window makes a stalled reader back up
				// into the server quickly, as a stuck mobile client does.
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<10)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
	if src > 0 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(src/250), byte(1+src%250))}
	}
	return d.DialContext(ctx, "tcp", addr)
}
