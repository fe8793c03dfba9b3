package tier

import (
	"errors"
	"strconv"
)

// Topics that roll up: the metric topics whose payloads are numbers about
// the host. The top-N process lists, the per-container rows and the alert
// records are left out: their rows are about things that come and go by
// the minute (pids, containers), so a long tier of them would be mostly
// empty columns; the process counts are kept.
var rolled = map[string]bool{
	"cpu": true, "memory": true, "load": true, "disk": true, "network": true,
	"processes": true, "sensors": true, "gpu": true,
}

// Rolls reports whether topic's payloads are rolled up into the tiers.
func Rolls(topic string) bool { return rolled[topic] }

// Mark kinds: the sampler's news fields, as docs/events.md names them.
const (
	MarkRestart   = "restart"
	MarkSkipped   = "skipped"
	MarkClockStep = "clock_step"
)

// skippedKeys are top-level payload keys that are not numeric series: the
// sample time, the CPU numbers that key "cores", and the top-N lists.
var skippedKeys = map[string]bool{"t": true, "core_ids": true, "top_cpu": true, "top_rss": true}

// itemName are the keys that name an object in an array, in the order
// tried: a filesystem's mount point, a sensor's or GPU's id, a name.
var itemName = []string{"mount", "id", "name"}

// constantLeaves are per-item fields that describe a device rather than
// measure it (a sensor's trip points); they would only repeat.
var constantLeaves = map[string]bool{"crit": true, "max": true}

var errSyntax = errors.New("tier: payload is not the JSON object the collectors write")

// Flattener walks a topic's JSON payload and reports each numeric field by
// its path (see [Point]) and each server mark. It is a small scanner, not
// encoding/json: it makes no allocation per field once its buffers have
// grown, which keeps rolling up a whole tick within a few microseconds.
// A Flattener is not safe for concurrent use; keep one per goroutine.
type Flattener struct {
	path  []byte
	cores []float64 // "cores", held until "core_ids" names them
	nulls []bool
	ids   []int64
}

// Flatten calls field with the path and value of each number in data (a
// topic's payload: one JSON object) and mark with each server mark. The
// path slice is only valid during the call. null, strings and booleans
// are skipped: a field that is null on a tick is absent from it. CPU cores
// are keyed by their kernel number ("cores.3") where core_ids gives it.
func (f *Flattener) Flatten(data []byte, field func(path []byte, v float64), mark func(kind string, v int64)) error {
	s := scanner{b: data}
	s.ws()
	f.cores, f.nulls, f.ids = f.cores[:0], f.nulls[:0], f.ids[:0]
	haveCores := false
	ok := s.object(func(key []byte) bool {
		switch k := string(key); { // no allocation: only compared and looked up
		case k == MarkRestart || k == MarkSkipped || k == MarkClockStep:
			num, ok := s.num()
			if !ok {
				return false
			}
			v, err := strconv.ParseInt(string(num), 10, 64)
			if err != nil {
				return false
			}
			if mark != nil {
				mark(markKind(k), v)
			}
			return true
		case k == "cores":
			haveCores = true
			return f.numbers(&s, func(v float64, null bool) { f.cores = append(f.cores, v); f.nulls = append(f.nulls, null) })
		case k == "core_ids":
			return f.numbers(&s, func(v float64, _ bool) { f.ids = append(f.ids, int64(v)) })
		case skippedKeys[k]:
			return s.skip()
		}
		f.path = append(f.path[:0], key...)
		return f.value(&s, field)
	})
	if !ok {
		return errSyntax
	}
	if haveCores {
		useIDs := len(f.ids) == len(f.cores)
		for i, v := range f.cores {
			if f.nulls[i] {
				continue
			}
			n := int64(i)
			if useIDs {
				n = f.ids[i]
			}
			f.path = strconv.AppendInt(append(f.path[:0], "cores."...), n, 10)
			field(f.path, v)
		}
	}
	return nil
}

// markKind returns the constant for k, so a Mark's Kind shares one string.
func markKind(k string) string {
	switch k {
	case MarkRestart:
		return MarkRestart
	case MarkSkipped:
		return MarkSkipped
	}
	return MarkClockStep
}

// numbers reads an array of numbers (null allowed) into add.
func (f *Flattener) numbers(s *scanner, add func(v float64, null bool)) bool {
	if s.null() {
		return true
	}
	return s.array(func(int) bool {
		if s.null() {
			add(0, true)
			return true
		}
		v, ok := s.float()
		if !ok {
			return false
		}
		add(v, false)
		return true
	})
}

