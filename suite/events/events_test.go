package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/event"
)

var update = flag.Bool("update", false, "rewrite the catalogue section of docs/events.md")

func TestFlexibleTypes(t *testing.T) {
	type all struct {
		ID   ID   `json:"id"`
		Int  Int  `json:"int"`
		Bool Bool `json:"bool"`
		Time Time `json:"time"`
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    all
		wantErr string
	}{
		{in: `{"id":42,"int":-5,"bool":true,"time":"2024-05-01T00:00:00Z"}`, want: all{42, -5, true, Time{day}}},
		{in: `{"id":"42","int":"5000","bool":"true","time":"2024-05-01T00:00:00"}`, want: all{42, 5000, true, Time{day}}},
		{in: `{"bool":"false","time":"2024-05-01"}`, want: all{Time: Time{day}}},
		{in: `{"time":1714521600000}`, want: all{Time: Time{day}}},
		{in: `{"time":"2024-05-01T02:00:00+02:00"}`, want: all{Time: Time{day}}},
		{in: `{"id":null,"int":null,"bool":null,"time":null}`, want: all{}},
		{in: `{"id":0}`, wantErr: "id: 0, want a positive integer"},
		{in: `{"id":-7}`, wantErr: "id: -7, want a positive integer"},
		{in: `{"id":4.5}`, wantErr: "id: 4.5, want a positive integer"},
		{in: `{"id":"abc"}`, wantErr: `id: "abc", want a positive integer`},
		{in: `{"id":true}`, wantErr: "id: true, want a positive integer"},
		{in: `{"int":"1e3"}`, wantErr: `int: "1e3", want an integer`},
		{in: `{"bool":"yes"}`, wantErr: `bool: "yes", want true or false`},
		{in: `{"bool":1}`, wantErr: `bool: 1, want true or false`},
		{in: `{"time":"yesterday"}`, wantErr: `time: "yesterday", want an RFC 3339 time`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got all
			err := json.Unmarshal([]byte(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || describe(err) != tt.wantErr {
					t.Fatalf("error %v (described %q), want %q", err, describeOrNil(err), tt.wantErr)
				}
				return
			}
			if err != nil || !got.Time.Equal(tt.want.Time.Time) || got.ID != tt.want.ID || got.Int != tt.want.Int || got.Bool != tt.want.Bool {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func describeOrNil(err error) string {
	if err == nil {
		return ""
	}
	return describe(err)
}

func TestTypesWritePlainJSON(t *testing.T) {
	b, err := json.Marshal(Join{SuiteRoomID: 7, IsHost: true, AuthorizerDto: Authorizer{MemberID: 42}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"suiteRoomId":7,"isHost":true,"authorizerDto":{"memberId":42,"email":"","name":"","nickName":"","accountStatus":"","role":""}}`
	if string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(Signup{}); !strings.Contains(string(b), `"signedUpAt":null`) {
		t.Fatalf("a zero time is written as %s, want null", b)
	}
}

// message is a consumed message of topic holding data.
func message(t *testing.T, topic, typ, source, data string) *event.Message {
	t.Helper()
	return &event.Message{
		Event:  &event.Event{ID: "e-1", Source: source, Type: typ, DataContentType: event.ContentTypeJSON, Data: []byte(data)},
		Record: &kgo.Record{Topic: topic},
	}
}

func TestDecodeJoin(t *testing.T) {
	tests := []struct {
		name, typ, source, data string
		want                    Join
		wantErr                 string
	}{
		{name: "numbers", data: `{"suiteRoomId":7,"isHost":false,"authorizerDto":{"memberId":42,"nickName":"ada"}}`,
			want: Join{SuiteRoomID: 7, AuthorizerDto: Authorizer{MemberID: 42, NickName: "ada"}}},
		{name: "strings", data: `{"suiteRoomId":"7","isHost":"true","authorizerDto":{"memberId":"42"}}`,
			want: Join{SuiteRoomID: 7, IsHost: true, AuthorizerDto: Authorizer{MemberID: 42}}},
		{name: "unknown fields are ignored", data: `{"suiteRoomId":7,"authorizerDto":{"memberId":42,"age":3},"extra":[1]}`,
			want: Join{SuiteRoomID: 7, AuthorizerDto: Authorizer{MemberID: 42}}},
		{name: "legacy envelope takes the topic as type", typ: "suiteroom-join-anything", source: event.LegacySource,
			data: `{"suiteRoomId":7,"authorizerDto":{"memberId":42}}`, want: Join{SuiteRoomID: 7, AuthorizerDto: Authorizer{MemberID: 42}}},
		{name: "missing room", data: `{"authorizerDto":{"memberId":42}}`, wantErr: "missing required field: suiteRoomId"},
		{name: "missing member", data: `{"suiteRoomId":7,"authorizerDto":{"nickName":"ada"}}`, wantErr: "missing required field: authorizerDto.memberId"},
		{name: "missing both", data: `{}`, wantErr: "missing required fields: suiteRoomId, authorizerDto"},
		{name: "bad nested id", data: `{"suiteRoomId":7,"authorizerDto":{"memberId":"x"}}`, wantErr: `authorizerDto.memberId: "x", want a positive integer`},
		{name: "wrong JSON type", data: `{"suiteRoomId":7,"authorizerDto":{"memberId":1,"email":5}}`, wantErr: "authorizerDto.email: number, want string"},
		{name: "not an object", data: `[1,2]`, wantErr: "array, want object"},
		{name: "not JSON", data: `{"suiteRoomId":`, wantErr: "data is not valid JSON"},
		{name: "no data", data: ``, wantErr: "the event has no data"},
		{name: "another type", typ: "signup-event", data: `{}`, wantErr: `event type "signup-event", want "suiteroom-join"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, source := tt.typ, tt.source
			if typ == "" {
				typ = TopicJoin
			}
			if source == "" {
				source = PaymentService
			}
			got, err := Decode[Join](message(t, "t."+TopicJoin, typ, source, tt.data), TopicJoin)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidData) || !event.IsPermanent(err) {
					t.Fatalf("error %v: want ErrInvalidData and permanent", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// Every example of the catalogue is valid and survives the wire; dropping
// any required field makes it invalid, naming the field.
func TestCatalogueExamples(t *testing.T) {
	for _, s := range Catalogue() {
		t.Run(s.Topic, func(t *testing.T) {
			ev := s.Event()
			rec, err := ev.Record(s.Topic)
			if err != nil {
				t.Fatal(err)
			}
			if string(rec.Key) != s.keyOf() || s.keyOf() == "" {
				t.Fatalf("record key %q, want the example's %s", rec.Key, s.Key)
			}
			got, err := event.Decode(rec)
			if err != nil {
				t.Fatal(err)
			}
			msg := &event.Message{Event: got, Record: rec}
			back, err := decodeAs(s, msg)
			if err != nil {
				t.Fatalf("the example does not decode: %v", err)
			}
			if !reflect.DeepEqual(back, s.Example) {
				t.Fatalf("round trip: %+v, want %+v", back, s.Example)
			}
			for _, f := range s.Fields() {
				if !f.Required {
					continue
				}
				data := withoutField(t, got.Data, f.Path)
				msg := &event.Message{Event: &event.Event{ID: "x", Source: s.Producer, Type: s.Topic, Data: data}, Record: rec}
				if _, err := decodeAs(s, msg); err == nil || !strings.Contains(err.Error(), f.Path) {
					t.Errorf("without %s: error %v, want one naming it", f.Path, err)
				}
			}
		})
	}
}

// decodeAs decodes msg as s's data type.
func decodeAs(s Spec, msg *event.Message) (Data, error) {
	switch s.Example.(type) {
	case Signup:
		return Decode[Signup](msg, s.Topic)
	case DepositPayment:
		return Decode[DepositPayment](msg, s.Topic)
	case ContractCreation:
		return Decode[ContractCreation](msg, s.Topic)
	case Join:
		return Decode[Join](msg, s.Topic)
	case RoomRef:
		return Decode[RoomRef](msg, s.Topic)
	case HallOfFameSelection:
		return Decode[HallOfFameSelection](msg, s.Topic)
	}
	panic(fmt.Sprintf("no decoder for %T", s.Example))
}

// withoutField removes a dotted path from a JSON object.
func withoutField(t *testing.T, data []byte, path string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(path, ".")
	obj := m
	for _, p := range parts[:len(parts)-1] {
		obj = obj[p].(map[string]any)
	}
	delete(obj, parts[len(parts)-1])
	b, _ := json.Marshal(m)
	return b
}

func TestServicesTopics(t *testing.T) {
	if got := fmt.Sprint(Produces(SuiteRoomService)); got != "[deposit-payment suiteroom-canceljoin suiteroom-contract-creation]" {
		t.Errorf("suite-room service produces %s", got)
	}
	want := "[signup-event suiteroom-join suiteroom-canceljoin-error suiteroom-start-error suiteroom-terminate-complete halloffame-selection]"
	if got := fmt.Sprint(Consumes(SuiteRoomService)); got != want {
		t.Errorf("suite-room service consumes %s, want %s", got, want)
	}
	if got := fmt.Sprint(Produces(MemberService), Consumes(MemberService)); got != "[signup-event] []" {
		t.Errorf("member service: %s", got)
	}
	if g := Group(SuiteRoomService, TopicJoin); g != "suiteroom-service.suiteroom-join" {
		t.Errorf("group %s", g)
	}
}

const (
	docsPath    = "../../docs/events.md"
	beginMarker = "<!-- catalogue:begin (generated from suite/events: go test ./suite/events -update) -->\n"
	endMarker   = "<!-- catalogue:end -->\n"
)

// docs/events.md holds the catalogue exactly as the code defines it.
func TestDocsCatalogueUpToDate(t *testing.T) {
	doc, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Markdown(&want); err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := bytes.Cut(doc, []byte(beginMarker))
	_, after, ok2 := bytes.Cut(rest, []byte(endMarker))
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the catalogue markers %q … %q", docsPath, beginMarker, endMarker)
	}
	current := rest[:len(rest)-len(after)-len(endMarker)]
	if bytes.Equal(current, want.Bytes()) {
		return
	}
	if !*update {
		t.Fatalf("%s: the catalogue section differs from suite/events; run go test ./suite/events -update", docsPath)
	}
	out := append(append(append(append(before, beginMarker...), want.Bytes()...), endMarker...), after...)
	if err := os.WriteFile(docsPath, out, 0o644); err != nil {
		t.Fatal(err)
	}
}
