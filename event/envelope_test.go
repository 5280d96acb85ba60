package event

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
)

type signup struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

func TestStructuredRoundTrip(t *testing.T) {
	ev, err := New("signup-event", "member-42", signup{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ev.Source = "member-service"
	ev.Extensions = map[string]string{"tenant": "acme"}
	id, err := uuid.Parse(ev.ID)
	if err != nil || id.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7 (%v)", ev.ID, err)
	}
	r, err := ev.Record("members")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Key) != "member-42" {
		t.Errorf("key = %q, want the subject", r.Key)
	}
	var wire map[string]any
	if err := json.Unmarshal(r.Value, &wire); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"specversion": "1.0", "source": "member-service", "type": "signup-event",
		"subject": "member-42", "datacontenttype": "application/json", "tenant": "acme"} {
		if wire[k] != want {
			t.Errorf("wire %s = %v, want %v", k, wire[k], want)
		}
	}
	if data, _ := wire["data"].(map[string]any); data["name"] != "Ada" {
		t.Errorf("data is not a JSON object under \"data\": %s", r.Value)
	}
	if _, err := time.Parse(time.RFC3339, wire["time"].(string)); err != nil {
		t.Errorf("time is not RFC 3339: %v", err)
	}
	got, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ev.ID || got.Source != ev.Source || got.Type != ev.Type || got.Subject != ev.Subject ||
		!got.Time.Equal(ev.Time) || got.Extensions["tenant"] != "acme" {
		t.Errorf("round trip changed the event: %+v vs %+v", got, ev)
	}
	data, err := DataAs[signup](got)
	if err != nil || data.Email != "ada@example.com" {
		t.Errorf("DataAs = %+v, %v", data, err)
	}
}

func TestDecodeBinary(t *testing.T) {
	r := &kgo.Record{Topic: "members", Value: []byte(`{"name":"Bob"}`), Headers: []kgo.RecordHeader{
		{Key: "ce_specversion", Value: []byte("1.0")},
		{Key: "ce_id", Value: []byte("abc")},
		{Key: "ce_source", Value: []byte("crm")},
		{Key: "ce_type", Value: []byte("signup-event")},
		{Key: "ce_time", Value: []byte("2024-05-01T10:00:00Z")},
		{Key: "ce_traceparent", Value: []byte("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")},
		{Key: "content-type", Value: []byte("application/json")},
	}}
	ev, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "abc" || ev.Source != "crm" || ev.Type != "signup-event" || ev.Time.Year() != 2024 ||
		ev.Extensions["traceparent"] == "" {
		t.Errorf("binary decode = %+v", ev)
	}
	if d, err := DataAs[signup](ev); err != nil || d.Name != "Bob" {
		t.Errorf("data = %+v, %v", d, err)
	}
}

