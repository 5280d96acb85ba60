package event

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strings"
)

// A hand-written JSON scanner for the envelope. encoding/json's map
// decoding cost more than fetching the record; this reads the top-level
// object in one pass, validating as strictly as json.Valid, and returns each
// member's raw value without decoding nested data (the handler decodes it,
// once, into its own type). With lazyData, an object or array under "data"
// is only skipped (see skipComposite): the data is checked when it is read.

var errSyntax = errors.New("invalid JSON")

// span is the byte range [from, to) of a scanned value.
type span struct{ from, to int }

const maxDepth = 10000 // as encoding/json

type scanner struct {
	b     []byte
	i     int
	depth int
	// high collects the bytes of the strings scanned; in valid JSON only
	// strings can hold bytes ≥ 0x80, so it tells an ASCII document. Data
	// skipped with lazyData is not in it: its text is not an attribute.
	high uint64
	// lazyData skips an object or array under the top-level "data" member
	// instead of validating it.
	lazyData bool
}

// ascii reports whether the scanned document, apart from data skipped with
// lazyData, is ASCII throughout, hence valid UTF-8.
func (s *scanner) ascii() bool { return s.high&highs == 0 }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // compact JSON: the common case
	}
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// members scans a whole document that must be one JSON object and calls fn
// with each member's key (quotes included) and raw value, as index ranges
// of s.b.
func (s *scanner) members(fn func(key, val span)) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errSyntax
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return s.end()
	}
	for {
		s.ws()
		start := s.i
		if err := s.str(); err != nil {
			return err
		}
		key := span{start, s.i}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSyntax
		}
		s.i++
		s.ws()
		vstart := s.i
		var err error
		if s.lazyData && s.i < len(s.b) && (s.b[s.i] == '{' || s.b[s.i] == '[') && string(s.b[start:key.to]) == `"data"` {
			err = s.skipComposite()
		} else {
			err = s.value()
		}
		if err != nil {
			return err
		}
		fn(key, span{vstart, s.i})
		s.ws()
		if s.i >= len(s.b) {
			return errSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return s.end()
		default:
			return errSyntax
		}
	}
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return errSyntax
	}
	return nil
}

// value skips one JSON value starting at s.i (no leading space).
func (s *scanner) value() error {
	if s.i >= len(s.b) {
		return errSyntax
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{' || c == '[':
		return s.composite(c)
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return errSyntax
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return errSyntax
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) composite(open byte) error {
	if s.depth++; s.depth > maxDepth {
		return errSyntax
	}
	defer func() { s.depth-- }()
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == closer {
		s.i++
		return nil
	}
	for {
		s.ws()
		if open == '{' {
			if err := s.str(); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return errSyntax
			}
			s.i++
			s.ws()
		}
		if err := s.value(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case closer:
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// skipComposite skips the object or array starting at s.i, following only
// strings and the nesting of brackets: it finds where the value ends, as
// the full scan would for valid JSON, and checks nothing else — not the
// members, commas, numbers, escapes or that each bracket closes its own
// kind. An event's data is the bulk of its envelope, and a consumer routes
// by attributes or decodes the data once, into its own type, which checks
// it then ([DataAs]); so the decoder skips it rather than validate it
// twice. Input that ends inside the value is an error.
func (s *scanner) skipComposite() error {
	end := compositeEnd(s.b, s.i)
	if end < 0 {
		return errSyntax
	}
	s.i = end
	return nil
}

// compositeEnd is skipComposite on b from i: the index after the value's
// closing bracket, or -1.
func compositeEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		// Outside strings the runs are short (`":"`, `","`, numbers): a
		// byte at a time costs less than testing words.
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		case '"':
			// Strings are most of the data's bytes: runs of other bytes
			// are skipped a word at a time, up to the closing quote, past
			// escaped bytes. (Inline: a call per string costs more.)
			i++
			for {
				for len(b)-i >= 8 {
					w := binary.LittleEndian.Uint64(b[i:])
					if m := zeroBytes(w^(ones*'"')) | zeroBytes(w^(ones*'\\')); m != 0 {
						i += bits.TrailingZeros64(m) / 8
						break
					}
					i += 8
				}
				for i < len(b) && b[i] != '"' && b[i] != '\\' {
					i++
				}
				if i >= len(b) {
					return -1
				}
				if b[i] == '"' {
					break
				}
				i += 2 // the backslash and the byte it escapes
			}
		}
	}
	return -1
}

// str skips a string starting at its opening quote. Strings are most of an
// envelope's bytes, so runs of plain bytes are skipped a word at a time.
func (s *scanner) str() error {
	b, i := s.b, s.i
	if i >= len(b) || b[i] != '"' {
		return errSyntax
	}
	i++
	for {
		for len(b)-i >= 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			s.high |= w
			if m := jsonSpecial(w); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			s.high |= uint64(b[i])
			i++
		}
		if i >= len(b) {
			return errSyntax
		}
		switch b[i] {
		case '"':
			s.i = i + 1
			return nil
		case '\\':
			i++
			if i >= len(b) {
				return errSyntax
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(b)-i < 5 {
					return errSyntax
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return errSyntax
					}
				}
				i += 5
			default:
				return errSyntax
			}
		default: // a control character
			return errSyntax
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return errSyntax
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return errSyntax
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return errSyntax
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

// unquote turns a raw JSON string (quotes included) into a Go string; the
// result shares raw's memory unless the string has escapes, which pay for
// encoding/json.
func unquote(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return "", false
	}
	return s, true
}
