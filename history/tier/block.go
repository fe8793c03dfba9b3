package tier

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// A block is one topic's points of one tier over a fixed span (see
// blockSpan), stored as one bbolt value: columns rather than rows, so each
// field's values sit together and compress well, and a read of one topic
// touches a few values, not one per point.
//
// Layout before compression (uvarints unless noted):
//
//	version(1 byte) npoints nfields {len name}*nfields
//	T offsets from the block start, in steps       ×npoints
//	Count                                           ×npoints
//	nmarks {point index, T - point T (varint), kind byte, value (varint)}*
//	per field: N ×npoints (0: the field is absent from that point)
//	then the float section, byte-shuffled: per field, for each point
//	where N > 0, min, max and mean as float32 (4 bytes, little endian).
//
// Floats are float32 with the mantissa rounded to 16 bits: a relative
// error below 2^-17 (8 ppm), far under what a chart can show, and the
// zeroed low bits are what lets flate shrink the columns by half. The sum
// is stored as the mean (Sum = mean × N on reading).
//
// The float section is byte-shuffled (first bytes of every value, then the
// second bytes...): the sign and exponent bytes of a column barely change,
// so they become long runs.
const blockVersion = 1

// blockSpan is the time one block covers at each step: a few hundred
// points, enough for flate to find the repeats, while the block the roller
// adds to (rewritten each minute) stays a few KiB.
func blockSpan(step time.Duration) time.Duration {
	if step == Hour {
		return 10 * 24 * Hour // 240 hours
	}
	return 4 * Hour // 240 minutes
}

var errBlock = errors.New("tier: corrupt block")

// round16 rounds f to float32 with 16 mantissa bits.
func round16(f float64) uint32 {
	b := math.Float32bits(float32(f))
	if b&0x7f800000 == 0x7f800000 { // Inf or NaN: leave as is
		return b
	}
	return (b + 0x40) &^ 0x7f
}

// encodeBlock encodes points (one topic, one step, sorted by T, all in the
// block starting at start) compressed.
func encodeBlock(start int64, step time.Duration, points []Point) ([]byte, error) {
	var names []string
	seen := map[string]bool{}
	for _, p := range points {
		for k := range p.Fields {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	var head []byte
	head = append(head, blockVersion)
	head = binary.AppendUvarint(head, uint64(len(points)))
	head = binary.AppendUvarint(head, uint64(len(names)))
	for _, n := range names {
		head = binary.AppendUvarint(head, uint64(len(n)))
		head = append(head, n...)
	}
	stepMs := step.Milliseconds()
	for _, p := range points {
		head = binary.AppendUvarint(head, uint64((p.T-start)/stepMs))
	}
	for _, p := range points {
		head = binary.AppendUvarint(head, uint64(p.Count))
	}
	nmarks := 0
	for _, p := range points {
		nmarks += len(p.Marks)
	}
	head = binary.AppendUvarint(head, uint64(nmarks))
	for i, p := range points {
		for _, m := range p.Marks {
			head = binary.AppendUvarint(head, uint64(i))
			head = binary.AppendVarint(head, m.T-p.T)
			head = append(head, markCode(m.Kind))
			head = binary.AppendVarint(head, m.Value)
		}
	}
	var floats []uint32
	for _, n := range names {
		for _, p := range points {
			s, ok := p.Fields[n]
			if !ok {
				s.N = 0
			}
			head = binary.AppendUvarint(head, uint64(s.N))
			if s.N > 0 {
				floats = append(floats, round16(s.Min), round16(s.Max), round16(s.Mean()))
			}
		}
	}
	// Byte-shuffle the floats: byte plane j holds byte j of every value.
	plain := head
	off := len(plain)
	plain = append(plain, make([]byte, 4*len(floats))...)
	for i, f := range floats {
		for j := range 4 {
			plain[off+j*len(floats)+i] = byte(f >> (8 * j))
		}
	}
	var out bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&out)
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// deflaters are reusable compressors: a fresh flate writer allocates
// about 600 KiB of tables, more than the block it compresses, and a fill
// writes thousands of blocks.
var deflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, flate.DefaultCompression)
	if err != nil {
		panic(err) // only for an invalid level, and the level is a constant
	}
	return w
}}

var markKinds = []string{MarkRestart, MarkSkipped, MarkClockStep}

func markCode(kind string) byte {
	if i := slices.Index(markKinds, kind); i >= 0 {
		return byte(i)
	}
	return byte(len(markKinds)) // unknown kinds are not produced by Flatten
}

