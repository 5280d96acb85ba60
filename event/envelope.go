package event

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
// On the wire it is written in structured JSON mode (see [Event.Record] and
// [Event.MarshalJSON]) or binary mode ([Event.BinaryRecord]); [Decode] reads
// both and the legacy shape. The fields may be changed freely: everything is
// validated when a record is built, never remembered from an earlier check.
type Event struct {
	// ID identifies the event; with Source it is unique. [New] sets a UUIDv7,
	// which sorts by creation time.
	ID string
	// Source names the producer, e.g. "member-service"; it must be a
	// URI-reference (no spaces, "%" only before two hex digits). The
	// [Producer] and [Outbox] use their config's Source when it is empty.
	Source string
	// Type is the kind of event, e.g. "signup-event".
	Type string
	// Subject is the aggregate the event is about (an entity id). It becomes
	// the record key, so one entity's events stay in one partition, in order.
	Subject string
	// Time is when the event happened; zero means unset.
	Time time.Time
	// DataContentType is the media type of Data; "" means application/json
	// for events built here (see [New]). An event decoded with opaque data
	// and no content type (data_base64, or a binary-mode record without
	// content-type) keeps its Data opaque: it is not taken for JSON.
	DataContentType string
	// DataSchema optionally points at the schema of Data; it must be an
	// absolute URI.
	DataSchema string
	// Data is the payload: JSON text when DataContentType is JSON, raw bytes
	// otherwise. A decoded event's Data is as the record carried it:
	// decoding does not check that JSON data is valid JSON, [DataAs] does,
	// and encoding the event again refuses it.
	Data []byte
	// Extensions holds extension attributes by name, e.g. "traceparent".
	// Names are lower-case letters and digits. Values are the attribute's
	// string form; an extension decoded as a JSON number or boolean, or set
	// with [Event.SetExtension] as an integer or boolean, is written back as
	// one in structured mode while its text still is one ("42", "true").
	// Binary mode carries every value as a header string, so types do not
	// survive it (as in every CloudEvents SDK).
	Extensions map[string]string

	// opaque marks Data as bytes of unknown type although DataContentType
	// is empty, so the encoder writes it as data_base64, not as JSON. It
	// holds only while DataContentType stays empty: a content type the
	// caller sets later decides (see opaqueData).
	opaque bool
	// kinds holds the extensions that are integers or booleans, by name;
	// absent means string.
	kinds map[string]extKind
}

// extKind is the CloudEvents type of an extension as JSON carries it.
type extKind uint8

const (
	extString extKind = iota
	extInteger
	extBoolean
)

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
	}, nil
}

// SetExtension sets extension attribute name to value, which is a string,
// a bool, an integer in the int32 range (CloudEvents Integer), a
// [time.Time] (written RFC 3339), a *[url.URL] or a []byte (written
// base64); nil removes the extension. Integers and booleans stay JSON
// numbers and booleans in structured mode.
func (e *Event) SetExtension(name string, value any) error {
	if !validExtensionName(name) {
		return fmt.Errorf("event: extension name %q must be lower-case letters or digits and not a context attribute", name)
	}
	if value == nil {
		delete(e.Extensions, name)
		delete(e.kinds, name)
		return nil
	}
	kind := extString
	var s string
	switch v := value.(type) {
	case string:
		s = v
	case bool:
		s, kind = strconv.FormatBool(v), extBoolean
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		n, err := strconv.ParseInt(fmt.Sprint(v), 10, 32)
		if err != nil {
			return fmt.Errorf("event: extension %s: %v is outside the int32 range of a CloudEvents Integer", name, v)
		}
		s, kind = strconv.FormatInt(n, 10), extInteger
	case time.Time:
		s = string(appendTime(nil, v))
	case *url.URL:
		s = v.String()
	case []byte:
		s = base64.StdEncoding.EncodeToString(v)
	default:
		return fmt.Errorf("event: extension %s: unsupported value type %T", name, value)
	}
	if e.Extensions == nil {
		e.Extensions = make(map[string]string)
	}
	e.Extensions[name] = s
	e.setKind(name, kind)
	return nil
}

