package event

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// Data edited after an earlier successful encoding — in place, or refilled
// at the same length — is validated again: nothing invalid is emitted.
func TestEditedDataIsValidatedAgain(t *testing.T) {
	// The producer fails before any network call, so no broker is needed.
	p, err := NewProducer(ProducerConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for name, edit := range map[string]func(ev *Event){
		"in place": func(ev *Event) { ev.Data[len(ev.Data)-1] = ',' },
		"refilled at the same length": func(ev *Event) {
			broken := `{"name":` + strings.Repeat(" ", len(ev.Data)-len(`{"name":`))
			ev.Data = append(ev.Data[:0], broken...)
		},
	} {
		t.Run(name, func(t *testing.T) {
			ev := mustEvent(t, "signup-event", "member-1", signup{Name: "Ada"})
			for _, enc := range []func(string) (*kgo.Record, error){ev.Record, ev.BinaryRecord} {
				if _, err := enc("members"); err != nil {
					t.Fatal(err)
				}
			}
			n := len(ev.Data)
			edit(ev)
			if len(ev.Data) != n {
				t.Fatalf("the edit changed the length: %d, want %d", len(ev.Data), n)
			}
			for mode, enc := range map[string]func(string) (*kgo.Record, error){"structured": ev.Record, "binary": ev.BinaryRecord} {
				if _, err := enc("members"); !errors.Is(err, ErrInvalid) {
					t.Errorf("%s record of %q: err = %v, want ErrInvalid", mode, ev.Data, err)
				}
			}
			if _, err := ev.MarshalJSON(); !errors.Is(err, ErrInvalid) {
				t.Errorf("MarshalJSON = %v, want ErrInvalid", err)
			}
			if err := p.Publish(testkit.Context(t, 10*time.Second), "members", ev); !errors.Is(err, ErrInvalid) {
				t.Errorf("Publish = %v, want ErrInvalid", err)
			}
		})
	}
}

// Publish and Outbox.Add of one shared event from many goroutines: the
// default source goes into the records without being written to the
// caller's event (go test -race reports the write otherwise).
func TestSharedEventPublishedConcurrently(t *testing.T) {
	const goroutines, each = 4, 10
	shared := mustEvent(t, "signup-event", "member-1", signup{Name: "Ada"})
	shared.Source = "" // left to the producer's and the outbox's config
	concurrently := func(fn func() error) error {
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for range goroutines {
			wg.Go(func() {
				for range each {
					if err := fn(); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	checkSources := func(t *testing.T, values [][]byte, want string) {
		t.Helper()
		if shared.Source != "" {
			t.Fatalf("the caller's event was written to: Source = %q", shared.Source)
		}
		if len(values) != goroutines*each {
			t.Fatalf("%d records, want %d", len(values), goroutines*each)
		}
		for _, v := range values {
			ev, err := DecodeValue("members", v, nil, time.Time{})
			if err != nil || ev.Source != want {
				t.Fatalf("record %s: %v, source %q; want %q", v, err, ev.Source, want)
			}
		}
	}
	t.Run("Publish", func(t *testing.T) {
		testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
			topic := c.CreateTopic(t, 1, 1)
			p, err := NewProducer(ProducerConfig{ClientOpts: testOpts(t, c), Source: "member-service"})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx := testkit.Context(t, 30*time.Second)
			if err := concurrently(func() error { return p.Publish(ctx, topic, shared) }); err != nil {
				t.Fatal(err)
			}
			var values [][]byte
			for _, r := range readAll(t, c, topic, goroutines*each) {
				values = append(values, r.Value)
			}
			checkSources(t, values, "member-service")
		})
	})
	t.Run("Outbox.Add", func(t *testing.T) {
		testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
			o, err := NewOutbox(OutboxConfig{DB: db.DB, Dialect: dialectOf(db), Source: "outbox-service"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := testkit.Context(t, 30*time.Second)
			if err := o.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			err = concurrently(func() error {
				return o.WithTx(ctx, func(tx *sql.Tx) error { return o.Add(ctx, tx, "members", shared) })
			})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.QueryContext(ctx, "SELECT value FROM "+o.cfg.Table)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var values [][]byte
			for rows.Next() {
				var v []byte
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				values = append(values, v)
			}
			checkSources(t, values, "outbox-service")
		})
	})
}

// signupStrict rejects a signup without an email.
type signupStrict signup

func (s signupStrict) Validate() error {
	if s.Email == "" {
		return errors.New("email is required")
	}
	return nil
}

// signupStrictPtr has Validate on its pointer.
type signupStrictPtr signup

var errNoName = errors.New("name is required")

func (s *signupStrictPtr) Validate() error {
	if s.Name == "" {
		return errNoName
	}
	return nil
}

func TestDataAsCallsValidate(t *testing.T) {
	ev := &Event{ID: "1", Source: "s", Type: "t", Data: []byte(`{"name":"Ada"}`)}
	if _, err := DataAs[signupStrict](ev); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "email is required") {
		t.Errorf("value receiver: err = %v, want ErrInvalid naming the missing email", err)
	}
	if _, err := DataAs[*signupStrict](ev); !errors.Is(err, ErrInvalid) {
		t.Errorf("pointer to a value-receiver type: err = %v, want ErrInvalid", err)
	}
	if got, err := DataAs[signupStrictPtr](ev); err != nil || got.Name != "Ada" {
		t.Errorf("pointer receiver, valid data: %+v, %v", got, err)
	}
	ev.Data = []byte(`{"email":"a@example.com"}`)
	_, err := DataAs[signupStrictPtr](ev)
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "data" || !errors.Is(err, ErrInvalid) || !errors.Is(err, errNoName) ||
		!IsPermanent(err) {
		t.Errorf("pointer receiver: err = %v, want a permanent DecodeError on data wrapping ErrInvalid and Validate's error", err)
	}
	if got, err := DataAs[signupStrict](ev); err != nil || got.Email == "" {
		t.Errorf("valid data: %+v, %v", got, err)
	}
	ev.Data = []byte(`null`)
	if _, err := DataAs[*signupStrictPtr](ev); !errors.Is(err, ErrInvalid) {
		t.Errorf("null into a pointer type: err = %v, want ErrInvalid", err)
	}
}

// ceHeaders are binary-mode headers of a minimal valid event.
func ceHeaders(extra ...string) []kgo.RecordHeader {
	hs := []kgo.RecordHeader{
		{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_id", Value: []byte("1")},
		{Key: "ce_source", Value: []byte("crm")}, {Key: "ce_type", Value: []byte("t")},
	}
	for i := 0; i < len(extra); i += 2 {
		hs = append(hs, kgo.RecordHeader{Key: extra[i], Value: []byte(extra[i+1])})
	}
	return hs
}

// The content-type header decides the mode; header names are matched in
// any case (issue 8, items 15 and 20).
func TestDecodeModeByContentType(t *testing.T) {
	structured := `{"specversion":"1.0","id":"s-1","source":"crm","type":"t","data":{"a":1}}`
	for _, tc := range []struct {
		name     string
		value    string
		headers  []kgo.RecordHeader
		wantID   string
		wantData string
		wantCT   string
	}{
		{"structured with ce_ headers beside it", structured,
			ceHeaders("content-type", ContentTypeCloudEvents), "s-1", `{"a":1}`, ""},
		{"structured with only ce_specversion", structured,
			[]kgo.RecordHeader{{Key: "content-type", Value: []byte(ContentTypeCloudEvents)}, {Key: "ce_specversion", Value: []byte("1.0")}},
			"s-1", `{"a":1}`, ""},
		{"structured content type with parameters and case", structured,
			ceHeaders("Content-Type", "Application/CloudEvents+JSON; charset=utf-8"), "s-1", `{"a":1}`, ""},
		{"binary", `{"b":2}`, ceHeaders("content-type", "application/json"), "1", `{"b":2}`, "application/json"},
		{"binary with Content-Type", `{"b":2}`, ceHeaders("Content-Type", "application/json"), "1", `{"b":2}`, "application/json"},
		{"binary with upper-case ce_ keys", `{"b":2}`, []kgo.RecordHeader{
			{Key: "CE_SPECVERSION", Value: []byte("1.0")}, {Key: "ce_Id", Value: []byte("1")},
			{Key: "Ce_Source", Value: []byte("crm")}, {Key: "ce_type", Value: []byte("t")},
			{Key: "CONTENT-TYPE", Value: []byte("application/json")}}, "1", `{"b":2}`, "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := Decode(&kgo.Record{Topic: "x", Value: []byte(tc.value), Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID != tc.wantID || string(ev.Data) != tc.wantData || ev.DataContentType != tc.wantCT {
				t.Errorf("decoded id %q data %s content type %q; want %q %s %q",
					ev.ID, ev.Data, ev.DataContentType, tc.wantID, tc.wantData, tc.wantCT)
			}
		})
	}
}

// Extension values as the JSON format defines them (items 16, 17, 21).
func TestStructuredExtensions(t *testing.T) {
	const base = `{"specversion":"1.0","id":"1","source":"crm","type":"t"`
	for _, tc := range []struct {
		name string
		ext  string
		want map[string]string // nil: rejected with ErrInvalid
		wire string            // the extensions as re-encoded
	}{
		{"null is unset", `"gone":null`, map[string]string{}, ``},
		{"empty string kept", `"empty":""`, map[string]string{"empty": ""}, `,"empty":""`},
		{"integer", `"count":42`, map[string]string{"count": "42"}, `,"count":42`},
		{"negative integer", `"count":-2147483648`, map[string]string{"count": "-2147483648"}, `,"count":-2147483648`},
		{"integral number", `"count":1e3`, map[string]string{"count": "1000"}, `,"count":1000`},
		{"boolean", `"sampled":true`, map[string]string{"sampled": "true"}, `,"sampled":true`},
		{"string that looks like a number", `"code":"42"`, map[string]string{"code": "42"}, `,"code":"42"`},
		{"several, sorted", `"zz":false,"aa":"x","mm":7`, map[string]string{"zz": "false", "aa": "x", "mm": "7"},
			`,"aa":"x","mm":7,"zz":false`},
		{"object", `"obj":{"a":1}`, nil, ""},
		{"array", `"arr":[1]`, nil, ""},
		{"fraction", `"ratio":1.5`, nil, ""},
		{"above int32", `"big":2147483648`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value := base + "," + tc.ext + "}"
			ev, err := Decode(&kgo.Record{Topic: "x", Value: []byte(value)})
			if tc.want == nil {
				var de *DecodeError
				if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) || de.Field == "" {
					t.Fatalf("Decode(%s) = %v, want ErrInvalid naming the extension", value, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Extensions) != len(tc.want) {
				t.Errorf("extensions = %q, want %q", ev.Extensions, tc.want)
			}
			for k, v := range tc.want {
				if got, ok := ev.Extensions[k]; !ok || got != v {
					t.Errorf("extension %s = %q (present %v), want %q", k, got, ok, v)
				}
			}
			r, err := ev.Record("x")
			if err != nil {
				t.Fatal(err)
			}
			if want := base + tc.wire + "}"; string(r.Value) != want {
				t.Errorf("re-encoded\n%s\nwant\n%s", r.Value, want)
			}
		})
	}
}

// SetExtension keeps integers and booleans typed in structured mode;
// changing the text through the map falls back to a string.
func TestSetExtension(t *testing.T) {
	ev := &Event{ID: "1", Source: "crm", Type: "t"}
	for name, v := range map[string]any{"n": 7, "b": false, "s": "x", "u": mustURL(t, "https://example.com/a b"),
		"ts": time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), "bin": []byte{1, 2}, "e": ""} {
		if err := ev.SetExtension(name, v); err != nil {
			t.Fatalf("SetExtension(%s, %v): %v", name, v, err)
		}
	}
	r, err := ev.Record("x")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"1","source":"crm","type":"t","b":false,"bin":"AQI=","e":"","n":7,` +
		`"s":"x","ts":"2024-05-01T10:00:00Z","u":"https://example.com/a%20b"}`
	if string(r.Value) != want {
		t.Errorf("encoded\n%s\nwant\n%s", r.Value, want)
	}
	ev.Extensions["n"] = "seven"
	if err := ev.SetExtension("b", "false"); err != nil {
		t.Fatal(err)
	}
	if err := ev.SetExtension("s", nil); err != nil {
		t.Fatal(err)
	}
	r, _ = ev.Record("x")
	if v := string(r.Value); !strings.Contains(v, `"n":"seven"`) || !strings.Contains(v, `"b":"false"`) || strings.Contains(v, `"s":`) {
		t.Errorf("after changes: %s", v)
	}
	// Text that is not an integer as JSON writes one stays a string, so
	// it comes back as it was ("-0" read back as a number is "0").
	for _, text := range []string{"-0", "007", "+5", "1e3", "2147483648"} {
		if err := ev.SetExtension("n", 7); err != nil {
			t.Fatal(err)
		}
		ev.Extensions["n"] = text
		r, err := ev.Record("x")
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(r)
		if err != nil || back.Extensions["n"] != text {
			t.Errorf("integer extension set to %q: encoded %s, read back %q (%v)", text, r.Value, back.Extensions["n"], err)
		}
	}
	for _, bad := range []struct {
		name string
		v    any
	}{{"Upper", "x"}, {"id", "x"}, {"big", int64(1) << 40}, {"f", 1.5}} {
		if err := ev.SetExtension(bad.name, bad.v); err == nil {
			t.Errorf("SetExtension(%s, %v) accepted", bad.name, bad.v)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Empty extensions survive binary mode too, and extension types become
// strings there, as the binding carries every value as a header string.
func TestBinaryExtensions(t *testing.T) {
	ev := &Event{ID: "1", Source: "crm", Type: "t"}
	_ = ev.SetExtension("empty", "")
	_ = ev.SetExtension("n", 42)
	r, err := ev.BinaryRecord("x")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := headerValue(r, "ce_empty"); !ok || v != "" {
		t.Errorf("ce_empty header = %q, %v", v, ok)
	}
	got, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.Extensions["empty"]; !ok || v != "" || got.Extensions["n"] != "42" {
		t.Errorf("decoded extensions %q", got.Extensions)
	}
	s, _ := got.Record("x")
	if !strings.Contains(string(s.Value), `"n":"42"`) {
		t.Errorf("binary → structured: %s, want n as a string", s.Value)
	}
}

func headerValue(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// Data with no content type is JSON only under "data" in structured mode;
// base64 and binary-mode data stay opaque bytes (item 18).
func TestOpaqueDataWithoutContentType(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00")
	for name, r := range map[string]*kgo.Record{
		"data_base64": {Value: fmt.Appendf(nil, `{"specversion":"1.0","id":"1","source":"crm","type":"t","data_base64":%q}`,
			"iVBORw0KGgoA")},
		"binary without content-type": {Value: png, Headers: ceHeaders()},
	} {
		t.Run(name, func(t *testing.T) {
			ev, err := Decode(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(ev.Data) != string(png) || ev.DataContentType != "" {
				t.Fatalf("data %q content type %q", ev.Data, ev.DataContentType)
			}
			s, err := ev.Record("x")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(s.Value), `"data_base64":"iVBORw0KGgoA"`) || strings.Contains(string(s.Value), "datacontenttype") {
				t.Errorf("structured re-encoding %s, want data_base64 and no content type", s.Value)
			}
			b, err := ev.BinaryRecord("x")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := headerValue(b, "content-type"); ok || string(b.Value) != string(png) {
				t.Errorf("binary re-encoding: value %q, headers %v", b.Value, b.Headers)
			}
			if _, err := DataAs[map[string]any](ev); !errors.Is(err, ErrMalformed) {
				t.Errorf("DataAs of PNG bytes = %v, want ErrMalformed", err)
			}
		})
	}
	// JSON bytes without a content type still decode through DataAs.
	ev, err := Decode(&kgo.Record{Value: []byte(`{"name":"Ada"}`), Headers: ceHeaders()})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DataAs[signup](ev); err != nil || d.Name != "Ada" {
		t.Errorf("DataAs of JSON without content type = %+v, %v", d, err)
	}
}

// Opaque data stays opaque only while DataContentType stays empty: a caller
// who then sets a JSON content type (and JSON data) gets JSON under "data",
// as for any event, not a remembered "opaque" that contradicts the field.
func TestOpaqueDataGivenContentType(t *testing.T) {
	ev, err := Decode(&kgo.Record{Value: []byte("\x89PNG"), Headers: ceHeaders()})
	if err != nil {
		t.Fatal(err)
	}
	ev.DataContentType = ContentTypeJSON
	ev.Data = []byte(`{"name":"Ada"}`)
	r, err := ev.Record("x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(r.Value), `"data":{"name":"Ada"}`) {
		t.Errorf("structured encoding %s, want the JSON data under \"data\"", r.Value)
	}
	ev.Data = []byte("{")
	if _, err := ev.Record("x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Record of invalid JSON data with a JSON content type = %v, want ErrInvalid", err)
	}
}

// source is a URI-reference and dataschema an absolute URI (item 19), on
// both paths.
func TestURIAttributes(t *testing.T) {
	for _, tc := range []struct {
		source, schema string
		field          string // "" means valid
	}{
		{"member-service", "", ""},
		{"/members/service", "https://example.com/schemas/signup.json", ""},
		{"urn:ksuite:member-service", "urn:example:schema", ""},
		{"https://user@[::1]:8080/a/b?q=1&r=a?b#frag", "", ""},
		{"member%20service", "", ""},
		{"legacy", "", ""},
		{"member service", "", "source"},
		{"member%zz", "", "source"},
		{"member%2", "", "source"},
		{"a:b:c/../x", "", ""},
		{"1a:b", "", "source"},
		{"a[1]", "", "source"},
		{"a#b#c", "", "source"},
		{"membré", "", "source"},
		{"crm", "schemas/signup.json", "dataschema"},
		{"crm", "https://example.com/a b", "dataschema"},
	} {
		t.Run(tc.source+" "+tc.schema, func(t *testing.T) {
			ev := &Event{ID: "1", Source: tc.source, Type: "t", DataSchema: tc.schema}
			check := func(what string, err error) {
				t.Helper()
				var de *DecodeError
				switch {
				case tc.field == "" && err != nil:
					t.Errorf("%s: %v", what, err)
				case tc.field != "" && (!errors.As(err, &de) || de.Field != tc.field || !errors.Is(err, ErrInvalid)):
					t.Errorf("%s = %v, want ErrInvalid on %s", what, err, tc.field)
				}
			}
			_, err := ev.Record("x")
			check("Record", err)
			_, err = ev.BinaryRecord("x")
			check("BinaryRecord", err)
			value, _ := json.Marshal(map[string]string{"specversion": "1.0", "id": "1", "source": tc.source, "type": "t"})
			if tc.schema != "" {
				value, _ = json.Marshal(map[string]string{"specversion": "1.0", "id": "1", "source": tc.source, "type": "t", "dataschema": tc.schema})
			}
			_, err = Decode(&kgo.Record{Value: value})
			check("Decode structured", err)
			headers := ceHeaders()
			headers[2].Value = []byte(tc.source)
			if tc.schema != "" {
				headers = append(headers, kgo.RecordHeader{Key: "ce_dataschema", Value: []byte(tc.schema)})
			}
			_, err = Decode(&kgo.Record{Headers: headers})
			check("Decode binary", err)
		})
	}
}

// Binary mode round-trips every attribute, extension and the data, keyed
// by subject, and decodes to what structured mode decodes to.
func TestBinaryRoundTrip(t *testing.T) {
	ev := mustEvent(t, "signup-event", "member-42", signup{Name: "Zoë", Email: "z@example.com"})
	ev.DataSchema = "https://example.com/signup.json"
	ev.Extensions = map[string]string{"tenant": "acme"}
	r, err := ev.BinaryRecord("members")
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Key) != "member-42" || string(r.Value) != string(ev.Data) {
		t.Errorf("key %q value %s", r.Key, r.Value)
	}
	for k, want := range map[string]string{"ce_specversion": "1.0", "ce_id": ev.ID, "ce_source": "test",
		"ce_type": "signup-event", "ce_subject": "member-42", "ce_dataschema": ev.DataSchema,
		"content-type": "application/json", "ce_tenant": "acme",
		"ce_time": ev.Time.Format(time.RFC3339Nano)} {
		if got, _ := headerValue(r, k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	ev.Data[0] = ' ' // the record holds its own copy
	if r.Value[0] != '{' {
		t.Error("the record's value shares the event's data")
	}
	ev.Data[0] = '{'
	got, err := Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ev.Record("members")
	fromStructured, _ := Decode(s)
	for _, d := range []*Event{got, fromStructured} {
		if d.ID != ev.ID || d.Source != ev.Source || d.Type != ev.Type || d.Subject != ev.Subject ||
			!d.Time.Equal(ev.Time) || d.DataSchema != ev.DataSchema || d.DataContentType != ev.DataContentType ||
			d.Extensions["tenant"] != "acme" || string(d.Data) != string(ev.Data) {
			t.Errorf("decoded %+v, want %+v", d, ev)
		}
	}
}

// A structured record cannot hold data and data_base64 together.
func TestDataAndBase64(t *testing.T) {
	_, err := Decode(&kgo.Record{Value: []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":1,"data_base64":"AA=="}`)})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

