package event

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// InboxConfig configures an [Inbox].
type InboxConfig struct {
	// DB is the database holding the inbox table and the handler's data.
	DB *sql.DB
	// Dialect is SQLite or Postgres.
	Dialect Dialect
	// Table is the inbox table. Default "ksuite_inbox".
	Table string
	// TxOptions are used for every handler transaction. Default: the
	// database's default isolation.
	TxOptions *sql.TxOptions
	// Consumer names the consumer in the inbox key in place of the
	// message's consumer group. Set it to keep the key when the group
	// changes: a replay from offset 0 into a fresh group then skips every
	// event the consumer already applied. Give each consumer (each inbox
	// handler) its own name. Default: the group.
	Consumer string
}

func (c *InboxConfig) setDefaults() {
	if c.Table == "" {
		c.Table = "ksuite_inbox"
	}
}

// Validate reports a config that cannot work.
func (c *InboxConfig) Validate() error {
	return validateStore("inbox", "InboxConfig.Table", c.DB, c.Dialect, c.Table)
}

// Inbox gives handlers exactly-once effects on a SQL database. Each event's
// (group, source, id) is inserted into the inbox table in the same
// transaction as the handler's writes; the unique key turns a redelivered
// event (after a crash, a rebalance, a replay from offset 0) into a no-op.
// The transaction commits before the router marks the offset, so a crash in
// between only causes a redelivery that the inbox skips.
//
// Keep inbox rows at least as long as the topic keeps records, or a replay
// could apply old events again; [Inbox.Prune] deletes older ones.
//
// Legacy events ({"uuid","data"}) have ids that are not unique, so they
// are keyed by their position instead: source "legacy:<topic>:<partition>"
// and id "<offset>".
type Inbox struct {
	cfg    InboxConfig
	insert string
}

// TxHandlerFunc handles an event inside the inbox transaction; write the
// effects with tx. Do not commit or roll back tx.
type TxHandlerFunc func(ctx context.Context, tx *sql.Tx, msg *Message) error

// TypedTx adapts a transactional handler of a concrete data type, for
// [Inbox.Handler] and [Inbox.BatchHandler], as [Typed] does for plain
// handlers: the event's data is decoded into a T with [DataAs] first. Data
// that does not decode is a [*DecodeError]: fn is not called, the
// transaction is rolled back and the event is dead-lettered without
// retries (a batch is rolled back and handled again one event at a time,
// so only that event is dead-lettered).
func TypedTx[T any](fn func(ctx context.Context, tx *sql.Tx, msg *Message, data T) error) TxHandlerFunc {
	return func(ctx context.Context, tx *sql.Tx, msg *Message) error {
		data, err := DataAs[T](msg.Event)
		if err != nil {
			return err
		}
		return fn(ctx, tx, msg, data)
	}
}

// NewInbox returns an inbox; call Migrate once to create its table.
func NewInbox(cfg InboxConfig) (*Inbox, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := cfg.Dialect
	return &Inbox{
		cfg: cfg,
		insert: "INSERT INTO " + cfg.Table + " (consumer_group, source, id) VALUES (" +
			d.args(1, 3) + ") ON CONFLICT DO NOTHING",
	}, nil
}

// Schema is the DDL Migrate runs, statement by statement, for migration
// tools.
func (i *Inbox) Schema() []string {
	ts := "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
	if i.cfg.Dialect == Postgres {
		ts = "TIMESTAMPTZ NOT NULL DEFAULT now()"
	}
	t := i.cfg.Table
	return []string{
		"CREATE TABLE IF NOT EXISTS " + t + ` (
	consumer_group TEXT NOT NULL,
	source TEXT NOT NULL,
	id TEXT NOT NULL,
	handled_at ` + ts + `,
	PRIMARY KEY (consumer_group, source, id)
)`,
		// For Prune, which would otherwise scan the whole table.
		"CREATE INDEX IF NOT EXISTS " + bareName(t) + "_handled_at ON " + t + " (handled_at)",
	}
}