func (e *Event) setKind(name string, kind extKind) {
	if kind == extString {
		delete(e.kinds, name)
		return
	}
	if e.kinds == nil {
		e.kinds = make(map[string]extKind)
	}
	e.kinds[name] = kind
}

// jsonLiteral reports whether extension name is written as a JSON number
// or boolean: its kind says so and its text still is one.
func (e *Event) jsonLiteral(name, v string) bool {
	switch e.kinds[name] {
	case extInteger:
		return isInt32(v)
	case extBoolean:
		return v == "true" || v == "false"
	}
	return false
}

// isInt32 reports whether v is an integer in the int32 range written as
// JSON writes it: an optional "-", no leading zeros, and no "-0", which
// reads back as 0.
func isInt32(v string) bool {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" || (digits[0] == '0' && len(digits) > 1) || v == "-0" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(v, 10, 32)
	return err == nil
}

// dataIsJSON reports whether Data is JSON text.
func (e *Event) dataIsJSON() bool { return !e.opaqueData() && isJSON(e.DataContentType) }

// opaqueData reports whether Data is bytes of unknown type: decoded with no
// content type, and given none since.
func (e *Event) opaqueData() bool { return e.opaque && e.DataContentType == "" }

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
// and type are set, source is a URI-reference and dataschema an absolute
// URI, attributes are valid UTF-8, JSON data is valid JSON, extension names
// are legal.
func (e *Event) Validate() error { return e.validate(e.Source, true, true) }

// validate is Validate with source standing for e.Source (the producer's
// default fills an empty one without writing to the caller's event). The
// decoder passes checkData false when its scanner has already validated the
// data's JSON, and checkText false when the record was ASCII, hence valid
// UTF-8, throughout.
func (e *Event) validate(source string, checkData, checkText bool) error {
	switch {
	case e.ID == "":
		return decodeErr("", "id", ErrInvalid, "id is empty")
	case source == "":
		return decodeErr("", "source", ErrInvalid, "source is empty")
	case e.Type == "":
		return decodeErr("", "type", ErrInvalid, "type is empty")
	case !validSource(source):
		return decodeErr("", "source", ErrInvalid, "source %q is not a URI-reference (RFC 3986): percent-encode spaces and other reserved characters", source)
	case e.DataSchema != "" && !validAbsoluteURI(e.DataSchema):
		return decodeErr("", "dataschema", ErrInvalid, "dataschema %q is not an absolute URI (RFC 3986)", e.DataSchema)
	}
	if checkText {
		for _, a := range [...]struct{ name, v string }{{"id", e.ID}, {"type", e.Type},
			{"subject", e.Subject}, {"datacontenttype", e.DataContentType}} {
			if !plainString(a.v) && !utf8.ValidString(a.v) {
				return decodeErr("", a.name, ErrInvalid, "%s is not valid UTF-8", a.name)
			}
		}
	}
	if checkData && len(e.Data) > 0 && e.dataIsJSON() && !validJSON(e.Data) {
		return decodeErr("", "data", ErrInvalid, "data is not valid JSON for content type %q", e.contentType())
	}
	if len(e.Extensions) == 0 {
		return nil // ranging over a nil map is not free
	}
	for name, v := range e.Extensions {
		if !validExtensionName(name) {
			return decodeErr("", name, ErrInvalid, "extension name %q must be lower-case letters or digits", name)
		}
		if checkText && !utf8.ValidString(v) {
			return decodeErr("", name, ErrInvalid, "%s is not valid UTF-8", name)
		}
	}
	return nil
}

// lastValidSource is the last source that passed validURIRef: producers
// and consumers see the same few sources, and a comparison is cheaper than
// checking it again. Strings are immutable, so equal means valid.
var lastValidSource atomic.Pointer[string]

