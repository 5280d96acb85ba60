// Package event is ksuite's event library on franz-go: CloudEvents on Kafka
// with a producer, a transactional outbox, and a consumer router with
// retries, dead-letter topics and exactly-once effects through an inbox. It
// replaces Spring's KafkaTemplate and @KafkaListener @Transactional, and
// closes their holes: non-unique ids, effects applied twice after a crash,
// poison records that stop a listener, events lost while Kafka is down.
//
// # Envelope
//
// An [Event] is a CloudEvents 1.0 event, written by default in structured
// JSON mode:
//
//	{"specversion":"1.0","id":"<UUIDv7>","source":"member-service","type":"signup-event",
//	 "time":"2024-05-01T10:00:00Z","subject":"member-42","datacontenttype":"application/json",
//	 "data":{...}}
//
// or in binary mode ([Binary]: ce_* headers, the data as the record value).
// [New] fills the id and time; [Decode] reads both modes (the content-type
// header decides, as the Kafka protocol binding says) and the legacy
// {"uuid": ..., "data": ...} shape; [DataAs] (or the [Typed] handler
// adapter) decodes the data into a struct and calls its Validate method if
// it has one. Every decoding failure is a [*DecodeError]. Decoding checks
// the envelope; the data, in both modes, is checked when it is read
// ([DataAs]) or encoded again. Events are validated whenever a record is
// built, never from a remembered check.
//
// # Producing
//
// A [Producer] publishes events keyed by subject, so one entity's events
// stay in one partition, in order; franz-go's idempotent acks=all producer
// keeps them so across retries. [Producer.Publish] waits for the ack,
// [Producer.PublishAsync] batches. A traceparent carried by the context
// ([ContextWithTraceparent]) becomes a W3C traceparent header.
//
// # Outbox
//
// To publish exactly when a database change commits, [Outbox.Add] writes
// the event into an outbox table in the same *sql.Tx, and a [Relay]
// publishes the rows in order per key and marks them sent. SQLite and
// PostgreSQL are supported ([Dialect]); on PostgreSQL several relays can
// run, sharing the work by key shard (FOR UPDATE SKIP LOCKED).
//
// # Consuming
//
// A [Router] runs handlers registered by consumer group, topic and
// optionally event type. It is at least once: a record is marked for commit
// only after its handler succeeded (franz-go AutoCommitMarks), and
// rebalances wait for the records being handled (BlockRebalanceOnPoll), so
// a revoke never commits past unfinished work. Partitions run in parallel,
// each in order, or with [RouterConfig.KeyConcurrency] several keys of one
// partition in parallel behind a committed watermark. Balancing is
// cooperative-sticky. Cancelling Run's context stops polling, lets
// in-flight handlers finish (up to a deadline), commits and leaves the
// group.
//
// # Errors never block a partition
//
// A record that does not decode goes to "<topic>.DLT" at once; data that
// is not JSON makes [DataAs] (and [Typed], [TypedTx]) fail with a
// [*DecodeError], dead-lettered without retries. A handler
// error is retried with bounded exponential backoff ([RetryPolicy]), then
// dead-lettered; [Permanent] skips the retries. Dead letters keep the
// original key, value and headers and add the ksuite-dlt-* headers
// ([HeaderDLTOriginalTopic] and following). The partition then moves on.
//
// # Exactly-once effects
//
// An [Inbox] runs a handler in a database transaction that also inserts the
// event's (group, source, id) under a unique key; a redelivered event is
// skipped. [Inbox.BatchHandler] with [Router.HandleBatch] applies many
// events per transaction.
//
// # Metrics
//
// [RouterConfig.Observer] and [RelayConfig.Observer] take an [Observer];
// package eventprom implements it with Prometheus metrics registered on a
// registerer you pass.
package event
