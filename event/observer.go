package event

import "time"

// Observer receives the router's and relay's measurements. The eventprom
// package implements it with Prometheus metrics; implement it yourself for
// another metrics system. Methods are called on hot paths from many
// goroutines: they must be fast and safe for concurrent use.
type Observer interface {
	// Consumed is called for each record polled, including records fetched
	// again after a retry pause.
	Consumed(group, topic string, partition int32)
	// Handled is called when a handler (or batch handler, once per record)
	// succeeded after d.
	Handled(group, topic string, d time.Duration)
	// Failed is called when a handler call returned an error after d.
	Failed(group, topic string, d time.Duration, err error)
	// Retried is called before each retry.
	Retried(group, topic string)
	// DeadLettered is called when a record was written to its dead-letter
	// topic.
	DeadLettered(group, topic string)
	// Lag is called after each processed poll with the records left in the
	// partition beyond the last one handled.
	Lag(group, topic string, partition int32, lag int64)
	// OutboxBacklog is called by the relay with the number of unsent rows.
	OutboxBacklog(table string, rows int64)
	// OutboxParked is called when the relay parks a row of table that
	// Kafka rejected for good (see [Relay]).
	OutboxParked(table, topic string)
}

// nopObserver is the default: no measurements.
type nopObserver struct{}

func (nopObserver) Consumed(string, string, int32)              {}
func (nopObserver) Handled(string, string, time.Duration)       {}
func (nopObserver) Failed(string, string, time.Duration, error) {}
func (nopObserver) Retried(string, string)                      {}
func (nopObserver) DeadLettered(string, string)                 {}
func (nopObserver) Lag(string, string, int32, int64)            {}
func (nopObserver) OutboxBacklog(string, int64)                 {}
func (nopObserver) OutboxParked(string, string)                 {}

var _ Observer = nopObserver{}
