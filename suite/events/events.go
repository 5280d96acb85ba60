// Package events is the Suite's event catalogue: the topics its services
// publish and consume, who does which, and the data each event carries,
// with the team's camelCase field names. The member and suite-room services
// import it, and so can any other service of the team; docs/events.md is
// rendered from it ([Markdown]).
//
// Every event is a CloudEvent whose type is its topic's name, keyed by the
// entity it is about (the room's or the member's id). Consumers read the
// data with [Decode], which validates it against the catalogue: a field of
// the wrong type, or a missing required one, is an error naming the field,
// and the event goes to the topic's dead-letter topic (<topic>.DLT).
//
// The team's older producers are read as they wrote: the legacy
// {"uuid": ..., "data": {...}} envelope (package event decodes it), and ids,
// amounts and flags sent as JSON strings ("42", "true") as well as numbers
// and booleans.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/ksuite/ksuite/event"
)

// Topics, as declared in the repository's topics.yaml. Each is also the
// CloudEvents type of its events.
const (
	TopicSignup            = "signup-event"
	TopicDepositPayment    = "deposit-payment"
	TopicCancelJoin        = "suiteroom-canceljoin"
	TopicContractCreation  = "suiteroom-contract-creation"
	TopicJoin              = "suiteroom-join"
	TopicCancelJoinError   = "suiteroom-canceljoin-error"
	TopicStartError        = "suiteroom-start-error"
	TopicTerminateComplete = "suiteroom-terminate-complete"
	TopicHallOfFame        = "halloffame-selection"
)

// Services, as they name themselves in the events' source attribute and in
// their consumer groups.
const (
	MemberService     = "member-service"
	SuiteRoomService  = "suiteroom-service"
	PaymentService    = "payment-service"
	ContractService   = "contract-service"
	HallOfFameService = "halloffame-service"
	SettlementService = "settlement-service"
)

// Group is the consumer group of service for topic: "<service>.<topic>".
// Every consumer has a group of its own, as the team's @KafkaListeners had,
// so one slow or failing topic never holds another back.
func Group(service, topic string) string { return service + "." + topic }

// Data is what every event's data type implements: Validate reports a
// missing required field.
type Data interface {
	Validate() error
}

// Decode reads the data of msg, consumed from topic (a catalogue name), as
// a T and validates it. The event must have topic's type; the legacy
// envelope, which has no type of its own, is taken as it comes. Every
// failure wraps [ErrInvalidData] and is [event.Permanent]: no retry can
// make the data valid, so the router dead-letters the event with the
// reason (which names the field) and moves on.
func Decode[T Data](msg *event.Message, topic string) (T, error) {
	var v T
	ev := msg.Event
	if ev.Type != topic && ev.Source != event.LegacySource {
		return v, invalid(msg, fmt.Sprintf("event type %q, want %q", ev.Type, topic))
	}
	v, err := event.DataAs[T](ev) // decodes, then calls v.Validate
	if err != nil {
		return v, invalid(msg, dataError[T](ev.Data, err))
	}
	return v, nil
}

func invalid(msg *event.Message, reason string) error {
	return event.Permanent(fmt.Errorf("%s event %s: %w: %s", msg.Event.Type, msg.Event.ID, ErrInvalidData, reason))
}

// dataError says what is wrong with data in the terms of its JSON fields
// rather than of the Go types it was decoded into. DataAs's error carries
// encoding/json's only as text, so the data is decoded again, on this
// failure path only, to get at the field.
func dataError[T Data](data []byte, err error) string {
	if len(bytes.TrimSpace(data)) == 0 {
		return "the event has no data (a legacy envelope without \"data\"?)"
	}
	var v T
	if jerr := json.Unmarshal(data, &v); jerr != nil {
		return describe(jerr)
	}
	if verr := v.Validate(); verr != nil {
		return verr.Error()
	}
	return err.Error() // not JSON at all, e.g. a non-JSON content type
}

// describe turns encoding/json's errors into "field: got, want" text.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		name := te.Field
		if name == "" {
			name = "data"
		}
		if strings.Contains(te.Value, ", want ") {
			return name + ": " + te.Value
		}
		return name + ": " + te.Value + ", want " + jsonKind(te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "data is not valid JSON: " + se.Error()
	}
	return err.Error()
}

// jsonKind names a Go kind as JSON does.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	default:
		return "number"
	}
}
