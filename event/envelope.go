package event

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// SpecVersion is the CloudEvents version this package writes and accepts.
const SpecVersion = "1.0"

// ContentTypeJSON is the default datacontenttype.
const ContentTypeJSON = "application/json"

// LegacySource is the source given to events decoded from the legacy
// {"uuid": ..., "data": ...} shape, which carries none.
const LegacySource = "legacy"

// Event is a CloudEvents 1.0 event.
//
// On the wire it is written in structured JSON mode (see [Event.MarshalJSON]);
// [Decode] also reads binary mode and the legacy shape.
type Event struct {
	// ID identifies the event; with Source it is unique. [New] sets a UUIDv7,
	// which sorts by creation time.
	ID string
	// Source names the producer, e.g. "member-service". The [Producer] and
	// [Outbox] fill it from their config when empty.
	Source string
	// Type is the kind of event, e.g. "signup-event".
	Type string
	// Subject is the aggregate the event is about (an entity id). It becomes
	// the record key, so one entity's events stay in one partition, in order.
	Subject string
	// Time is when the event happened; zero means unset.
	Time time.Time
	// DataContentType is the media type of Data; "" means application/json.
	DataContentType string
	// DataSchema optionally points at the schema of Data.
	DataSchema string
	// Data is the payload: JSON text when DataContentType is JSON, raw bytes
	// otherwise.
	Data []byte
	// Extensions holds extension attributes (string values), e.g.
	// "traceparent". Names are lower-case letters and digits.
	Extensions map[string]string

	// checked is the Data slice known to be valid JSON (made by json.Marshal
	// in New, or validated by the decoder), so publishing does not validate
	// it again; assigning a new Data slice brings the check back.
	checked []byte
}

// dataChecked reports whether Data is still the slice known to be valid.
func (e *Event) dataChecked() bool {
	return len(e.Data) > 0 && len(e.Data) == len(e.checked) && &e.Data[0] == &e.checked[0]
}

// New returns an event of type typ about subject with data marshalled to
// JSON, a fresh UUIDv7 id and the current time. Source is left to the
// producer's config unless set afterwards.
func New(typ, subject string, data any) (*Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("event: marshal data of %s: %w", typ, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("event: new id: %w", err)
	}
	return &Event{
		ID:              id.String(),
		Type:            typ,
		Subject:         subject,
		Time:            time.Now().UTC(),
		DataContentType: ContentTypeJSON,
		Data:            raw,
		checked:         raw,
	}, nil
}

