package event

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FuzzDecode feeds arbitrary values to the decoder, as they are, as the
// data of a binary-mode record (with and without a content type), and as a
// structured record carrying ce_* headers too: it must never panic, must
// fail only with a *DecodeError, and every event it accepts must encode in
// both modes and decode back to the same event.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":1}}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2024-01-01T00:00:00Z","subject":"k","x":true}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"hi"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAE="}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","n":42,"b":false,"e":"","z":null,"data":[]}`,
		`{"specversion":"1.0","id":"1","source":"urn:a:b","type":"t","dataschema":"https://x/y","n":-1e2}`,
		`{"uuid":"MemberInfoProducer/1700000000000","data":{"name":"x"}}`,
		`{"uuid":"a","data":null}`,
		`{"specversion":"1.0"}`, `{}`, `[]`, `null`, ``, `{"specversion":1}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte(`{"a":1}`), uint8(1))
	f.Add([]byte("\x89PNG"), uint8(2))
	f.Add([]byte(seeds[0]), uint8(3))
	f.Add([]byte(`{"specversion":"1.0","id":"\u00e9\"","source":"s","type":"t","data":[1,-2.5e3,{"x":[true,false,null]},"\n"]}`), uint8(0))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":01}`), uint8(0))
	f.Add([]byte{0xff, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, value []byte, mode uint8) {
		r := &kgo.Record{Topic: "fuzz", Value: value}
		ce := []kgo.RecordHeader{
			{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_id", Value: value},
			{Key: "ce_source", Value: []byte("s")}, {Key: "ce_type", Value: []byte("t")},
		}
		switch mode % 4 {
		case 1: // binary, opaque data of a named type
			r.Headers = append(ce, kgo.RecordHeader{Key: "Content-Type", Value: []byte("application/octet-stream")})
		case 2: // binary, no content type
			r.Headers = ce
		case 3: // structured, ce_* headers beside it
			r.Headers = append(ce, kgo.RecordHeader{Key: "content-type", Value: []byte(ContentTypeCloudEvents)})
		}
		if v := bytes.TrimLeft(value, " \t\r\n"); len(v) > 0 && v[0] == '{' {
			m := members{src: value}
			sc := scanner{b: value}
			if ok := sc.members(m.add) == nil; ok != json.Valid(value) {
				t.Fatalf("scanner accepts %q: %v, json.Valid: %v", value, ok, !ok)
			}
		}
		if validJSON(value) != json.Valid(value) {
			t.Fatalf("validJSON(%q) = %v, json.Valid disagrees", value, !json.Valid(value))
		}
		ev, err := Decode(r)
		if r.Headers == nil || mode%4 == 3 {
			// Decode may have read v through a learnt shape: the full scan
			// must agree, event for event and error for error.
			var full Event
			fullErr := decodeJSON(&full, r.Topic, value, r.Timestamp, false, nil)
			if (err == nil) != (fullErr == nil) || err != nil && err.Error() != fullErr.Error() {
				t.Fatalf("Decode: %v; full scan: %v", err, fullErr)
			}
			if err == nil {
				sameEvent(t, ev, &full)
				if b1, b2 := must(ev.MarshalJSON()), must(full.MarshalJSON()); !bytes.Equal(b1, b2) {
					t.Fatalf("Decode and the full scan encode differently:\n%s\n%s", b1, b2)
				}
			}
		}
		if err != nil {
			if !IsDecodeError(err) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		b, err := ev.MarshalJSON()
		if err != nil {
			t.Fatalf("accepted event does not encode: %v", err)
		}
		var again Event
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-decode of %s: %v", b, err)
		}
		sameEvent(t, ev, &again)
		if b2, _ := again.MarshalJSON(); !bytes.Equal(b, b2) {
			t.Fatalf("re-encoding changed the record (extension types lost?):\n%s\n%s", b, b2)
		}
		br, err := ev.BinaryRecord("fuzz")
		if err != nil {
			t.Fatalf("accepted event does not encode in binary mode: %v", err)
		}
		fromBinary, err := Decode(br)
		if err != nil {
			t.Fatalf("binary re-decode: %v", err)
		}
		sameEvent(t, ev, fromBinary)
	})
}

// sameEvent fails unless a and b have the same attributes (an absent content
// type of JSON data is application/json), extension values and data.
func sameEvent(t *testing.T, a, b *Event) {
	t.Helper()
	if a.ID != b.ID || a.Type != b.Type || a.Source != b.Source || a.Subject != b.Subject || !a.Time.Equal(b.Time) ||
		a.contentType() != b.contentType() || a.DataSchema != b.DataSchema ||
		!maps.Equal(a.Extensions, b.Extensions) || (len(a.Data) > 0 || len(b.Data) > 0) && !equalData(a, b) {
		t.Fatalf("round trip changed the event:\n%+v\n%+v", a, b)
	}
}

// equalData compares data, modulo JSON whitespace for JSON content.
func equalData(a, b *Event) bool {
	if !a.dataIsJSON() {
		return bytes.Equal(a.Data, b.Data)
	}
	var x, y bytes.Buffer
	return json.Compact(&x, a.Data) == nil && json.Compact(&y, b.Data) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

func must[T any](v T, _ error) T { return v }