func validSource(source string) bool {
	if p := lastValidSource.Load(); p != nil && *p == source {
		return true
	}
	if !validURIRef(source) {
		return false
	}
	valid := source // only this copy escapes, and only on a change
	lastValidSource.Store(&valid)
	return true
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

// validJSON reports whether b is one JSON value, as json.Valid does, with
// the envelope's scanner, which is several times faster.
func validJSON(b []byte) bool {
	sc := scanner{b: b}
	sc.ws()
	return sc.value() == nil && sc.end() == nil
}

// MarshalJSON writes the event in CloudEvents structured JSON mode. JSON
// data stays a JSON value under "data" (so consumers that read the legacy
// "data" field keep working); other data goes base64 under "data_base64".
func (e *Event) MarshalJSON() ([]byte, error) {
	if len(e.Data) > 0 && e.dataIsJSON() && !validJSON(e.Data) {
		return nil, decodeErr("structured", "data", ErrInvalid, "data is not valid JSON")
	}
	b, _ := e.appendStructured(make([]byte, 0, e.structuredSize(e.Source)), e.Source)
	return b, nil
}

// contentType is DataContentType, defaulted for JSON data that has none.
func (e *Event) contentType() string {
	if e.DataContentType == "" && len(e.Data) > 0 && !e.opaqueData() {
		return ContentTypeJSON
	}
	return e.DataContentType
}

// maxPunctuation is what structured mode adds around the attribute values
// at most: every member's name, quotes and commas, and the longest RFC 3339
// time (35 bytes, nanoseconds and an offset).
const maxPunctuation = len(`{"specversion":"1.0"}`) + len(`,"id":""`) + len(`,"source":""`) + len(`,"type":""`) +
	len(`,"time":""`) + maxTimeLen + len(`,"subject":""`) + len(`,"datacontenttype":""`) + len(`,"dataschema":""`) +
	len(`,"data_base64":""`)

// maxTimeLen is the longest RFC 3339 time with nanoseconds and an offset.
const maxTimeLen = 35

// structuredSize bounds the encoded size of e when no attribute needs
// escaping, so encoding fills one buffer without growing it.
func (e *Event) structuredSize(source string) int {
	size := maxPunctuation + len(e.ID) + len(source) + len(e.Type) + len(e.Subject) +
		len(e.DataContentType) + len(e.DataSchema)
	if len(e.Extensions) > 0 { // ranging over a nil map is not free
		for name, v := range e.Extensions {
			size += len(`,"":""`) + len(name) + len(v)
		}
	}
	if e.dataIsJSON() {
		return size + len(e.Data)
	}
	return size + base64.StdEncoding.EncodedLen(len(e.Data))
}

// appendStructured appends e in structured mode to b, with source for
// e.Source; the caller has validated e. Encoding runs once per published event, so it appends
// straight into the caller's buffer. plain reports whether every attribute
// value was plain ASCII, which spares a separate UTF-8 check.
func (e *Event) appendStructured(b []byte, source string) (_ []byte, plain bool) {
	plain = true
	// prefix is `,"name":`, whole, so each member is two appends.
	field := func(prefix, value string) {
		var ok bool
		b, ok = appendField(b, prefix, value)
		plain = plain && ok
	}
	b = append(b, `{"specversion":"1.0"`...)
	field(`,"id":`, e.ID)
	field(`,"source":`, source)
	field(`,"type":`, e.Type)
	if !e.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = appendTime(b, e.Time)
		b = append(b, '"')
	}
	field(`,"subject":`, e.Subject)
	// An absent content type stays absent: the format implies JSON for
	// "data", and data_base64 carries opaque bytes.
	field(`,"datacontenttype":`, e.DataContentType)
	field(`,"dataschema":`, e.DataSchema)
	if len(e.Extensions) > 0 {
		// Sorted so equal events encode to equal bytes. An empty value is
		// an extension set to "", not an absent one.
		for _, name := range slices.Sorted(maps.Keys(e.Extensions)) {
			v := e.Extensions[name]
			b = append(b, `,"`...)
			b = append(b, name...)
			b = append(b, `":`...)
			if e.jsonLiteral(name, v) {
				b = append(b, v...)
				continue
			}
			var ok bool
			b, ok = appendJSONString(b, v)
			plain = plain && ok
		}
	}
	switch {
	case len(e.Data) == 0:
	case e.dataIsJSON():
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

// UnmarshalJSON reads a structured-mode CloudEvent, checked as [Decode]
// checks it: everything but the data, which is checked when read. It does
// not accept the legacy shape; use [Decode] or [DecodeValue] for that.
func (e *Event) UnmarshalJSON(b []byte) error {
	m := members{src: b}
	sc := scanner{b: b, lazyData: true}
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
