package event

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Message is what a handler receives: the decoded event and the record it
// came from.
type Message struct {
	// Event is the decoded event.
	Event *Event
	// Record is the consumed record (topic, partition, offset, key, headers).
	// Handlers must not modify it.
	Record *kgo.Record
	// Group is the consumer group the handler runs in.
	Group string
	// Attempt counts deliveries to the handler in this process, from 1; it
	// is above 1 when the router retries after an error.
	Attempt int

	// duplicate is set by the Inbox when it skipped the event as handled
	// before, for the router's DuplicateObserver.
	duplicate bool
}

// HandlerFunc handles one event. Returning nil marks the record for commit;
// an error is retried per the [RetryPolicy] and then dead-lettered; an error
// wrapped with [Permanent] (or a [*DecodeError]) is dead-lettered at once.
// ctx is cancelled when the router shuts down past its drain deadline.
type HandlerFunc func(ctx context.Context, msg *Message) error

// BatchHandlerFunc handles consecutive events of one partition together, in
// offset order (see [Router.HandleBatch]). Returning nil marks them all.
type BatchHandlerFunc func(ctx context.Context, msgs []*Message) error

// Middleware wraps a handler to add behaviour around it (logging, tracing,
// timeouts), the way net/http middleware does.
type Middleware func(HandlerFunc) HandlerFunc

// Chain wraps h with mws; the first middleware is the outermost, so it sees
// the message first and the result last.
func Chain(h HandlerFunc, mws ...Middleware) HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Typed adapts a handler of a concrete data type: the event's data is
// decoded into a T first; data that does not decode is a [*DecodeError] and
// is dead-lettered without calling fn.
func Typed[T any](fn func(ctx context.Context, msg *Message, data T) error) HandlerFunc {
	return func(ctx context.Context, msg *Message) error {
		data, err := DataAs[T](msg.Event)
		if err != nil {
			return err
		}
		return fn(ctx, msg, data)
	}
}

// PanicError is the error a handler's panic becomes. The router always
// recovers handler panics, so one bad record cannot kill the consumer.
type PanicError struct {
	// Value is what the handler panicked with.
	Value any
	// Stack is the handler goroutine's stack at the panic.
	Stack []byte
}

// Error describes the panic; the stack is in Stack, not in the text.
func (e *PanicError) Error() string { return fmt.Sprintf("event: handler panic: %v", e.Value) }

// callHandler runs h, turning a panic into a *PanicError.
func callHandler(ctx context.Context, h HandlerFunc, msg *Message) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, msg)
}

// callBatch runs h, turning a panic into a *PanicError.
func callBatch(ctx context.Context, h BatchHandlerFunc, msgs []*Message) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, msgs)
}
