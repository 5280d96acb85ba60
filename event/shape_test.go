package event

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A record of a learnt shape decodes through it exactly as the full scan
// decodes it, and any change outside the values a shape reads, or any
// invalid value inside them, takes the full path and its error.
func TestShapeAgreesWithFullScan(t *testing.T) {
	const learnt = `{"specversion":"1.0","id":"a-1","source":"shape-test","type":"t","time":"2024-05-01T10:00:00.5Z",` +
		`"subject":"k-1","datacontenttype":"application/json","tenant":"acme","n":1,"data":{"a":[1,"x"]}}`
	shapes.Store(nil) // other tests' layouts may fill the table
	// A second layout ends in a short string, read a byte at a time.
	const learntShort = `{"specversion":"1.0","id":"b-1","source":"shape-test","type":"t","subject":"k-1"}`
	for _, v := range []string{learnt, learntShort} {
		var first Event
		if err := decodeJSON(&first, "x", []byte(v), time.Time{}, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	same := func(from, to string) string { return strings.Replace(learnt, from, to, 1) }
	for _, tc := range []struct {
		name, value string
		shaped      bool // decoded through the shape
	}{
		{"the learnt record", learnt, true},
		{"other id, subject, time, data, extensions", same(`"a-1"`, `"b-22"`), true},
		{"other subject", same(`"k-1"`, `"member-42"`), true},
		{"other time", same(`10:00:00.5Z`, `11:12:13Z`), true},
		{"other data", same(`{"a":[1,"x"]}`, `[true,null,-1.5e3,{"b":"\u00e9"}]`), true},
		{"other extension values", same(`"tenant":"acme","n":1`, `"tenant":"Zoë","n":-7`), true},
		{"null extension", same(`"n":1`, `"n":null`), true},
		{"invalid data", same(`{"a":[1,"x"]}`, `{"a":[1,"x"]`), false},
		{"data with trailing junk", same(`{"a":[1,"x"]}`, `{"a":[1,"x"]}]`), false},
		{"empty id", same(`"a-1"`, `""`), false},
		{"escaped id", same(`"a-1"`, `"a\"1"`), false},
		{"non-ASCII subject", same(`"k-1"`, `"ké"`), false},
		{"invalid UTF-8 subject", same(`"k-1"`, "\"k\xff\""), false},
		{"bad time", same(`2024-05-01T10:00:00.5Z`, `yesterday`), false},
		{"object extension", same(`"n":1`, `"n":{}`), false},
		{"fraction extension", same(`"n":1`, `"n":1.5`), false},
		{"other source", same(`"shape-test"`, `"shape-other"`), false},
		{"invalid source", same(`"shape-test"`, `"shape test"`), false},
		{"members reordered", same(`"id":"a-1","source":"shape-test"`, `"source":"shape-test","id":"a-1"`), false},
		{"short layout", strings.Replace(learntShort, `"k-1"`, `"k-2"`, 1), true},
		{"short layout, escaped subject", strings.Replace(learntShort, `"k-1"`, `"k\"1"`, 1), false},
		{"short layout, escaped backslash", strings.Replace(learntShort, `"k-1"`, `"k\\1"`, 1), false},
		{"short layout, control character", strings.Replace(learntShort, `"k-1"`, "\"k\t1\"", 1), false},
		{"trailing space", learnt + " ", false},
		{"trailing junk", learnt + "}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var shaped Event
			got := decodeShaped(&shaped, []byte(tc.value), nil)
			if got != tc.shaped {
				t.Errorf("decoded through the shape: %v, want %v", got, tc.shaped)
			}
			// The full path decodes into the same event: a miss leaves
			// nothing behind.
			if !got && !reflect.DeepEqual(shaped, Event{}) {
				t.Errorf("a shape miss left %+v", shaped)
			}
			viaDecode, err := DecodeValue("x", []byte(tc.value), nil, time.Time{})
			var full Event
			fullErr := decodeJSON(&full, "x", []byte(tc.value), time.Time{}, false, nil)
			if (err == nil) != (fullErr == nil) || err != nil && err.Error() != fullErr.Error() {
				t.Fatalf("Decode: %v; full scan: %v", err, fullErr)
			}
			if err != nil {
				return
			}
			sameEvent(t, viaDecode, &full)
			if tc.shaped {
				sameEvent(t, &shaped, &full)
			}
			b1, _ := viaDecode.MarshalJSON()
			b2, _ := full.MarshalJSON()
			if string(b1) != string(b2) {
				t.Errorf("encodings differ:\n%s\n%s", b1, b2)
			}
		})
	}
}

// A structured record whose ce_* headers come before its content type is
// read from its value alone: nothing the headers set stays in the event,
// whichever path (shape or full scan) decodes the value.
func TestStructuredIgnoresHeadersBeforeContentType(t *testing.T) {
	const value = `{"specversion":"1.0","id":"s-1","source":"crm","type":"t","data":{"a":1}}`
	headers := []kgo.RecordHeader{
		{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_time", Value: []byte("2024-05-01T10:00:00Z")},
		{Key: "ce_dataschema", Value: []byte("https://example.com/s")}, {Key: "ce_tenant", Value: []byte("acme")},
		{Key: "content-type", Value: []byte(ContentTypeCloudEvents)},
	}
	want, err := DecodeValue("x", []byte(value), nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the first record learns the shape, the second uses it
		got, err := DecodeValue("x", []byte(value), headers, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decode %d: %+v\nwant %+v", i, got, want)
		}
	}
}
