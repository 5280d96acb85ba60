package event

import (
	"fmt"
	"time"
)

// Observer receives the router's and the relay's measurements. It is any
// value that implements one or more of the observer interfaces below
// ([ConsumedObserver], [HandledObserver], [FailedObserver],
// [RetriedObserver], [DeadLetteredObserver], [DuplicateObserver],
// [LagObserver], [OutboxBacklogObserver], [OutboxParkedObserver]): the
// router and the relay call the methods it has and skip the others, the way
// franz-go calls its hooks. So implement only what you measure, and a
// measurement added in a later release never breaks your implementation.
//
// Package eventprom implements them all with Prometheus metrics. Methods
// are called on hot paths from many goroutines: they must be fast and safe
// for concurrent use.
type Observer any

// ConsumedObserver is told of each record polled, including records
// fetched again after a retry pause.
type ConsumedObserver interface {
	Consumed(group, topic string, partition int32)
}

// HandledObserver is told when a handler (or a batch handler, once per
// record) succeeded after d.
type HandledObserver interface {
	Handled(group, topic string, d time.Duration)
}

// FailedObserver is told when a handler call returned an error after d.
type FailedObserver interface {
	Failed(group, topic string, d time.Duration, err error)
}

// RetriedObserver is told before each retry of a failed record.
type RetriedObserver interface {
	Retried(group, topic string)
}

// DeadLetteredObserver is told when a record was written to its dead-letter
// topic.
type DeadLetteredObserver interface {
	DeadLettered(group, topic string)
}

// DuplicateObserver is told when an [Inbox] handler skipped an event it had
// handled before (a redelivery after a crash, a rebalance or a replay). The
// record also counts as handled: handled minus duplicates is the events
// whose effects were applied.
type DuplicateObserver interface {
	Duplicate(group, topic string)
}

// LagObserver is told after each processed poll how many records are left
// in the partition beyond the last one handled.
type LagObserver interface {
	Lag(group, topic string, partition int32, lag int64)
}

// OutboxBacklogObserver is told by the relay how many rows of table wait to
// be published.
type OutboxBacklogObserver interface {
	OutboxBacklog(table string, rows int64)
}

// OutboxParkedObserver is told when the relay parks a row of table that
// Kafka rejected for good (see [Relay]).
type OutboxParkedObserver interface {
	OutboxParked(table, topic string)
}

// observers is an Observer resolved once into the calls it implements; the
// others are no-ops, so call sites need no checks.
type observers struct {
	consumed     func(group, topic string, partition int32)
	handled      func(group, topic string, d time.Duration)
	failed       func(group, topic string, d time.Duration, err error)
	retried      func(group, topic string)
	deadLettered func(group, topic string)
	duplicate    func(group, topic string)
	lag          func(group, topic string, partition int32, lag int64)
	backlog      func(table string, rows int64)
	parked       func(table, topic string)

	timed       bool // someone wants handler latencies: read the clock
	wantBacklog bool // someone wants the backlog: count it
	any         bool // the Observer implements at least one interface
}

// resolveObserver sorts o's methods out; a nil o observes nothing.
func resolveObserver(o Observer) observers {
	ob := observers{
		consumed:     func(string, string, int32) {},
		handled:      func(string, string, time.Duration) {},
		failed:       func(string, string, time.Duration, error) {},
		retried:      func(string, string) {},
		deadLettered: func(string, string) {},
		duplicate:    func(string, string) {},
		lag:          func(string, string, int32, int64) {},
		backlog:      func(string, int64) {},
		parked:       func(string, string) {},
	}
	if x, ok := o.(ConsumedObserver); ok {
		ob.consumed, ob.any = x.Consumed, true
	}
	if x, ok := o.(HandledObserver); ok {
		ob.handled, ob.timed, ob.any = x.Handled, true, true
	}
	if x, ok := o.(FailedObserver); ok {
		ob.failed, ob.timed, ob.any = x.Failed, true, true
	}
	if x, ok := o.(RetriedObserver); ok {
		ob.retried, ob.any = x.Retried, true
	}
	if x, ok := o.(DeadLetteredObserver); ok {
		ob.deadLettered, ob.any = x.DeadLettered, true
	}
	if x, ok := o.(DuplicateObserver); ok {
		ob.duplicate, ob.any = x.Duplicate, true
	}
	if x, ok := o.(LagObserver); ok {
		ob.lag, ob.any = x.Lag, true
	}
	if x, ok := o.(OutboxBacklogObserver); ok {
		ob.backlog, ob.wantBacklog, ob.any = x.OutboxBacklog, true, true
	}
	if x, ok := o.(OutboxParkedObserver); ok {
		ob.parked, ob.any = x.OutboxParked, true
	}
	return ob
}

// checkObserver rejects an Observer that implements none of the observer
// interfaces: it would be silently ignored, which is surely a mistake (a
// method with the wrong signature, say).
func checkObserver(field string, o Observer) error {
	if o == nil || resolveObserver(o).any {
		return nil
	}
	return fmt.Errorf("event: %s (%T) implements none of the observer interfaces "+
		"(ConsumedObserver, HandledObserver, FailedObserver, RetriedObserver, DeadLetteredObserver, "+
		"DuplicateObserver, LagObserver, OutboxBacklogObserver, OutboxParkedObserver): check its method signatures", field, o)
}
