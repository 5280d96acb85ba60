package event

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The router decodes a poll's records into blocks (slab, strArena): every
// message must read as if decoded on its own, however many came after it
// from the same blocks, and a record that failed to decode must not leave
// anything in the next one's event.
func TestSlabMessagesStayAsDecoded(t *testing.T) {
	for _, mode := range []ContentMode{Structured, Binary} {
		t.Run(mode.String(), func(t *testing.T) {
			var sl slab
			var recs []*kgo.Record
			var msgs []*Message
			// Enough records to fill several blocks of both kinds.
			for i := range 3 * arenaBlock / 40 {
				ev := benchEvent(t, i)
				ev.Subject = fmt.Sprintf("subject-%d", i)
				if i%7 == 3 {
					// An extension only here, then a record that fails:
					// neither may show in the next record's event.
					if err := ev.SetExtension("tenant", "acme"); err != nil {
						t.Fatal(err)
					}
				}
				r, err := ev.record("t", "", mode)
				if err != nil {
					t.Fatal(err)
				}
				if i%7 == 3 {
					bad := *r
					bad.Value = append([]byte(nil), r.Value...)
					bad.Headers = append([]kgo.RecordHeader(nil), r.Headers...)
					breakTime(t, &bad, mode)
					if _, err := sl.message(&bad, "g"); err == nil {
						t.Fatalf("record %d with a bad time decoded", i)
					}
					ev.Extensions = nil
					if r, err = ev.record("t", "", mode); err != nil {
						t.Fatal(err)
					}
				}
				msg, err := sl.message(r, "g")
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				recs, msgs = append(recs, r), append(msgs, msg)
			}
			for i, r := range recs {
				want, err := Decode(r)
				if err != nil {
					t.Fatal(err)
				}
				if got := msgs[i].Event; !reflect.DeepEqual(got, want) {
					t.Fatalf("record %d reads\n%+v\nwant\n%+v", i, got, want)
				}
				if msgs[i].Record != r || msgs[i].Group != "g" {
					t.Fatalf("record %d: message of record %v, group %q", i, msgs[i].Record, msgs[i].Group)
				}
			}
		})
	}
}

// breakTime makes r's time invalid, after its other attributes.
func breakTime(t *testing.T, r *kgo.Record, mode ContentMode) {
	t.Helper()
	if mode == Binary {
		for i := range r.Headers {
			if r.Headers[i].Key == "ce_time" {
				r.Headers[i].Value = []byte("yesterday")
				return
			}
		}
		t.Fatal("no ce_time header")
	}
	i := bytes.Index(r.Value, []byte(`"time":"`))
	if i < 0 {
		t.Fatalf("no time in %s", r.Value)
	}
	copy(r.Value[i+len(`"time":"`):], "yesterday")
}