// Migrate creates the inbox table if it does not exist.
func (i *Inbox) Migrate(ctx context.Context) error {
	return migrate(ctx, i.cfg.DB, "inbox", i.cfg.Table, i.Schema())
}

// Prune deletes the keys of events handled more than keep ago, a thousand
// per statement, and returns how many it deleted. Call it now and then
// (an hourly ticker will do) with keep at least the retention of the
// topics the inbox serves: an event replayed after its key is gone would
// be applied again. A keep that is not positive is an error.
func (i *Inbox) Prune(ctx context.Context, keep time.Duration) (int64, error) {
	t, d := i.cfg.Table, i.cfg.Dialect
	row := "rowid"
	if d == Postgres {
		row = "ctid"
	}
	q := "DELETE FROM " + t + " WHERE " + d.inSubquery(row, "SELECT "+row+" FROM "+t+" WHERE handled_at < "+
		d.ago(1)+" LIMIT 1000")
	n, err := pruneBatches(ctx, i.cfg.DB, q, keep)
	if err != nil {
		return n, fmt.Errorf("event: prune inbox %s: %w", t, err)
	}
	return n, nil
}

// dedupKey is the inbox key of msg.
func dedupKey(msg *Message) (source, id string) {
	if msg.Event.Source == LegacySource {
		r := msg.Record
		return "legacy:" + r.Topic + ":" + strconv.Itoa(int(r.Partition)), strconv.FormatInt(r.Offset, 10)
	}
	return msg.Event.Source, msg.Event.ID
}

// consumer is the consumer part of msg's inbox key.
func (i *Inbox) consumer(msg *Message) string {
	if i.cfg.Consumer != "" {
		return i.cfg.Consumer
	}
	return msg.Group
}

// claim inserts msg's key; false means it was handled before, which msg
// then records for the router's [DuplicateObserver].
func (i *Inbox) claim(ctx context.Context, tx *sql.Tx, msg *Message) (bool, error) {
	msg.duplicate = false // this attempt's transaction decides
	source, id := dedupKey(msg)
	res, err := tx.ExecContext(ctx, i.insert, i.consumer(msg), source, id)
	if err != nil {
		return false, fmt.Errorf("event: inbox insert: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("event: inbox insert: %w", err)
	}
	msg.duplicate = n == 0
	return n == 1, nil
}

// Handler returns a router handler running h once per event in its own
// transaction with the inbox insert. A duplicate is skipped without
// calling h, and reported to the router's [DuplicateObserver].
func (i *Inbox) Handler(h TxHandlerFunc) HandlerFunc {
	return func(ctx context.Context, msg *Message) error {
		return i.inTx(ctx, func(tx *sql.Tx) error {
			fresh, err := i.claim(ctx, tx, msg)
			if err != nil || !fresh {
				return err
			}
			return h(ctx, tx, msg)
		})
	}
}

// BatchHandler returns a batch handler (see [Router.HandleBatch]) running h
// for every new event of the batch in one transaction: one commit per batch
// instead of per event. If h fails for one event, the whole transaction is
// rolled back and the router handles the events one by one.
func (i *Inbox) BatchHandler(h TxHandlerFunc) BatchHandlerFunc {
	return func(ctx context.Context, msgs []*Message) error {
		return i.inTx(ctx, func(tx *sql.Tx) error {
			for _, msg := range msgs {
				fresh, err := i.claim(ctx, tx, msg)
				if err != nil {
					return err
				}
				if !fresh {
					continue
				}
				if err := h(ctx, tx, msg); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// inTx runs fn in a transaction, committing when it returns nil.
func (i *Inbox) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := i.cfg.DB.BeginTx(ctx, i.cfg.TxOptions)
	if err != nil {
		return fmt.Errorf("event: inbox begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("event: inbox commit: %w", err)
	}
	return nil
}