func TestDecodeLegacy(t *testing.T) {
	ts := time.UnixMilli(1700000000000)
	r := &kgo.Record{Topic: "member-info", Timestamp: ts,
		Value: []byte(`{"uuid":"MemberInfoProducer/1700000000000","data":{"name":"Cy"}}`)}
	ev, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "MemberInfoProducer/1700000000000" || ev.Type != "member-info" || ev.Source != LegacySource ||
		!ev.Time.Equal(ts) {
		t.Errorf("legacy decode = %+v", ev)
	}
	if d, err := DataAs[signup](ev); err != nil || d.Name != "Cy" {
		t.Errorf("data = %+v, %v", d, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		value   string
		headers []kgo.RecordHeader
		want    error
		field   string
	}{
		"not json":        {value: `not json`, want: ErrUnknownFormat},
		"array":           {value: `[1,2]`, want: ErrUnknownFormat},
		"plain object":    {value: `{"a":1}`, want: ErrUnknownFormat},
		"spec 0.3":        {value: `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, want: ErrInvalid, field: "specversion"},
		"no id":           {value: `{"specversion":"1.0","source":"s","type":"t"}`, want: ErrInvalid, field: "id"},
		"no type":         {value: `{"specversion":"1.0","id":"1","source":"s"}`, want: ErrInvalid, field: "type"},
		"bad time":        {value: `{"specversion":"1.0","id":"1","source":"s","type":"t","time":"yesterday"}`, want: ErrInvalid, field: "time"},
		"numeric id":      {value: `{"specversion":"1.0","id":1,"source":"s","type":"t"}`, want: ErrMalformed, field: "id"},
		"legacy uuid num": {value: `{"uuid":5,"data":{}}`, want: ErrMalformed, field: "uuid"},
		"legacy empty":    {value: `{"uuid":"","data":{}}`, want: ErrInvalid, field: "id"},
		"binary no type": {value: `{}`, want: ErrInvalid, field: "type", headers: []kgo.RecordHeader{
			{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_id", Value: []byte("1")}, {Key: "ce_source", Value: []byte("s")}}},
		"bad base64": {value: `{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"%%%"}`, want: ErrMalformed, field: "data_base64"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(&kgo.Record{Topic: "x", Value: []byte(tc.value), Headers: tc.headers})
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DecodeError", err)
			}
			if !errors.Is(err, tc.want) || de.Field != tc.field {
				t.Errorf("err = %v (field %q), want %v on field %q", err, de.Field, tc.want, tc.field)
			}
			if !IsPermanent(err) {
				t.Error("a decode error must be permanent")
			}
		})
	}
}

func TestBinaryDataRoundTrip(t *testing.T) {
	ev := &Event{ID: "1", Source: "s", Type: "t", DataContentType: "application/octet-stream", Data: []byte{0, 1, 2, 255}}
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"data_base64":"AAEC/w=="`) {
		t.Fatalf("non-JSON data not base64: %s", b)
	}
	var got Event
	if err := json.Unmarshal(b, &got); err != nil || string(got.Data) != string(ev.Data) {
		t.Fatalf("round trip = %v, %v", got.Data, err)
	}
}

func TestDataAsWrongShape(t *testing.T) {
	ev := &Event{ID: "1", Source: "s", Type: "t", Data: []byte(`{"name":5}`)}
	_, err := DataAs[signup](ev)
	if !IsDecodeError(err) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want a malformed DecodeError", err)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("no such member")
	err := Permanent(base)
	if !IsPermanent(err) || !errors.Is(err, base) || IsPermanent(base) || Permanent(nil) != nil {
		t.Fatal("Permanent does not wrap as documented")
	}
}

func TestTraceparent(t *testing.T) {
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	ctx := ContextWithTraceparent(t.Context(), tp)
	if got, ok := TraceparentFromContext(ctx); !ok || got != tp {
		t.Fatalf("traceparent = %q, %v", got, ok)
	}
	for _, bad := range []string{"", "00-00000000000000000000000000000000-b7ad6b7169203331-01",
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"} {
		if _, ok := TraceparentFromContext(ContextWithTraceparent(t.Context(), bad)); ok {
			t.Errorf("accepted invalid traceparent %q", bad)
		}
	}
}

// New skips re-validating the data it marshalled itself, but data replaced
// afterwards is checked again.
func TestReplacedDataIsValidated(t *testing.T) {
	ev, _ := New("t", "s", map[string]int{"a": 1})
	ev.Source = "x"
	if _, err := ev.Record("topic"); err != nil {
		t.Fatal(err)
	}
	ev.Data = []byte(`{"a":`)
	if _, err := ev.Record("topic"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Record with broken data = %v, want ErrInvalid", err)
	}
}

// Record refuses what the wire cannot carry faithfully and encodes escapes
// and non-ASCII text exactly.
func TestRecordAttributeText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Event)
		field string // "" means valid
	}{
		{"plain", func(*Event) {}, ""},
		{"escapes and non-ASCII", func(e *Event) { e.Subject = "Zoë \"quoted\" \\ \n tab\t" }, ""},
		{"long non-ASCII id", func(e *Event) { e.ID = strings.Repeat("é", 20) }, ""},
		{"invalid UTF-8 source", func(e *Event) { e.Source = "member-\xff-service" }, "source"},
		{"invalid UTF-8 subject", func(e *Event) { e.Subject = "\xc3" }, "subject"},
		{"invalid UTF-8 extension", func(e *Event) { e.Extensions = map[string]string{"tenant": "a\xffb"} }, "tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := New("signup-event", "member-1", signup{Name: "Ada"})
			if err != nil {
				t.Fatal(err)
			}
			ev.Source = "member-service"
			tc.edit(ev)
			r, err := ev.Record("members")
			if tc.field != "" {
				var de *DecodeError
				if !errors.As(err, &de) || de.Field != tc.field {
					t.Fatalf("Record = %v, want a DecodeError on %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(r)
			if err != nil || got.ID != ev.ID || got.Source != ev.Source || got.Subject != ev.Subject {
				t.Fatalf("round trip: %+v, %v; want %+v", got, err, ev)
			}
		})
	}
}
