package events

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ksuite/ksuite/event"
)

// Spec describes one topic of the catalogue.
type Spec struct {
	// Topic is the topic's name and its events' type.
	Topic string
	// Summary says what happened, in one sentence.
	Summary string
	// Producer is the service that publishes it.
	Producer string
	// Consumers are the services that consume it, each in its own group.
	Consumers []Consumer
	// Key names the data field whose value is the record key (the
	// CloudEvents subject): one entity's events stay in order.
	Key string
	// Example is a value of the topic's data type; its type is the schema.
	Example Data
}

// Consumer is one consumer of a topic.
type Consumer struct {
	// Service consumes the topic in group [Group](Service, topic).
	Service string
	// Does says what the consumer does with an event.
	Does string
}

// Group is the consumer's group for topic.
func (c Consumer) Group(topic string) string { return Group(c.Service, topic) }

var (
	exampleMember = Authorizer{MemberID: 42, Email: "ada@example.com", Name: "Ada Lovelace",
		NickName: "ada", AccountStatus: "ACTIVE", Role: "USER"}
	exampleTime = Time{time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
)

// catalogue is in saga order: sign-up, the room's outgoing events, then the
// answers the suite-room service consumes.
var catalogue = []Spec{
	{
		Topic: TopicSignup, Producer: MemberService, Key: "memberId",
		Summary:   "A member signed up (`POST /api/members`).",
		Consumers: []Consumer{{SuiteRoomService, "keeps its own member directory (it never reads the member service's tables)"}},
		Example:   Signup{MemberID: 42, Email: "ada@example.com", Name: "Ada Lovelace", NickName: "ada", SignedUpAt: exampleTime},
	},
	{
		Topic: TopicDepositPayment, Producer: SuiteRoomService, Key: "suiteRoomId",
		Summary:   "A member asked to join a room (`POST /api/suiterooms/{id}/participants`), or a host created one: the deposit is to be paid.",
		Consumers: []Consumer{{PaymentService, "takes the deposit, then publishes `suiteroom-join`"}},
		Example:   DepositPayment{SuiteRoomID: 7, AuthorizerDto: exampleMember, DepositAmount: 10000, IsHost: false},
	},
	{
		Topic: TopicCancelJoin, Producer: SuiteRoomService, Key: "suiteRoomId",
		Summary:   "A participant left a room (`DELETE /api/suiterooms/{id}/participants/{memberId}`): the deposit is to be refunded.",
		Consumers: []Consumer{{PaymentService, "refunds the deposit; publishes `suiteroom-canceljoin-error` when the refund fails"}},
		Example:   DepositPayment{SuiteRoomID: 7, AuthorizerDto: exampleMember, DepositAmount: 10000, IsHost: false},
	},
	{
		Topic: TopicContractCreation, Producer: SuiteRoomService, Key: "suiteRoomId",
		Summary:   "A room started (`POST /api/suiterooms/{id}/start`): its study contract is to be created.",
		Consumers: []Consumer{{ContractService, "creates the contract; publishes `suiteroom-start-error` when that fails"}},
		Example: ContractCreation{SuiteRoomID: 7, Title: "Algorithms, 8 weeks", ParticipantIDs: []ID{41, 42},
			GroupCapacity: 4, GroupDepositPerPerson: 10000, HostMemberID: 41, StudyDeadline: Time{exampleTime.AddDate(0, 2, 0)},
			MinAttendanceRate: 80, MinMissionCompleteRate: 70},
	},
	{
		Topic: TopicJoin, Producer: PaymentService, Key: "suiteRoomId",
		Summary: "The deposit was paid: the member is in.",
		Consumers: []Consumer{{SuiteRoomService, "the host (a PLAIN participant since the room was created) becomes READY; " +
			"anyone else is added as a READY participant. Unknown, full, started or terminated room: dead letter"}},
		Example: Join{SuiteRoomID: 7, IsHost: false, AuthorizerDto: exampleMember},
	},
	{
		Topic: TopicCancelJoinError, Producer: PaymentService, Key: "suiteRoomId",
		Summary:   "A refund failed: the member who left is to be restored.",
		Consumers: []Consumer{{SuiteRoomService, "restores the participant (compensation), as `suiteroom-join` adds one"}},
		Example:   Join{SuiteRoomID: 7, IsHost: false, AuthorizerDto: exampleMember},
	},
	{
		Topic: TopicStartError, Producer: ContractService, Key: "suiteRoomId",
		Summary:   "The study contract could not be created: the start is reverted.",
		Consumers: []Consumer{{SuiteRoomService, "the room goes back from START to OPEN and every participant back to READY"}},
		Example:   RoomRef{SuiteRoomID: 7},
	},
	{
		Topic: TopicTerminateComplete, Producer: SettlementService, Key: "suiteRoomId",
		Summary:   "The room was settled and terminated.",
		Consumers: []Consumer{{SuiteRoomService, "deletes the room and its participants"}},
		Example:   RoomRef{SuiteRoomID: 7},
	},
	{
		Topic: TopicHallOfFame, Producer: HallOfFameService, Key: "suiteRoomId",
		Summary:   "The hall of fame honoured a room.",
		Consumers: []Consumer{{SuiteRoomService, "sets the room's `honorPoint`"}},
		Example:   HallOfFameSelection{SuiteRoomID: 7, HonorPoint: 150},
	},
}

// Catalogue returns every topic of the Suite, in saga order.
func Catalogue() []Spec { return slices.Clone(catalogue) }

// Lookup returns the spec of topic.
func Lookup(topic string) (Spec, bool) {
	for _, s := range catalogue {
		if s.Topic == topic {
			return s, true
		}
	}
	return Spec{}, false
}

// Produces lists the topics service publishes.
func Produces(service string) []string {
	var out []string
	for _, s := range catalogue {
		if s.Producer == service {
			out = append(out, s.Topic)
		}
	}
	return out
}

// Consumes lists the topics service consumes; its group for each is
// [Group](service, topic).
func Consumes(service string) []string {
	var out []string
	for _, s := range catalogue {
		for _, c := range s.Consumers {
			if c.Service == service {
				out = append(out, s.Topic)
			}
		}
	}
	return out
}

// Field is one field of a topic's data, for documentation.
type Field struct {
	// Path is the JSON name, dotted below the top level
	// ("authorizerDto.memberId").
	Path string
	// Type is the JSON type, with the forms accepted on input.
	Type string
	// Required fields must be present and not zero or empty.
	Required bool
	// Doc says what the field holds.
	Doc string
}

// Fields lists the fields of s's data, nested ones after their parent.
func (s Spec) Fields() []Field {
	var out []Field
	appendFields(&out, reflect.TypeOf(s.Example), fieldsOf(reflect.TypeOf(s.Example)), "")
	return out
}

func appendFields(out *[]Field, t reflect.Type, fields []field, prefix string) {
	for _, f := range fields {
		ft := t.Field(f.index).Type
		*out = append(*out, Field{Path: prefix + f.name, Type: typeName(ft), Required: f.required, Doc: f.doc})
		if f.nested != nil {
			appendFields(out, ft, f.nested, prefix+f.name+".")
		}
	}
}

// typeName describes a data field's JSON type and accepted forms.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[ID]():
		return "integer > 0 (or a string of one)"
	case reflect.TypeFor[Int]():
		return "integer (or a string of one)"
	case reflect.TypeFor[Bool]():
		return "boolean (or \"true\"/\"false\")"
	case reflect.TypeFor[Time]():
		return "RFC 3339 time (also a local date-time, a date, epoch ms)"
	}
	if t.Kind() == reflect.Slice {
		return "array of " + strings.TrimSuffix(typeName(t.Elem()), " (or a string of one)")
	}
	return jsonKind(t)
}

