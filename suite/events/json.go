package events

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"time"
)

// The team's Spring services wrote Java Long, int and boolean fields as JSON
// numbers and booleans, but older producers (and hand-written kcat tests)
// quote them. These types read both and always write the plain JSON form.

// ID is a positive integer identifier, the team's Java Long id (memberId,
// suiteRoomId). It reads 42 and "42"; zero, negatives, fractions and
// anything else are rejected with the field's name.
type ID int64

// String is the decimal form, used as the event subject (the record key).
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// UnmarshalJSON reads a positive integer, quoted or not.
func (id *ID) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil // absent: the required-field check names it
	}
	n, ok := parseInt(b)
	if !ok || n <= 0 {
		return typeError(b, reflect.TypeFor[ID](), "a positive integer")
	}
	*id = ID(n)
	return nil
}

// Int is an integer amount or count (depositAmount, honorPoint). It reads
// 5000 and "5000".
type Int int64

// UnmarshalJSON reads an integer, quoted or not.
func (n *Int) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	v, ok := parseInt(b)
	if !ok {
		return typeError(b, reflect.TypeFor[Int](), "an integer")
	}
	*n = Int(v)
	return nil
}

// Bool is a flag (isHost). It reads true and "true" (Jackson's coercion of
// quoted booleans).
type Bool bool

// UnmarshalJSON reads true or false, quoted or not.
func (v *Bool) UnmarshalJSON(b []byte) error {
	switch string(unquote(b)) {
	case "true":
		*v = true
	case "false", "null":
		*v = false
	default:
		return typeError(b, reflect.TypeFor[Bool](), "true or false")
	}
	return nil
}

// Time is an instant. It is written in RFC 3339 (UTC) and read from RFC
// 3339, from a date-time without offset (Java's LocalDateTime as Jackson
// writes it, taken as UTC), from a date (LocalDate, midnight UTC) or from
// epoch milliseconds.
type Time struct{ time.Time }

// localLayouts are the offset-less forms Jackson writes for java.time types.
var localLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// MarshalJSON writes RFC 3339 in UTC; the zero time is null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// UnmarshalJSON reads the forms listed on [Time].
func (t *Time) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	if b[0] != '"' {
		ms, ok := parseInt(b)
		if !ok {
			return typeError(b, reflect.TypeFor[Time](), "an RFC 3339 time or epoch milliseconds")
		}
		t.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	s := string(unquote(b))
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		t.Time = v
		return nil
	}
	for _, layout := range localLayouts {
		if v, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			t.Time = v
			return nil
		}
	}
	return typeError(b, reflect.TypeFor[Time](), "an RFC 3339 time")
}

func isNull(b []byte) bool { return string(b) == "null" }

// unquote strips one pair of quotes; JSON escapes never occur in the
// values these types accept, so none are decoded.
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// parseInt reads a JSON integer, quoted or not; 5.0 and 1e3 are not
// integers for a Long.
func parseInt(b []byte) (int64, bool) {
	s := bytes.TrimSpace(unquote(b))
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

// typeError is the error encoding/json decorates with the field's path
// (e.g. "authorizerDto.memberId"); want says what was expected.
func typeError(b []byte, typ reflect.Type, want string) error {
	v := string(b)
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return &json.UnmarshalTypeError{Value: v + ", want " + want, Type: typ}
}
