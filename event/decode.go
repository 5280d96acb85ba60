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
	for _, h := range headers {
		if h.Key == HeaderPrefix+"specversion" {
			return decodeBinary(value, headers)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(value, &m); err != nil {
		return nil, decodeErr("", "", ErrUnknownFormat, "value is not a JSON object: %v", err)
	}
	if _, ok := m["specversion"]; ok {
		return fromStructured(m)
	}
	if _, ok := m["uuid"]; ok {
		return fromLegacy(topic, m, ts)
	}
	return nil, decodeErr("", "", ErrUnknownFormat, "JSON object has neither specversion nor uuid")
}

func decodeBinary(value []byte, headers []kgo.RecordHeader) (*Event, error) {
	const mode = "binary"
	e := &Event{Data: value}
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
				return nil, decodeErr(mode, name, ErrInvalid, "specversion %q is not %s", v, SpecVersion)
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
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, decodeErr(mode, name, ErrInvalid, "time %q is not RFC 3339", v)
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
	return validated(mode, e)
}

// validated runs Validate and stamps the mode on its error.
func validated(mode string, e *Event) (*Event, error) {
	if err := e.Validate(); err != nil {
		err.(*DecodeError).Mode = mode
		return nil, err
	}
	return e, nil
}

func fromStructured(m map[string]json.RawMessage) (*Event, error) {
	const mode = "structured"
	str := func(name string) (string, error) {
		raw, ok := m[name]
		if !ok || bytes.Equal(raw, []byte("null")) {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", decodeErr(mode, name, ErrMalformed, "%s is not a string", name)
		}
		return s, nil
	}
	e := &Event{}
	sv, err := str("specversion")
	if err != nil {
		return nil, err
	}
	if sv != SpecVersion {
		return nil, decodeErr(mode, "specversion", ErrInvalid, "specversion %q is not %s", sv, SpecVersion)
	}
	for name, dst := range map[string]*string{
		"id": &e.ID, "source": &e.Source, "type": &e.Type, "subject": &e.Subject,
		"datacontenttype": &e.DataContentType, "dataschema": &e.DataSchema,
	} {
		if *dst, err = str(name); err != nil {
			return nil, err
		}
	}
	ts, err := str("time")
	if err != nil {
		return nil, err
	}
	if ts != "" {
		if e.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return nil, decodeErr(mode, "time", ErrInvalid, "time %q is not RFC 3339", ts)
		}
	}
	if raw, ok := m["data_base64"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, decodeErr(mode, "data_base64", ErrMalformed, "data_base64 is not a string")
		}
		if e.Data, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, decodeErr(mode, "data_base64", ErrMalformed, "data_base64: %v", err)
		}
	} else if raw, ok := m["data"]; ok && !bytes.Equal(raw, []byte("null")) {
		e.Data = []byte(raw)
		if !isJSON(e.DataContentType) {
			// Non-JSON data in structured mode is a JSON string holding the text.
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, decodeErr(mode, "data", ErrMalformed, "data of type %q must be a JSON string", e.DataContentType)
			}
			e.Data = []byte(s)
		}
	}
	for name, raw := range m {
		if reserved[name] {
			continue
		}
		if e.Extensions == nil {
			e.Extensions = make(map[string]string)
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw) // numbers and booleans keep their JSON text
		}
		e.Extensions[name] = s
	}
	return validated(mode, e)
}

func fromLegacy(topic string, m map[string]json.RawMessage, ts time.Time) (*Event, error) {
	const mode = "legacy"
	var id string
	if err := json.Unmarshal(m["uuid"], &id); err != nil {
		return nil, decodeErr(mode, "uuid", ErrMalformed, "uuid is not a string")
	}
	e := &Event{ID: id, Source: LegacySource, Type: topic, Time: ts, DataContentType: ContentTypeJSON}
	if raw, ok := m["data"]; ok && !bytes.Equal(raw, []byte("null")) {
		e.Data = []byte(raw)
	}
	return validated(mode, e)
}

// Record returns the event as a structured-mode record for topic, keyed by
// the subject (nil key when the subject is empty).
func (e *Event) Record(topic string) (*kgo.Record, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	value, err := e.MarshalJSON()
	if err != nil {
		return nil, err
	}
	r := &kgo.Record{
		Topic:   topic,
		Value:   value,
		Headers: []kgo.RecordHeader{{Key: HeaderContentType, Value: []byte(ContentTypeCloudEvents)}},
	}
	if e.Subject != "" {
		r.Key = []byte(e.Subject)
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