// Repeated binary-mode headers: the last one counts, as for any attribute.
func TestBinaryRepeatedHeaders(t *testing.T) {
	ev, err := Decode(&kgo.Record{Headers: ceHeaders("ce_id", "2", "ce_subject", "a", "ce_id", "3", "ce_subject", "b")})
	if err != nil || ev.ID != "3" || ev.Subject != "b" {
		t.Fatalf("decoded %+v, %v; want id 3, subject b", ev, err)
	}
}

// A binary-mode record's data is checked when read, not when decoded:
// DataAs reports invalid JSON as a DecodeError (dead-lettered by the
// router) and the event cannot be encoded again.
func TestBinaryDataCheckedWhenRead(t *testing.T) {
	ev, err := Decode(&kgo.Record{Value: []byte(`{"name":`), Headers: ceHeaders("content-type", "application/json")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DataAs[signup](ev); !IsDecodeError(err) || !errors.Is(err, ErrMalformed) {
		t.Errorf("DataAs = %v, want a malformed DecodeError", err)
	}
	if _, err := DataAs[json.RawMessage](ev); !IsDecodeError(err) {
		t.Errorf("DataAs[json.RawMessage] = %v, want a DecodeError", err)
	}
	for mode, enc := range map[string]func(string) (*kgo.Record, error){"structured": ev.Record, "binary": ev.BinaryRecord} {
		if _, err := enc("x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s re-encoding = %v, want ErrInvalid", mode, err)
		}
	}
	// A structured content type beside ce_* headers with bad values: the
	// headers are ignored, their errors too.
	ev, err = Decode(&kgo.Record{Value: []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t"}`),
		Headers: []kgo.RecordHeader{{Key: "ce_specversion", Value: []byte("0.3")}, {Key: "ce_time", Value: []byte("now")},
			{Key: "content-type", Value: []byte(ContentTypeCloudEvents)}}})
	if err != nil || ev.ID != "1" {
		t.Errorf("structured record with bad ce_ headers: %+v, %v", ev, err)
	}
}

// A structured or legacy record's data is checked when read, as a
// binary-mode record's: decoding skips it to its end (strings and nesting
// only), DataAs reports invalid JSON as a DecodeError (dead-lettered by the
// router) and the event cannot be encoded again. Data whose end cannot be
// found still fails to decode, as does everything else in the envelope.
func TestStructuredDataCheckedWhenRead(t *testing.T) {
	const head = `{"specversion":"1.0","id":"1","source":"lazy-test","type":"t","subject":"k","data":`
	for name, data := range map[string]string{
		"missing value":         `{"name":1 2}`,
		"bad literal":           `[tru]`,
		"bad escape":            `{"name":"\q"}`,
		"control character":     "{\"name\":\"a\tb\"}",
		"mismatched brackets":   `{"name":[1}}`,
		"trailing comma":        `{"name":"Ada",}`,
		"bracket inside string": `{"name":"]}\"[" 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, value := range []string{head + data + `}`, `{"uuid":"u-1","data":` + data + `}`} {
				// Twice: the first record may teach a shape the second one
				// is read through.
				for range 2 {
					ev, err := Decode(&kgo.Record{Topic: "x", Value: []byte(value)})
					if err != nil {
						t.Fatalf("Decode(%s) = %v, want the envelope read and the data left for later", value, err)
					}
					if string(ev.Data) != data {
						t.Fatalf("data = %s, want %s", ev.Data, data)
					}
					if _, err := DataAs[signup](ev); !IsDecodeError(err) || !IsPermanent(err) {
						t.Errorf("DataAs = %v, want a permanent DecodeError", err)
					}
					if _, err := DataAs[json.RawMessage](ev); !IsDecodeError(err) {
						t.Errorf("DataAs[json.RawMessage] = %v, want a DecodeError", err)
					}
					for mode, enc := range map[string]func(string) (*kgo.Record, error){"structured": ev.Record, "binary": ev.BinaryRecord} {
						if _, err := enc("x"); !errors.Is(err, ErrInvalid) {
							t.Errorf("%s re-encoding = %v, want ErrInvalid", mode, err)
						}
					}
					if _, err := ev.MarshalJSON(); !errors.Is(err, ErrInvalid) {
						t.Errorf("MarshalJSON = %v, want ErrInvalid", err)
					}
				}
			}
		})
	}
	for name, value := range map[string]string{
		"unterminated object":   head + `{"name":"Ada"`,
		"unterminated string":   head + `{"name":"Ada}}`,
		"bracket inside string": head + `{"name":"]}"}`,
		"junk after the data":   head + `{"name":"Ada"}]}`,
		"bad member after data": head + `{"name":"Ada"},"x":tru}`,
		"bad attribute":         strings.Replace(head, `"lazy-test"`, `"lazy test"`, 1) + `{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(&kgo.Record{Topic: "x", Value: []byte(value)}); !IsDecodeError(err) {
				t.Errorf("Decode(%s) = %v, want a DecodeError", value, err)
			}
		})
	}
	// JSON data under data_base64 is read when DataAs reads it, too.
	ev, err := Decode(&kgo.Record{Value: []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t",` +
		`"datacontenttype":"application/json","data_base64":"eyJuYW1lIjo="}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DataAs[signup](ev); !IsDecodeError(err) {
		t.Errorf("DataAs of base64 data {\"name\": = %v, want a DecodeError", err)
	}
	if _, err := ev.Record("x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("re-encoding = %v, want ErrInvalid", err)
	}
}

// orBytes must see a non-ASCII byte wherever it is, whatever the length:
// its words overlap at the tail.
func TestOrBytesSeesEveryByte(t *testing.T) {
	for n := 0; n <= 40; n++ {
		b := bytes.Repeat([]byte{'a'}, n)
		if orBytes(b)&highBits != 0 {
			t.Fatalf("len %d: ASCII taken for non-ASCII", n)
		}
		for i := range n {
			b[i] = 0xC3
			if orBytes(b)&highBits == 0 {
				t.Fatalf("len %d: non-ASCII byte at %d missed", n, i)
			}
			b[i] = 'a'
		}
	}
}
