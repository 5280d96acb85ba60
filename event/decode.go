package event

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header names of the CloudEvents Kafka protocol binding.
const (
	// HeaderContentType is the record header holding the content type:
	// application/cloudevents+json in structured mode, the data's media
	// type in binary mode.
	HeaderContentType = "content-type"
	// HeaderPrefix starts every context-attribute header in binary mode,
	// e.g. ce_id, ce_type.
	HeaderPrefix = "ce_"
	// ContentTypeCloudEvents is the structured-mode content type.
	ContentTypeCloudEvents = "application/cloudevents+json"
)

// Decode reads the event in a record. As the CloudEvents Kafka protocol
// binding says, the content-type header decides the mode:
//
//   - structured mode when it is application/cloudevents+json: the value is
//     a JSON object with "specversion" (ce_* headers beside it are ignored);
//   - binary mode otherwise, when a ce_specversion header is present: the
//     attributes are in ce_* headers, the data is the value and its media
//     type the content-type header (header names in any case); with no
//     content-type the data is opaque bytes, not JSON;
//   - with neither, a JSON object with "specversion" is read in structured
//     mode, and the legacy shape {"uuid": ..., "data": ...} as follows: uuid
//     becomes the id, the record's topic the type, [LegacySource] the source
//     and the record timestamp the time.
//
// Everything but the data is checked. The data is checked when it is read:
// in binary mode it is the value, and in structured mode only the end of
// the value under "data" is found (following strings and brackets), not
// its JSON validated, which would cost more than the rest of decoding.
// [DataAs] reports data that is not JSON as a [*DecodeError], and encoding
// the event again refuses it.
//
// Every failure is a [*DecodeError].
func Decode(r *kgo.Record) (*Event, error) {
	return DecodeValue(r.Topic, r.Value, r.Headers, r.Timestamp)
}

