package alerts

import (
	"errors"
	"fmt"
	"strconv"
)

// payload is a JSON document parsed into a flat array of nodes that is
// reused tick after tick. Decoding every topic into map[string]any made
// two thirds of a tick's cost and a thousand allocations; this makes none
// once the array has grown, and a map lookup by item bytes allocates only
// for an item seen for the first time.
type payload struct {
	nodes   []node
	data    []byte
	scratch []byte // an index-named item
	tick    uint64 // the Engine's tick this payload was parsed in
}

type nodeKind uint8

const (
	kindOther nodeKind = iota // null, true, false
	kindNumber
	kindString
	kindObject
	kindArray
)

type node struct {
	kind  nodeKind
	key   []byte // member name inside an object, raw (escapes kept)
	str   []byte // a string's raw content
	num   float64
	child int32 // first child of an object or array, -1 if none
	next  int32 // next sibling, -1 if none
}

var errBadJSON = errors.New("malformed JSON")

// parse replaces the payload with data; data must not change until the
// next parse.
func (p *payload) parse(data []byte) error {
	p.nodes, p.data = p.nodes[:0], data
	i, _, err := p.value(skipSpace(data, 0), nil)
	if err != nil {
		return err
	}
	if skipSpace(data, i) != len(data) {
		return fmt.Errorf("%w: data after the value", errBadJSON)
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// value parses the value at i into a new node and returns the position
// after it and the node's index.
func (p *payload) value(i int, key []byte) (int, int32, error) {
	b := p.data
	if i >= len(b) {
		return i, -1, fmt.Errorf("%w: unexpected end", errBadJSON)
	}
	idx := int32(len(p.nodes))
	p.nodes = append(p.nodes, node{key: key, child: -1, next: -1})
	switch c := b[i]; {
	case c == '{' || c == '[':
		kind, end := kindObject, byte('}')
		if c == '[' {
			kind, end = kindArray, ']'
		}
		p.nodes[idx].kind = kind
		i = skipSpace(b, i+1)
		prev := int32(-1)
		if i < len(b) && b[i] == end {
			return i + 1, idx, nil
		}
		for {
			var k []byte
			if kind == kindObject {
				var err error
				if k, i, err = stringAt(b, i); err != nil {
					return i, -1, err
				}
				i = skipSpace(b, i)
				if i >= len(b) || b[i] != ':' {
					return i, -1, fmt.Errorf("%w: want ':' at %d", errBadJSON, i)
				}
				i = skipSpace(b, i+1)
			}
			j, child, err := p.value(i, k)
			if err != nil {
				return j, -1, err
			}
			if prev < 0 {
				p.nodes[idx].child = child
			} else {
				p.nodes[prev].next = child
			}
			prev = child
			i = skipSpace(b, j)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == end {
				return i + 1, idx, nil
			}
			return i, -1, fmt.Errorf("%w: want ',' or '%c' at %d", errBadJSON, end, i)
		}
	case c == '"':
		s, j, err := stringAt(b, i)
		p.nodes[idx].kind, p.nodes[idx].str = kindString, s
		return j, idx, err
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		x, err := strconv.ParseFloat(string(b[i:j]), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range reads as ±Inf or 0
			return j, -1, fmt.Errorf("%w: bad number at %d", errBadJSON, i)
		}
		p.nodes[idx].kind, p.nodes[idx].num = kindNumber, x
		return j, idx, nil
	default:
		for _, lit := range [...]string{"null", "true", "false"} {
			if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
				return i + len(lit), idx, nil
			}
		}
		return i, -1, fmt.Errorf("%w: unexpected %q at %d", errBadJSON, c, i)
	}
}

// stringAt returns the raw content of the string starting at i and the
// position after its closing quote.
func stringAt(b []byte, i int) ([]byte, int, error) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, fmt.Errorf("%w: want a string at %d", errBadJSON, i)
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return b[i+1 : j], j + 1, nil
		}
	}
	return nil, len(b), fmt.Errorf("%w: unterminated string", errBadJSON)
}

// member finds an object's member by name.
func (p *payload) member(obj int32, name string) int32 {
	if obj < 0 || p.nodes[obj].kind != kindObject {
		return -1
	}
	for c := p.nodes[obj].child; c >= 0; c = p.nodes[c].next {
		if string(p.nodes[c].key) == name {
			return c
		}
	}
	return -1
}
