package event

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FuzzDecode feeds arbitrary values (and optionally binary-mode headers) to
// the decoder: it must never panic, must fail only with a *DecodeError, and
// every event it accepts must encode and decode back to the same event.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"a":1}}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","time":"2024-01-01T00:00:00Z","subject":"k","x":true}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"hi"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAE="}`,
		`{"uuid":"MemberInfoProducer/1700000000000","data":{"name":"x"}}`,
		`{"uuid":"a","data":null}`,
		`{"specversion":"1.0"}`, `{}`, `[]`, `null`, ``, `{"specversion":1}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"a":1}`), true)
	f.Add([]byte(`{"specversion":"1.0","id":"\u00e9\"","source":"s","type":"t","data":[1,-2.5e3,{"x":[true,false,null]},"\n"]}`), false)
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":01}`), false)
	f.Add([]byte{0xff, 0}, true)
	f.Fuzz(func(t *testing.T, value []byte, binary bool) {
		r := &kgo.Record{Topic: "fuzz", Value: value}
		if binary {
			r.Headers = []kgo.RecordHeader{
				{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_id", Value: value},
				{Key: "ce_source", Value: []byte("s")}, {Key: "ce_type", Value: []byte("t")},
				{Key: "content-type", Value: []byte("application/octet-stream")},
			}
		}
		if v := bytes.TrimLeft(value, " \t\r\n"); len(v) > 0 && v[0] == '{' {
			m := members{src: value}
			sc := scanner{b: value}
			if ok := sc.members(m.add) == nil; ok != json.Valid(value) {
				t.Fatalf("scanner accepts %q: %v, json.Valid: %v", value, ok, !ok)
			}
		}
		ev, err := Decode(r)
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
		if again.ID != ev.ID || again.Type != ev.Type || again.Source != ev.Source ||
			!again.Time.Equal(ev.Time) || (len(ev.Data) > 0 && !equalData(ev, &again)) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, &again)
		}
	})
}

// equalData compares data, modulo JSON whitespace for JSON content.
func equalData(a, b *Event) bool {
	if !isJSON(a.DataContentType) {
		return bytes.Equal(a.Data, b.Data)
	}
	var x, y bytes.Buffer
	return json.Compact(&x, a.Data) == nil && json.Compact(&y, b.Data) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}