// DecodeValue is [Decode] over the parts of a record; topic and ts are only
// used for legacy events.
func DecodeValue(topic string, value []byte, headers []kgo.RecordHeader, ts time.Time) (*Event, error) {
	e := new(Event)
	if err := decodeInto(e, topic, value, headers, ts, nil); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeInto is [DecodeValue] into a zero Event the caller allocated, so
// the router can allocate events together with their messages; a cuts the
// event's own strings (id, subject) from shared blocks, nil allocates them.
func decodeInto(e *Event, topic string, value []byte, headers []kgo.RecordHeader, ts time.Time, a *strArena) error {
	if len(headers) > 0 {
		if binary, err := decodeBinary(e, value, headers, a); binary {
			return err
		}
	}
	if decodeShaped(e, value, a) {
		return nil
	}
	return decodeJSON(e, topic, value, ts, true, a)
}

// decodeJSON decodes a JSON value, structured or legacy, scanning it all;
// learn lets it remember the shape of a structured record (see shape.go).
func decodeJSON(e *Event, topic string, value []byte, ts time.Time, learn bool, a *strArena) error {
	m := members{src: value, arena: a}
	// The data's JSON is checked when it is read, not here (see skipComposite).
	sc := scanner{b: value, lazyData: true}
	if err := sc.members(m.add); err != nil {
		return decodeErr("", "", ErrUnknownFormat, "value is not a JSON object: %v", err)
	}
	// Text cut from an ASCII value is valid UTF-8; escapes decode to valid
	// UTF-8 too.
	ascii := sc.ascii()
	if m.has(mSpecVersion) {
		if err := fromStructured(e, &m, ascii); err != nil {
			return err
		}
		if learn {
			learnShape(e, &m)
		}
		return nil
	}
	if m.has(mUUID) {
		return fromLegacy(e, topic, &m, ts, ascii)
	}
	return decodeErr("", "", ErrUnknownFormat, "JSON object has neither specversion nor uuid")
}

// Header kinds of the Kafka protocol binding.
const (
	hOther = iota
	hContentType
	hSpecVersion
	hID
	hSource
	hType
	hSubject
	hTime
	hDataSchema
	hDataContentType
	hExtension
)

// headerAttr tells what a header key is, and for an extension its name.
// The binding's own spellings are a switch on the whole key; other cases
// ("Content-Type", "CE_ID") take the slower path.
func headerAttr(key string) (int, string) {
	switch key {
	case HeaderContentType:
		return hContentType, ""
	case "ce_specversion":
		return hSpecVersion, ""
	case "ce_id":
		return hID, ""
	case "ce_source":
		return hSource, ""
	case "ce_type":
		return hType, ""
	case "ce_subject":
		return hSubject, ""
	case "ce_time":
		return hTime, ""
	}
	if isContentTypeKey(key) {
		return hContentType, ""
	}
	name := ceName(key)
	switch name {
	case "":
		return hOther, ""
	case "specversion":
		return hSpecVersion, ""
	case "id":
		return hID, ""
	case "source":
		return hSource, ""
	case "type":
		return hType, ""
	case "subject":
		return hSubject, ""
	case "time":
		return hTime, ""
	case "dataschema":
		return hDataSchema, ""
	case "datacontenttype":
		return hDataContentType, ""
	}
	return hExtension, name
}

// isContentTypeKey reports whether a header key is content-type, in any
// case (HTTP habits reach Kafka headers as "Content-Type").
func isContentTypeKey(key string) bool {
	return len(key) == len(HeaderContentType) && strings.EqualFold(key, HeaderContentType)
}

// isStructuredType reports whether a content type is structured mode's.
func isStructuredType(v []byte) bool {
	switch string(v) {
	case ContentTypeCloudEvents:
		return true
	case ContentTypeJSON:
		return false
	}
	mt, _, _ := bytes.Cut(v, []byte(";"))
	mt = bytes.TrimSpace(mt)
	return len(mt) == len(ContentTypeCloudEvents) && strings.EqualFold(string(mt), ContentTypeCloudEvents)
}

// ceName is the attribute name of a ce_* header key, lower-cased as the
// binding's attribute names are; "" for other keys.
func ceName(key string) string {
	if len(key) < 4 || key[0]|0x20 != 'c' || key[1]|0x20 != 'e' || key[2] != '_' {
		return ""
	}
	name := key[3:]
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// Known members of an envelope object.
const (
	mSpecVersion = iota
	mID
	mSource
	mType
	mSubject
	mTime
	mDataContentType
	mDataSchema
	mData
	mDataBase64
	mUUID
	numMembers
)

// memberOf is the index of a known member name, -1 for others. A switch
// compiles to length and byte comparisons, cheaper than hashing per key.
func memberOf(name []byte) int {
	switch string(name) {
	case "specversion":
		return mSpecVersion
	case "id":
		return mID
	case "source":
		return mSource
	case "type":
		return mType
	case "subject":
		return mSubject
	case "time":
		return mTime
	case "datacontenttype":
		return mDataContentType
	case "dataschema":
		return mDataSchema
	case "data":
		return mData
	case "data_base64":
		return mDataBase64
	case "uuid":
		return mUUID
	}
	return -1
}

// memberNames maps an index back to its name for error messages.
var memberNames = [numMembers]string{
	mSpecVersion: "specversion", mID: "id", mSource: "source", mType: "type", mSubject: "subject",
	mTime: "time", mDataContentType: "datacontenttype", mDataSchema: "dataschema", mData: "data",
	mDataBase64: "data_base64", mUUID: "uuid",
}

// members holds the raw values of an envelope object's members as ranges of
// src. Attribute strings are cut from one string copy of src, so decoding
// allocates once for all of them.
type members struct {
	src   []byte
	arena *strArena // for the id and subject
	whole string
	known [numMembers]span
	set   [numMembers]bool
	dup   bool      // a known member appeared twice (the last one counts)
	other [][2]span // unknown members: key, value
}

func (m *members) add(key, val span) {
	// Attribute names never need unescaping; the conversion in the map
	// index does not allocate.
	if idx := memberOf(m.src[key.from+1 : key.to-1]); idx >= 0 {
		m.dup = m.dup || m.set[idx]
		m.known[idx], m.set[idx] = val, true
		return
	}
	m.other = append(m.other, [2]span{key, val})
}

func (m *members) has(idx int) bool { return m.set[idx] }

// raw is the JSON text of sp, sharing src.
func (m *members) raw(sp span) []byte { return m.src[sp.from:sp.to] }

// text is the JSON text of sp as a string.
func (m *members) text(sp span) string {
	if m.whole == "" {
		m.whole = string(m.src)
	}
	return m.whole[sp.from:sp.to]
}

// rawOf is the JSON text of a known member, nil when absent or null.
func (m *members) rawOf(idx int) []byte {
	if !m.set[idx] {
		return nil
	}
	if r := m.raw(m.known[idx]); string(r) != "null" {
		return r
	}
	return nil
}

// str returns a string member; absent and null are "".
func (m *members) str(mode string, idx int) (string, error) {
	if m.rawOf(idx) == nil {
		return "", nil
	}
	s, ok := unquote(m.text(m.known[idx]))
	if !ok {
		name := memberNames[idx]
		return "", decodeErr(mode, name, ErrMalformed, "%s is not a string", name)
	}
	return s, nil
}

// attributes sets e's string attributes. The ones that repeat from event to
// event are interned; the others (id, subject) share one allocation.
func (m *members) attributes(mode string, e *Event) error {
	var (
		unique [2]pending
		n      int
	)
	for idx, dst := range [...]*string{mID: &e.ID, mSource: &e.Source, mType: &e.Type, mSubject: &e.Subject,
		mDataContentType: &e.DataContentType, mDataSchema: &e.DataSchema} {
		raw := m.rawOf(idx)
		switch {
		case dst == nil || raw == nil:
		case raw[0] != '"':
			name := memberNames[idx]
			return decodeErr(mode, name, ErrMalformed, "%s is not a string", name)
		case bytes.IndexByte(raw, '\\') >= 0:
			*dst, _ = unquote(string(raw)) // the scanner validated the escapes
		case idx == mID || idx == mSubject:
			unique[n] = pending{dst, raw[1 : len(raw)-1]}
			n++
		default:
			*dst = intern(raw[1 : len(raw)-1])
		}
	}
	m.arena.set(unique[:n])
	return nil
}

// decodeBinary decodes a binary-mode record into e, which must be zero,
// and reports true, or reports false, leaving e zero, when the headers do
// not make one: a binary-mode record has a ce_specversion header and no
// structured content type. One pass over the headers decides that and
// reads the attributes.
func decodeBinary(e *Event, value []byte, headers []kgo.RecordHeader, a *strArena) (bool, error) {
	const mode = "binary"
	var (
		id, subject []byte // allocated together at the end
		hasCT       bool
		binary      bool
		high        uint64 // the attribute bytes ORed in words: tells ASCII text, hence valid UTF-8
		invalid     error  // the first bad attribute, reported once the mode is known
		wrote       bool   // e is no longer zero
	)
	for i := range headers {
		h := &headers[i]
		attr, name := headerAttr(h.Key)
		if attr == hOther {
			continue
		}
		if attr == hContentType && isStructuredType(h.Value) {
			// Cleared only if written: clearing costs write barriers
			// while the collector runs, and structured records pass here.
			if wrote {
				*e = Event{}
			}
			return false, nil
		}
		if attr != hExtension {
			high |= orBytes(h.Value)
		}
		wrote = true
		switch attr {
		case hContentType:
			e.DataContentType, hasCT = recentContentType.intern(h.Value), true
		case hSpecVersion:
			binary = true
			if string(h.Value) != SpecVersion && invalid == nil {
				invalid = decodeErr(mode, "specversion", ErrInvalid, "specversion %q is not %s", h.Value, SpecVersion)
			}
		case hID:
			id = h.Value
		case hSubject:
			subject = h.Value
		case hSource:
			e.Source = recentSource.intern(h.Value)
		case hType:
			e.Type = recentType.intern(h.Value)
		case hDataSchema:
			e.DataSchema = string(h.Value)
		case hDataContentType:
			if !hasCT {
				e.DataContentType = recentContentType.intern(h.Value)
			}
		case hTime:
			t, err := parseTime(h.Value)
			if err != nil && invalid == nil {
				invalid = decodeErr(mode, "time", ErrInvalid, "time %q is not RFC 3339", h.Value)
			}
			e.Time = t
		case hExtension:
			if e.Extensions == nil {
				e.Extensions = make(map[string]string)
			}
			e.Extensions[name] = string(h.Value)
		}
	}
	if !binary {
		if wrote {
			*e = Event{}
		}
		return false, nil
	}
	if invalid != nil {
		return true, invalid
	}
	a.set([]pending{{&e.ID, id}, {&e.Subject, subject}})
	if len(value) > 0 {
		e.Data = value
		// With no content type the binding says nothing of the data: it is
		// kept as bytes, not taken for JSON.
		e.opaque = e.DataContentType == ""
	}
	// The data is the value, apart from the envelope: it is checked when
	// read ([DataAs] reports invalid JSON as a DecodeError, which the
	// router dead-letters) and whenever the event is encoded again, not
	// here, so a consumer that routes by attributes never parses it.
	return true, validated(mode, e, false, high&highBits != 0 || len(e.Extensions) > 0)
}

// orBytes ORs the bytes of b into a word, eight at a time: any of its
// highBits set says a byte is not ASCII. Callers OR the words of several
// values and test once. The tail is read as a word overlapping the last
// full one (ORing a byte twice changes nothing), not byte by byte: header
// values are short, and their tails were a third of the work.
func orBytes(b []byte) uint64 {
	n := len(b)
	switch {
	case n >= 8:
		w := binary.LittleEndian.Uint64(b[n-8:])
		for ; len(b) >= 8; b = b[8:] {
			w |= binary.LittleEndian.Uint64(b)
		}
		return w
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b) | binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		return uint64(b[0] | b[n/2] | b[n-1])
	}
	return 0
}

// highBits is the top bit of every byte of a word.
const highBits = 0x8080808080808080

// pending is a string attribute whose value is still bytes of the record.
type pending struct {
	dst   *string
	inner []byte
}

// strArena cuts strings from shared blocks, so the id and subject of many
// events cost one allocation per block instead of one per event. A block is
// a strings.Builder: only appended to, so the strings cut from it never
// change, and not zeroed when allocated. A string kept alive keeps its
// block alive. One arena serves one goroutine.
type strArena struct {
	block strings.Builder
}

// arenaBlock is the size of an arena's blocks: the id and subject of about
// a hundred events, small enough that a few strings kept by a handler do
// not pin much memory.
const arenaBlock = 4 << 10

// set sets the pending attributes from one copy of their bytes: cut from
// a's block, or a string of their own when a is nil or they are large.
func (a *strArena) set(ps []pending) {
	size := 0
	for _, p := range ps {
		size += len(p.inner)
	}
	if size == 0 {
		return
	}
	if a != nil && size <= arenaBlock/8 {
		if a.block.Cap()-a.block.Len() < size {
			a.block = strings.Builder{}
			a.block.Grow(arenaBlock)
		}
		from := a.block.Len()
		for _, p := range ps {
			a.block.Write(p.inner)
		}
		all := a.block.String()[from:]
		for _, p := range ps {
			*p.dst, all = all[:len(p.inner)], all[len(p.inner):]
		}
		return
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, p := range ps {
		sb.Write(p.inner)
	}
	all := sb.String()
	for _, p := range ps {
		*p.dst, all = all[:len(p.inner)], all[len(p.inner):]
	}
}

// validated validates a decoded event and stamps the mode on its error;
// checkData and checkText are as for [Event.validate].
func validated(mode string, e *Event, checkData, checkText bool) error {
	if err := e.validate(e.Source, checkData, checkText); err != nil {
		err.(*DecodeError).Mode = mode
		return err
	}
	return nil
}

func fromStructured(e *Event, m *members, ascii bool) error {
	const mode = "structured"
	if string(m.rawOf(mSpecVersion)) != `"`+SpecVersion+`"` {
		sv, err := m.str(mode, mSpecVersion)
		if err != nil {
			return err
		}
		if sv != SpecVersion {
			return decodeErr(mode, "specversion", ErrInvalid, "specversion %q is not %s", sv, SpecVersion)
		}
	}
	if err := m.attributes(mode, e); err != nil {
		return err
	}
	if raw := m.rawOf(mTime); raw != nil {
		var err error
		switch {
		case raw[0] != '"':
			return decodeErr(mode, "time", ErrMalformed, "time is not a string")
		case bytes.IndexByte(raw, '\\') < 0:
			e.Time, err = parseTime(raw[1 : len(raw)-1])
		default:
			ts, _ := unquote(string(raw)) // the scanner validated the escapes
			e.Time, err = parseTime(ts)
		}
		if err != nil {
			return decodeErr(mode, "time", ErrInvalid, "time %s is not RFC 3339", raw)
		}
	}
	switch raw := m.rawOf(mData); {
	case m.has(mDataBase64) && raw != nil:
		return decodeErr(mode, "data_base64", ErrInvalid, "data and data_base64 are both present")
	case m.has(mDataBase64):
		s, err := m.str(mode, mDataBase64)
		if err != nil {
			return err
		}
		if e.Data, err = base64.StdEncoding.DecodeString(s); err != nil {
			return decodeErr(mode, "data_base64", ErrMalformed, "data_base64: %v", err)
		}
		if len(e.Data) == 0 {
			e.Data = nil
		}
		// Base64 data with no content type is bytes of unknown type.
		e.opaque = e.DataContentType == ""
	case m.has(mData) && isJSON(e.DataContentType):
		e.Data = m.raw(m.known[mData]) // JSON null too: it is data, as json.Marshal(nil) makes
	case raw != nil:
		// Non-JSON data in structured mode is a JSON string holding the text.
		s, err := m.str(mode, mData)
		if err != nil {
			return decodeErr(mode, "data", ErrMalformed, "data of type %q must be a JSON string", e.DataContentType)
		}
		e.Data = []byte(s)
	}
	if m.has(mUUID) {
		// Not a CloudEvents attribute: an extension like any other.
		if err := e.extension(mode, "uuid", m.raw(m.known[mUUID])); err != nil {
			return err
		}
	}
	for _, kv := range m.other {
		name, _ := unquote(m.text(kv[0]))
		if err := e.extension(mode, name, m.raw(kv[1])); err != nil {
			return err
		}
	}
	// The data is not checked here, whatever its form: JSON data is
	// checked when read ([DataAs]) or encoded again, as in binary mode.
	return validated(mode, e, false, !ascii)
}

// extension sets the extension name from its raw JSON value: null leaves it
// unset, as the JSON format says; a number must be a CloudEvents Integer
// and keeps its kind, as a boolean does, so re-encoding writes it back as
// it came.
func (e *Event) extension(mode, name string, raw []byte) error {
	// Checked here, in record order, so the error names the first bad one.
	if !validExtensionName(name) {
		return decodeErr(mode, name, ErrInvalid, "extension name %q must be lower-case letters or digits", name)
	}
	kind := extString
	var v string
	switch raw[0] {
	case 'n':
		return nil
	case '"':
		v, _ = unquote(string(raw)) // the scanner validated the escapes
	case 't', 'f':
		v, kind = string(raw), extBoolean
	case '{', '[':
		return decodeErr(mode, name, ErrInvalid, "extension %s is a JSON object or array; extension values are strings, numbers or booleans", name)
	default:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return decodeErr(mode, name, ErrInvalid, "extension %s is %s, not an integer in the int32 range (CloudEvents Integer)", name, raw)
		}
		v, kind = strconv.FormatInt(int64(f), 10), extInteger
	}
	if e.Extensions == nil {
		e.Extensions = make(map[string]string)
	}
	e.Extensions[name] = v
	e.setKind(name, kind)
	return nil
}

func fromLegacy(e *Event, topic string, m *members, ts time.Time, ascii bool) error {
	const mode = "legacy"
	id, ok := unquote(m.text(m.known[mUUID]))
	if !ok {
		return decodeErr(mode, "uuid", ErrMalformed, "uuid is not a string")
	}
	*e = Event{ID: id, Source: LegacySource, Type: topic, Time: ts, DataContentType: ContentTypeJSON}
	if m.has(mData) {
		e.Data = m.raw(m.known[mData])
	}
	return validated(mode, e, false, !ascii)
}

// ContentMode is how an event is laid out in a record, per the CloudEvents
// Kafka protocol binding.
type ContentMode uint8

const (
	// Structured writes the whole event as one JSON object in the record
	// value, with content-type application/cloudevents+json. It is the
	// default: any consumer that reads JSON can read it, and the data stays
	// under "data", where consumers of the legacy shape read it.
	Structured ContentMode = iota
	// Binary writes the attributes as ce_* headers and the data, as it is,
	// as the value, with its media type in content-type. Consumers that read
	// only values see just the data, and decoding skips the JSON envelope:
	// the cheapest mode to consume.
	Binary
)

// String is the mode's name.
func (m ContentMode) String() string {
	switch m {
	case Structured:
		return "structured"
	case Binary:
		return "binary"
	}
	return "ContentMode(" + strconv.Itoa(int(m)) + ")"
}

// Validate reports a mode that is neither [Structured] nor [Binary].
func (m ContentMode) Validate() error {
	if m > Binary {
		return fmt.Errorf("event: unknown content mode %d (want event.Structured or event.Binary)", m)
	}
	return nil
}

// structuredHeaders is the header list of every structured-mode record.
// Records share it: franz-go never writes to headers, and its capacity of
// one makes an append (a traceparent) copy it first.
var structuredHeaders = []kgo.RecordHeader{{Key: HeaderContentType, Value: []byte(ContentTypeCloudEvents)}}

// specVersionValue is the ce_specversion header value, shared likewise.
var specVersionValue = []byte(SpecVersion)

// Record returns the event as a structured-mode record for topic, keyed by
// the subject (nil key when the subject is empty). The event is validated
// first, data included. Key and value share one allocation.
func (e *Event) Record(topic string) (*kgo.Record, error) {
	r, err := e.record(topic, e.Source, Structured)
	if err != nil {
		return nil, errInvalidEvent("encode", "for", topic, e, err)
	}
	return r, nil
}

// BinaryRecord returns the event as a binary-mode record for topic: the
// attributes in ce_* headers (extensions as strings), the data, copied, as
// the value and its media type in the content-type header. It is keyed and
// validated as [Event.Record].
func (e *Event) BinaryRecord(topic string) (*kgo.Record, error) {
	r, err := e.record(topic, e.Source, Binary)
	if err != nil {
		return nil, errInvalidEvent("encode", "for", topic, e, err)
	}
	return r, nil
}

// record builds e's record in mode. source stands for e.Source when that is
// empty: the producer's default fills it without writing to the caller's
// event, which other goroutines may be publishing too.
func (e *Event) record(topic, source string, mode ContentMode) (*kgo.Record, error) {
	if e.Source != "" {
		source = e.Source
	}
	switch mode {
	case Structured:
		return e.structuredRecord(topic, source)
	case Binary:
		return e.binaryRecord(topic, source)
	}
	return nil, mode.Validate()
}

func (e *Event) structuredRecord(topic, source string) (*kgo.Record, error) {
	// Encoding tells whether every attribute is plain ASCII; only when one
	// is not does its UTF-8 need checking.
	if err := e.validate(source, true, false); err != nil {
		return nil, err
	}
	n := len(e.Subject)
	buf := make([]byte, n, n+e.structuredSize(source))
	copy(buf, e.Subject)
	buf, plain := e.appendStructured(buf, source)
	if !plain {
		if err := e.validate(source, false, true); err != nil {
			return nil, err
		}
	}
	r := &kgo.Record{Topic: topic, Value: buf[n:], Headers: structuredHeaders[:1:1]}
	if n > 0 {
		r.Key = buf[:n:n]
	}
	return r, nil
}

func (e *Event) binaryRecord(topic, source string) (*kgo.Record, error) {
	if err := e.validate(source, true, true); err != nil {
		return nil, err
	}
	ct := e.contentType()
	size := len(e.Subject) + len(e.Data) + len(e.ID) + len(source) + len(e.Type) + maxTimeLen +
		len(e.DataSchema) + len(ct)
	nh := 4 + len(e.Extensions) + 4 // the fixed four, extensions, the optional four
	for _, v := range e.Extensions {
		size += len(v)
	}
	// One buffer holds key, value and every header value; one more slot in
	// the headers lets a traceparent be appended without a copy.
	buf := make([]byte, 0, size)
	headers := make([]kgo.RecordHeader, 0, nh+1)
	appendString := func(s string) []byte {
		from := len(buf)
		buf = append(buf, s...)
		return buf[from:len(buf):len(buf)]
	}
	r := &kgo.Record{Topic: topic}
	if e.Subject != "" {
		r.Key = appendString(e.Subject)
	}
	if len(e.Data) > 0 {
		from := len(buf)
		buf = append(buf, e.Data...)
		r.Value = buf[from:len(buf):len(buf)]
	}
	header := func(key string, value []byte) {
		headers = append(headers, kgo.RecordHeader{Key: key, Value: value})
	}
	header(HeaderPrefix+"specversion", specVersionValue)
	header(HeaderPrefix+"id", appendString(e.ID))
	header(HeaderPrefix+"source", appendString(source))
	header(HeaderPrefix+"type", appendString(e.Type))
	if !e.Time.IsZero() {
		from := len(buf)
		buf = appendTime(buf, e.Time)
		header(HeaderPrefix+"time", buf[from:len(buf):len(buf)])
	}
	if e.Subject != "" {
		header(HeaderPrefix+"subject", r.Key)
	}
	if e.DataSchema != "" {
		header(HeaderPrefix+"dataschema", appendString(e.DataSchema))
	}
	if ct != "" {
		header(HeaderContentType, appendString(ct))
	}
	if len(e.Extensions) > 0 {
		for _, name := range slices.Sorted(maps.Keys(e.Extensions)) {
			header(HeaderPrefix+name, appendString(e.Extensions[name]))
		}
	}
	r.Headers = headers
	return r, nil
}

// DataAs decodes the event's JSON data into a T. When T (or *T) has a
// Validate() error method, it is called on the result, so a type can
// reject what JSON alone accepts, such as a missing required field. Every
// failure is a [*DecodeError], which the router dead-letters without
// retrying: ErrMalformed when the data is not valid JSON (decoding a
// record leaves that to be checked here) or does not decode into a T,
// ErrInvalid when its content type is not JSON or Validate rejects it (the
// error wraps Validate's).
func DataAs[T any](e *Event) (T, error) {
	var v T
	if e.DataContentType != "" && !isJSON(e.DataContentType) {
		return v, decodeErr("", "data", ErrInvalid, "data of type %q is not JSON", e.DataContentType)
	}
	if err := json.Unmarshal(e.Data, &v); err != nil {
		if e.opaqueData() {
			return v, decodeErr("", "data", ErrMalformed, "data has no content type and is not JSON: %v", err)
		}
		return v, decodeErr("", "data", ErrMalformed, "data into %T: %v", v, err)
	}
	if err := validateData(&v); err != nil {
		return v, decodeErr("", "data", ErrInvalid, "%T rejected the data: %w", v, err)
	}
	return v, nil
}

// validateData calls Validate on *p, or on p for a pointer receiver, when
// the type has one. A nil pointer (the data was null) is refused rather
// than handed to a method that may not expect it.
func validateData[T any](p *T) error {
	type validator interface{ Validate() error }
	switch v := any(*p).(type) {
	case validator:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return errors.New("data is null")
		}
		return v.Validate()
	}
	if v, ok := any(p).(validator); ok {
		return v.Validate()
	}
	return nil
}
