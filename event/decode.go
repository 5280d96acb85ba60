package event

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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

// Decode reads the event in a record. It understands, in order:
//
//   - binary mode: a ce_specversion header, attributes in ce_* headers, the
//     data in the value and its media type in the content-type header;
//   - structured mode: a JSON object with "specversion";
//   - the legacy shape {"uuid": ..., "data": ...}: uuid becomes the id, the
//     record's topic the type, [LegacySource] the source and the record
//     timestamp the time.
//
// Every failure is a [*DecodeError].
func Decode(r *kgo.Record) (*Event, error) {
	return DecodeValue(r.Topic, r.Value, r.Headers, r.Timestamp)
}

// DecodeValue is [Decode] over the parts of a record; topic and ts are only
// used for legacy events.
func DecodeValue(topic string, value []byte, headers []kgo.RecordHeader, ts time.Time) (*Event, error) {
	e := new(Event)
	if err := decodeInto(e, topic, value, headers, ts); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeInto is [DecodeValue] into an Event the caller allocated, so the
// router can allocate an event together with its message.
func decodeInto(e *Event, topic string, value []byte, headers []kgo.RecordHeader, ts time.Time) error {
	for _, h := range headers {
		if h.Key == HeaderPrefix+"specversion" {
			return decodeBinary(e, value, headers)
		}
	}
	m := members{src: value}
	sc := scanner{b: value}
	if err := sc.members(m.add); err != nil {
		return decodeErr("", "", ErrUnknownFormat, "value is not a JSON object: %v", err)
	}
	// Text cut from an ASCII value is valid UTF-8; escapes decode to valid
	// UTF-8 too.
	ascii := sc.ascii()
	if m.has(mSpecVersion) {
		return fromStructured(e, &m, ascii)
	}
	if m.has(mUUID) {
		return fromLegacy(e, topic, &m, ts, ascii)
	}
	return decodeErr("", "", ErrUnknownFormat, "JSON object has neither specversion nor uuid")
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
	whole string
	known [numMembers]span
	set   [numMembers]bool
	other [][2]span // unknown members: key, value
}

func (m *members) add(key, val span) {
	// Attribute names never need unescaping; the conversion in the map
	// index does not allocate.
	if idx := memberOf(m.src[key.from+1 : key.to-1]); idx >= 0 {
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
	type pending struct {
		dst   *string
		inner []byte
	}
	var (
		unique [2]pending
		n      int
		size   int
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
			size += len(raw) - 2
		default:
			*dst = intern(raw[1 : len(raw)-1])
		}
	}
	if n > 0 {
		var sb strings.Builder
		sb.Grow(size)
		for _, p := range unique[:n] {
			sb.Write(p.inner)
		}
		all := sb.String()
		for _, p := range unique[:n] {
			*p.dst, all = all[:len(p.inner)], all[len(p.inner):]
		}
	}
	return nil
}

func decodeBinary(e *Event, value []byte, headers []kgo.RecordHeader) error {
	const mode = "binary"
	*e = Event{Data: value}
	for _, h := range headers {
		if h.Key == HeaderContentType {
			e.DataContentType = string(h.Value)
			continue
		}
		name, ok := strings.CutPrefix(h.Key, HeaderPrefix)
		if !ok {
			continue
		}
		v := string(h.Value)
		switch name {
		case "specversion":
			if v != SpecVersion {
				return decodeErr(mode, name, ErrInvalid, "specversion %q is not %s", v, SpecVersion)
			}
		case "id":
			e.ID = v
		case "source":
			e.Source = v
		case "type":
			e.Type = v
		case "subject":
			e.Subject = v
		case "dataschema":
			e.DataSchema = v
		case "datacontenttype":
			e.DataContentType = v
		case "time":
			t, err := parseTime(v)
			if err != nil {
				return decodeErr(mode, name, ErrInvalid, "time %q is not RFC 3339", v)
			}
			e.Time = t
		default:
			if e.Extensions == nil {
				e.Extensions = make(map[string]string)
			}
			e.Extensions[name] = v
		}
	}
	if len(e.Data) == 0 {
		e.Data = nil
	}
	return validated(mode, e, true, true)
}

// validated validates a decoded event and stamps the mode on its error;
// checkData and checkText are as for [Event.validate].
func validated(mode string, e *Event, checkData, checkText bool) error {
	if err := e.validate(checkData, checkText); err != nil {
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
	if m.has(mDataBase64) {
		s, err := m.str(mode, mDataBase64)
		if err != nil {
			return err
		}
		if e.Data, err = base64.StdEncoding.DecodeString(s); err != nil {
			return decodeErr(mode, "data_base64", ErrMalformed, "data_base64: %v", err)
		}
	} else if raw := m.rawOf(mData); raw != nil {
		e.Data = raw
		if !isJSON(e.DataContentType) {
			// Non-JSON data in structured mode is a JSON string holding the text.
			s, err := m.str(mode, mData)
			if err != nil {
				return decodeErr(mode, "data", ErrMalformed, "data of type %q must be a JSON string", e.DataContentType)
			}
			e.Data = []byte(s)
		}
	}
	ext := func(name string, val span) {
		if e.Extensions == nil {
			e.Extensions = make(map[string]string)
		}
		s, ok := unquote(m.text(val))
		if !ok {
			s = m.text(val) // numbers, booleans (and objects, which Validate rejects) keep their JSON text
		}
		e.Extensions[name] = s
	}
	if m.has(mUUID) {
		ext("uuid", m.known[mUUID]) // not a CloudEvents attribute: an extension like any other
	}
	for _, kv := range m.other {
		name, _ := unquote(m.text(kv[0]))
		ext(name, kv[1])
	}
	return validated(mode, e, m.has(mDataBase64), !ascii)
}

func fromLegacy(e *Event, topic string, m *members, ts time.Time, ascii bool) error {
	const mode = "legacy"
	id, ok := unquote(m.text(m.known[mUUID]))
	if !ok {
		return decodeErr(mode, "uuid", ErrMalformed, "uuid is not a string")
	}
	*e = Event{ID: id, Source: LegacySource, Type: topic, Time: ts, DataContentType: ContentTypeJSON}
	if raw := m.rawOf(mData); raw != nil {
		e.Data = raw
	}
	return validated(mode, e, false, !ascii)
}

// structuredHeaders is the header list of every structured-mode record.
// Records share it: franz-go never writes to headers, and its capacity of
// one makes an append (a traceparent) copy it first.
var structuredHeaders = []kgo.RecordHeader{{Key: HeaderContentType, Value: []byte(ContentTypeCloudEvents)}}

// Record returns the event as a structured-mode record for topic, keyed by
// the subject (nil key when the subject is empty). Key and value share one
// allocation.
func (e *Event) Record(topic string) (*kgo.Record, error) {
	// Encoding tells whether every attribute is plain ASCII; only when one
	// is not does its UTF-8 need checking.
	if err := e.validate(true, false); err != nil {
		return nil, err
	}
	n := len(e.Subject)
	buf := make([]byte, n, n+e.structuredSize())
	copy(buf, e.Subject)
	buf, plain := e.appendStructured(buf)
	if !plain {
		if err := e.validate(false, true); err != nil {
			return nil, err
		}
	}
	r := &kgo.Record{Topic: topic, Value: buf[n:], Headers: structuredHeaders[:1:1]}
	if n > 0 {
		r.Key = buf[:n:n]
	}
	return r, nil
}

// DataAs decodes the event's JSON data into a T. A failure is a
// [*DecodeError], which the router dead-letters without retrying.
func DataAs[T any](e *Event) (T, error) {
	var v T
	if !isJSON(e.DataContentType) {
		return v, decodeErr("", "data", ErrInvalid, "data of type %q is not JSON", e.DataContentType)
	}
	if err := json.Unmarshal(e.Data, &v); err != nil {
		return v, decodeErr("", "data", ErrMalformed, "data into %T: %v", v, err)
	}
	return v, nil
}