// isJSON reports whether the content type carries JSON data, which
// structured mode embeds as a JSON value rather than base64.
func isJSON(contentType string) bool {
	if contentType == "" || contentType == ContentTypeJSON {
		return true
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// reserved are the context attributes with their own Event fields; they
// cannot be extensions.
var reserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "subject": true,
	"time": true, "datacontenttype": true, "dataschema": true, "data": true, "data_base64": true,
}

// Validate checks the CloudEvents rules the package relies on: id, source
// and type are set, attributes are valid UTF-8, JSON data is valid JSON,
// extension names are legal.
func (e *Event) Validate() error { return e.validate(true, true) }

// validate is Validate. The decoder passes checkData false when its scanner
// has already validated the data's JSON, and checkText false when the
// record was ASCII, hence valid UTF-8, throughout.
func (e *Event) validate(checkData, checkText bool) error {
	switch {
	case e.ID == "":
		return decodeErr("", "id", ErrInvalid, "id is empty")
	case e.Source == "":
		return decodeErr("", "source", ErrInvalid, "source is empty")
	case e.Type == "":
		return decodeErr("", "type", ErrInvalid, "type is empty")
	}
	if checkText {
		for _, a := range [...]struct{ name, v string }{{"id", e.ID}, {"source", e.Source}, {"type", e.Type},
			{"subject", e.Subject}, {"datacontenttype", e.DataContentType}, {"dataschema", e.DataSchema}} {
			if !plainString(a.v) && !utf8.ValidString(a.v) {
				return decodeErr("", a.name, ErrInvalid, "%s is not valid UTF-8", a.name)
			}
		}
	}
	if checkData && len(e.Data) > 0 && !e.dataChecked() && isJSON(e.DataContentType) && !json.Valid(e.Data) {
		return decodeErr("", "data", ErrInvalid, "data is not valid JSON for content type %q", e.DataContentType)
	}
	if len(e.Extensions) == 0 {
		return nil // ranging over a nil map is not free
	}
	for name := range e.Extensions {
		if !validExtensionName(name) {
			return decodeErr("", name, ErrInvalid, "extension name %q must be lower-case letters or digits", name)
		}
		if checkText && !utf8.ValidString(e.Extensions[name]) {
			return decodeErr("", name, ErrInvalid, "%s is not valid UTF-8", name)
		}
	}
	return nil
}

func validExtensionName(name string) bool {
	if name == "" || reserved[name] {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// MarshalJSON writes the event in CloudEvents structured JSON mode. JSON
// data stays a JSON value under "data" (so consumers that read the legacy
// "data" field keep working); other data goes base64 under "data_base64".
func (e *Event) MarshalJSON() ([]byte, error) {
	ct := e.contentType()
	if len(e.Data) > 0 && isJSON(ct) && !e.dataChecked() && !json.Valid(e.Data) {
		return nil, decodeErr("structured", "data", ErrInvalid, "data is not valid JSON")
	}
	b, _ := e.appendStructured(make([]byte, 0, e.structuredSize()))
	return b, nil
}

// contentType is DataContentType, defaulted for data that has none.
func (e *Event) contentType() string {
	if e.DataContentType == "" && len(e.Data) > 0 {
		return ContentTypeJSON
	}
	return e.DataContentType
}

// maxPunctuation is what structured mode adds around the attribute values
// at most: every member's name, quotes and commas, and the longest RFC 3339
// time (35 bytes, nanoseconds and an offset).
const maxPunctuation = len(`{"specversion":"1.0"}`) + len(`,"id":""`) + len(`,"source":""`) + len(`,"type":""`) +
	len(`,"time":""`) + 35 + len(`,"subject":""`) + len(`,"datacontenttype":""`) + len(`,"dataschema":""`) +
	len(`,"data_base64":""`)

// structuredSize bounds the encoded size of e when no attribute needs
// escaping, so encoding fills one buffer without growing it.
func (e *Event) structuredSize() int {
	size := maxPunctuation + len(e.ID) + len(e.Source) + len(e.Type) + len(e.Subject) +
		len(e.contentType()) + len(e.DataSchema)
	if len(e.Extensions) > 0 { // ranging over a nil map is not free
		for name, v := range e.Extensions {
			size += len(`,"":""`) + len(name) + len(v)
		}
	}
	if isJSON(e.contentType()) {
		return size + len(e.Data)
	}
	return size + base64.StdEncoding.EncodedLen(len(e.Data))
}

// appendStructured appends e in structured mode to b; the caller has
// validated e. Encoding runs once per published event, so it appends
// straight into the caller's buffer. plain reports whether every attribute
// value was plain ASCII, which spares a separate UTF-8 check.
func (e *Event) appendStructured(b []byte) (_ []byte, plain bool) {
	ct := e.contentType()
	plain = true
	// prefix is `,"name":`, whole, so each member is two appends.
	field := func(prefix, value string) {
		var ok bool
		b, ok = appendField(b, prefix, value)
		plain = plain && ok
	}
	b = append(b, `{"specversion":"1.0"`...)
	field(`,"id":`, e.ID)
	field(`,"source":`, e.Source)
	field(`,"type":`, e.Type)
	if !e.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = appendTime(b, e.Time)
		b = append(b, '"')
	}
	field(`,"subject":`, e.Subject)
	field(`,"datacontenttype":`, ct)
	field(`,"dataschema":`, e.DataSchema)
	if len(e.Extensions) > 0 {
		// Sorted so equal events encode to equal bytes.
		for _, name := range slices.Sorted(maps.Keys(e.Extensions)) {
			field(`,"`+name+`":`, e.Extensions[name])
		}
	}
	switch {
	case len(e.Data) == 0:
	case isJSON(ct):
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	default:
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, e.Data)
		b = append(b, '"')
	}
	return append(b, '}'), plain
}

// appendField appends prefix (`,"name":`) and value as a JSON string,
// unless value is empty; plain is as for appendJSONString.
func appendField(b []byte, prefix, value string) (_ []byte, plain bool) {
	if value == "" {
		return b, true
	}
	b = append(b, prefix...)
	return appendJSONString(b, value)
}

// appendJSONString appends s as a JSON string and reports whether it was
// plain ASCII. The fast path avoids reflection for the plain values that
// are the norm; encoding/json escapes the others (and replaces invalid
// UTF-8, which is why callers that care check it when plain is false).
func appendJSONString(b []byte, s string) (_ []byte, plain bool) {
	if !plainString(s) {
		q, _ := json.Marshal(s)
		return append(b, q...), false
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// UnmarshalJSON reads a structured-mode CloudEvent. It does not accept the
// legacy shape; use [Decode] or [DecodeValue] for that.
func (e *Event) UnmarshalJSON(b []byte) error {
	m := members{src: b}
	sc := scanner{b: b}
	if err := sc.members(m.add); err != nil {
		return decodeErr("structured", "", ErrMalformed, "%v", err)
	}
	var ev Event
	if err := fromStructured(&ev, &m, sc.ascii()); err != nil {
		return err
	}
	*e = ev
	return nil
}