// inflater is a reusable decompressor and its output buffer: a long read
// decodes hundreds of blocks, and a fresh flate reader is tens of KiB.
type inflater struct {
	src bytes.Reader
	r   io.ReadCloser
	out bytes.Buffer
}

var inflaters = sync.Pool{New: func() any { return new(inflater) }}

// inflate decompresses data into a buffer that is valid until release.
func inflate(data []byte) (*inflater, []byte, error) {
	in := inflaters.Get().(*inflater)
	in.src.Reset(data)
	if in.r == nil {
		in.r = flate.NewReader(&in.src)
	} else if err := in.r.(flate.Resetter).Reset(&in.src, nil); err != nil {
		return in, nil, err
	}
	in.out.Reset()
	_, err := in.out.ReadFrom(in.r)
	return in, in.out.Bytes(), err
}

// columns is a decoded block as it is stored: per point its time, count
// and marks; per field (names) one Stat per point (N = 0: absent).
type columns struct {
	ts     []int64
	counts []uint32
	marks  [][]Mark
	names  []string
	stats  []Stat // field fi's point pi at fi*len(ts)+pi
}

// decodeBlock is encodeBlock's inverse. topic is set on every point.
func decodeBlock(topic string, start int64, step time.Duration, data []byte) ([]Point, error) {
	c, err := decodeColumns(start, step, data)
	if err != nil {
		return nil, err
	}
	return c.points(topic, step), nil
}

// points are c's points, each with its map of fields.
func (c *columns) points(topic string, step time.Duration) []Point {
	np := len(c.ts)
	points := make([]Point, np)
	for i := range points {
		points[i] = Point{Topic: topic, Step: step, T: c.ts[i], Count: c.counts[i], Marks: c.marks[i], Fields: make(map[string]Stat, len(c.names))}
	}
	for fi, name := range c.names {
		for pi := range points {
			if st := c.stats[fi*np+pi]; st.N > 0 {
				points[pi].Fields[name] = st
			}
		}
	}
	return points
}

func decodeColumns(start int64, step time.Duration, data []byte) (*columns, error) {
	in, plain, err := inflate(data)
	defer inflaters.Put(in)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBlock, err)
	}
	d := decoder{b: plain}
	if len(plain) == 0 || plain[0] != blockVersion {
		return nil, errBlock
	}
	d.i = 1
	np, nf := int(d.uvarint()), int(d.uvarint())
	if d.bad || np > 1<<20 || nf > 1<<20 {
		return nil, errBlock
	}
	c := &columns{ts: make([]int64, np), counts: make([]uint32, np), marks: make([][]Mark, np),
		names: make([]string, nf), stats: make([]Stat, nf*np)}
	for i := range c.names {
		n := int(d.uvarint())
		if d.bad || d.i+n > len(d.b) {
			return nil, errBlock
		}
		c.names[i] = string(d.b[d.i : d.i+n])
		d.i += n
	}
	stepMs := step.Milliseconds()
	for i := range c.ts {
		c.ts[i] = start + int64(d.uvarint())*stepMs
	}
	for i := range c.counts {
		c.counts[i] = uint32(d.uvarint())
	}
	nm := int(d.uvarint())
	for range nm {
		i := int(d.uvarint())
		dt := d.varint()
		code := d.byte()
		v := d.varint()
		if d.bad || i >= np {
			return nil, errBlock
		}
		kind := "unknown"
		if int(code) < len(markKinds) {
			kind = markKinds[code]
		}
		c.marks[i] = append(c.marks[i], Mark{T: c.ts[i] + dt, Kind: kind, Value: v})
	}
	nfloats := 0
	for i := range c.stats {
		c.stats[i].N = uint32(d.uvarint())
		if c.stats[i].N > 0 {
			nfloats += 3
		}
	}
	if d.bad || len(d.b)-d.i != 4*nfloats {
		return nil, errBlock
	}
	fl := d.b[d.i:]
	f := func(k int) float64 {
		return float64(math.Float32frombits(uint32(fl[k]) | uint32(fl[nfloats+k])<<8 |
			uint32(fl[2*nfloats+k])<<16 | uint32(fl[3*nfloats+k])<<24))
	}
	k := 0
	for i := range c.stats {
		if st := &c.stats[i]; st.N > 0 {
			st.Min, st.Max, st.Sum = f(k), f(k+1), f(k+2)*float64(st.N)
			k += 3
		}
	}
	return c, nil
}

type decoder struct {
	b   []byte
	i   int
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[min(d.i, len(d.b)):])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

// varint reads a zig-zag signed varint, as binary.AppendVarint writes.
func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) byte() byte {
	if d.i >= len(d.b) {
		d.bad = true
		return 0
	}
	d.i++
	return d.b[d.i-1]
}