// value reads the value at f.path, reporting its numbers.
func (f *Flattener) value(s *scanner, field func([]byte, float64)) bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		base := len(f.path)
		ok := s.object(func(key []byte) bool {
			f.path = append(append(f.path[:base], '.'), key...)
			return f.value(s, field)
		})
		f.path = f.path[:base]
		return ok
	case c == '[':
		return f.array(s, field)
	case c == '-' || (c >= '0' && c <= '9'):
		v, ok := s.float()
		if !ok {
			return false
		}
		field(f.path, v)
		return true
	default:
		return s.skip()
	}
}

// array reads an array: numbers are keyed by position, objects by their
// name field (itemName); an object with no name is skipped, since its
// position says nothing stable about what it is.
func (f *Flattener) array(s *scanner, field func([]byte, float64)) bool {
	base := len(f.path)
	ok := s.array(func(i int) bool {
		if s.i < len(s.b) && s.b[s.i] == '{' {
			return f.item(s, field, base)
		}
		f.path = strconv.AppendInt(append(f.path[:base], '.'), int64(i), 10)
		return f.value(s, field)
	})
	f.path = f.path[:base]
	return ok
}

// item reads one object of an array: its name is found first (a second
// pass over the object's bytes), then its numbers go out under
// base.<name>.<field>.
func (f *Flattener) item(s *scanner, field func([]byte, float64), base int) bool {
	start := s.i
	if !s.skip() {
		return false
	}
	obj := scanner{b: s.b[start:s.i]}
	name, ok := obj.nameOf()
	if !ok {
		return true
	}
	f.path = append(append(append(f.path[:base], '.'), name...), '.')
	prefix := len(f.path)
	obj.i = 0
	return obj.object(func(key []byte) bool {
		if constantLeaves[string(key)] || obj.i >= len(obj.b) || !isNumStart(obj.b[obj.i]) {
			return obj.skip()
		}
		v, ok := obj.float()
		if !ok {
			return false
		}
		f.path = append(f.path[:prefix], key...)
		field(f.path, v)
		return true
	})
}

func isNumStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// scanner reads JSON tokens from b at i. Strings are returned raw (without
// unescaping): the collectors' keys are plain, and a name with escapes is
// still a stable key.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads an object at s.i, calling member for each key with s
// just before the key's value, which member must consume; it stops at the
// first member that returns false.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.eat('{') {
		return false
	}
	for first := true; ; first = false {
		s.ws()
		if s.eat('}') {
			return true
		}
		if !first && !s.eat(',') {
			return false
		}
		s.ws()
		key, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if !s.eat(':') {
			return false
		}
		s.ws()
		if !member(key) {
			return false
		}
	}
}

// array reads an array at s.i, calling elem with each element's index
// and s at the element, which elem must consume.
func (s *scanner) array(elem func(i int) bool) bool {
	if !s.eat('[') {
		return false
	}
	for i := 0; ; i++ {
		s.ws()
		if s.eat(']') {
			return true
		}
		if i > 0 && !s.eat(',') {
			return false
		}
		s.ws()
		if !elem(i) {
			return false
		}
	}
}

func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str reads a string and returns its raw content.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return s.b[start : s.i-1], true
		default:
			s.i++
		}
	}
	return nil, false
}

func (s *scanner) num() ([]byte, bool) {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.i++
			continue
		}
		break
	}
	return s.b[start:s.i], s.i > start
}

// float reads a number.
func (s *scanner) float() (float64, bool) {
	num, ok := s.num()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(num), 64)
	return v, err == nil
}

// skip passes over one value of any kind.
func (s *scanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	case 't':
		return s.word("true")
	case 'f':
		return s.word("false")
	case 'n':
		return s.word("null")
	}
	_, ok := s.num()
	return ok
}

func (s *scanner) word(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

// nameOf finds an object's name among its top-level string keys: the
// first of itemName present, as a string or a number.
func (s *scanner) nameOf() ([]byte, bool) {
	var found [3][]byte
	s.i = 0
	ok := s.object(func(key []byte) bool {
		for j, n := range itemName {
			if string(key) == n && s.i < len(s.b) && s.b[s.i] == '"' {
				v, ok := s.str()
				found[j] = v
				return ok
			}
		}
		return s.skip()
	})
	if !ok {
		return nil, false
	}
	for _, v := range found {
		if v != nil {
			return v, true
		}
	}
	return nil, false
}