// Event returns s's example as the event its producer publishes, with a
// fixed id and time.
func (s Spec) Event() *event.Event {
	ev, err := event.New(s.Topic, s.keyOf(), s.Example)
	if err != nil {
		panic(fmt.Sprintf("events: catalogue example of %s: %v", s.Topic, err)) // a broken catalogue
	}
	ev.Source = s.Producer
	ev.ID = "0190b5a2-7c8e-7d4e-9b1a-3f2c1d0e9f8a"
	ev.Time = exampleTime.Time
	return ev
}

// keyOf is the example's key field as text.
func (s Spec) keyOf() string {
	var m map[string]json.RawMessage
	b, _ := json.Marshal(s.Example)
	_ = json.Unmarshal(b, &m)
	return strings.Trim(string(m[s.Key]), `"`)
}

// Markdown writes the catalogue as docs/events.md holds it: one section per
// topic with producer, consumers, key, fields and an example.
func Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| topic | producer | consumers (group) |\n|---|---|---|\n")
	for _, s := range catalogue {
		var cs []string
		for _, c := range s.Consumers {
			cs = append(cs, fmt.Sprintf("%s (`%s`)", c.Service, c.Group(s.Topic)))
		}
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", s.Topic, s.Topic, s.Producer, strings.Join(cs, ", "))
	}
	for _, s := range catalogue {
		fmt.Fprintf(&b, "\n### %s\n\n%s\n\n", s.Topic, s.Summary)
		fmt.Fprintf(&b, "- **Producer:** %s. **Key (subject):** `%s`. **Dead letters:** `%s`.\n", s.Producer, s.Key, event.DeadLetterTopic(s.Topic))
		for _, c := range s.Consumers {
			fmt.Fprintf(&b, "- **Consumer:** %s, group `%s`: %s.\n", c.Service, c.Group(s.Topic), c.Does)
		}
		b.WriteString("\n| field | type | required | meaning |\n|---|---|---|---|\n")
		for _, f := range s.Fields() {
			req := ""
			if f.Required {
				req = "yes"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Path, f.Type, req, f.Doc)
		}
		data, err := json.MarshalIndent(s.Example, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n```json\n%s\n```\n", data)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
