package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
)

// OutboxConfig configures an [Outbox].
type OutboxConfig struct {
	// DB is the database holding the outbox table, used by Migrate and the
	// relay. Add uses the caller's transaction instead.
	DB *sql.DB
	// Dialect is SQLite or Postgres.
	Dialect Dialect
	// Table is the outbox table. Default "ksuite_outbox"; PostgreSQL also
	// gets "<Table>_shards".
	Table string
	// Source stands for Event.Source when an event leaves it empty (the
	// event itself is not written to); a URI-reference, as
	// [ProducerConfig.Source].
	Source string
	// ContentMode is how the rows' records lay events out: [Structured]
	// (default) or [Binary], as [ProducerConfig.ContentMode].
	ContentMode ContentMode
	// Shards is the number of key shards (PostgreSQL only), fixed when the
	// table is created. A relay locks whole shards, so it is the most relays
	// that can work in parallel. Default 16.
	Shards int
}

func (c *OutboxConfig) setDefaults() {
	if c.Table == "" {
		c.Table = "ksuite_outbox"
	}
	if c.Shards <= 0 {
		c.Shards = 16
	}
}

// Validate reports a config that cannot work.
func (c *OutboxConfig) Validate() error {
	if err := validateStore("outbox", "OutboxConfig.Table", c.DB, c.Dialect, c.Table); err != nil {
		return err
	}
	if err := checkConfigSource("OutboxConfig.Source", c.Source); err != nil {
		return err
	}
	return c.ContentMode.Validate()
}

// Outbox is a transactional outbox: [Outbox.Add] writes events into a table
// in the caller's transaction, so they exist exactly when the business
// change they describe commits, and a [Relay] publishes them to Kafka
// afterwards. If Kafka is down the rows simply wait.
//
// Order: the relay publishes a key's rows in insertion order. When two
// concurrent transactions add events for the same key, insertion order is
// the order in which they reached the outbox insert; serialise them on the
// aggregate (update its row first) if that order matters.
type Outbox struct {
	cfg    OutboxConfig
	insert string
	wake   chan struct{}
}

// NewOutbox returns an outbox; call Migrate once to create its tables.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Outbox{
		cfg: cfg,
		insert: "INSERT INTO " + cfg.Table + " (topic, record_key, value, headers, shard) VALUES (" +
			cfg.Dialect.args(1, 5) + ")",
		wake: make(chan struct{}, 1),
	}, nil
}

func (o *Outbox) shardTable() string { return o.cfg.Table + "_shards" }

// Schema is the DDL Migrate runs, statement by statement, for migration
// tools.
func (o *Outbox) Schema() []string {
	t, idx := o.cfg.Table, bareName(o.cfg.Table)+"_unsent"
	if o.cfg.Dialect == SQLite {
		return []string{
			"CREATE TABLE IF NOT EXISTS " + t + ` (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	topic TEXT NOT NULL,
	record_key BLOB,
	value BLOB NOT NULL,
	headers BLOB,
	shard INTEGER NOT NULL,
	created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	sent_at TIMESTAMP,
	failed_at TIMESTAMP,
	last_error TEXT
)`,
			"CREATE INDEX IF NOT EXISTS " + idx + " ON " + t + " (seq) WHERE " + queued,
		}
	}
	return []string{
		"CREATE TABLE IF NOT EXISTS " + t + ` (
	seq BIGSERIAL PRIMARY KEY,
	topic TEXT NOT NULL,
	record_key BYTEA,
	value BYTEA NOT NULL,
	headers BYTEA,
	shard INTEGER NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	sent_at TIMESTAMPTZ,
	failed_at TIMESTAMPTZ,
	last_error TEXT
)`,
		// Both indexes hold queued rows only, so a read costs the backlog,
		// never the sent rows kept (KeepSent): one walks them in seq order,
		// the other answers "is there an earlier row of this key" (see
		// Relay.postgresLoad). An index on (shard, seq) left the planner the
		// primary key for the ordered read, through every sent row.
		"CREATE INDEX IF NOT EXISTS " + idx + "_seq ON " + t + " (seq) WHERE " + queued,
		"CREATE INDEX IF NOT EXISTS " + idx + "_key ON " + t + " (shard, record_key, seq) WHERE " + queued,
		"DROP INDEX IF EXISTS " + t + "_unsent", // (shard, seq), before 2026-11-30
		// One row per shard: a relay owns a shard while it holds the row lock.
		"CREATE TABLE IF NOT EXISTS " + o.shardTable() + " (shard INTEGER PRIMARY KEY)",
		"INSERT INTO " + o.shardTable() + " (shard) SELECT generate_series(0, " +
			strconv.Itoa(o.cfg.Shards-1) + ") ON CONFLICT DO NOTHING",
		// A committed insert wakes the relays of every process: NOTIFY is
		// delivered at commit, once per transaction and channel.
		"CREATE OR REPLACE FUNCTION " + t + "_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('" +
			o.Channel() + "', ''); RETURN NULL; END $$",
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '" + bareName(t) + "_notify' AND tgrelid = '" +
			t + "'::regclass) THEN CREATE TRIGGER " + bareName(t) + "_notify AFTER INSERT ON " + t +
			" FOR EACH STATEMENT EXECUTE FUNCTION " + t + "_notify(); END IF; END $$",
	}
}

// Channel is the PostgreSQL notification channel the outbox's trigger
// notifies when rows are inserted: its table name. Package eventpg listens
// on it.
func (o *Outbox) Channel() string { return o.cfg.Table }

// Config is the outbox's configuration, defaults filled in.
func (o *Outbox) Config() OutboxConfig { return o.cfg }

// Migrate creates the outbox tables if they do not exist.
func (o *Outbox) Migrate(ctx context.Context) error {
	return migrate(ctx, o.cfg.DB, "outbox", o.cfg.Table, o.Schema())
}

// shard maps a key to its shard; all of a key's rows share one, which is
// what keeps a key in order when several relays run.
func (o *Outbox) shard(key []byte) int {
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(o.cfg.Shards))
}

// Add writes events for topic into the outbox inside tx; they are published
// only if tx commits. The record is built now (in the configured content
// mode, key = subject, ctx's traceparent), so an invalid event fails here,
// inside the caller's transaction. Call [Outbox.Notify] after the commit for the relay
// to pick them up at once, or use [Outbox.WithTx].
func (o *Outbox) Add(ctx context.Context, tx *sql.Tx, topic string, events ...*Event) error {
	for _, ev := range events {
		if ev.Source == "" && o.cfg.Source == "" {
			return errNoSource(topic, ev, "OutboxConfig.Source")
		}
		r, err := ev.record(topic, o.cfg.Source, o.cfg.ContentMode)
		if err != nil {
			return errCannotPublish(topic, ev, err)
		}
		addTraceparent(ctx, r)
		headers, err := json.Marshal(r.Headers)
		if err != nil {
			return fmt.Errorf("event: outbox headers: %w", err)
		}
		if _, err := tx.ExecContext(ctx, o.insert, topic, r.Key, r.Value, headers, o.shard(r.Key)); err != nil {
			return fmt.Errorf("event: outbox insert: %w", err)
		}
	}
	return nil
}

// Notify wakes the relays of this process to publish without waiting for
// their next poll. It never blocks.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// WithTx runs fn in a transaction on the outbox's database, commits it if
// fn returns nil and then calls Notify. fn adds events with Add and makes
// its business changes with the same tx.
func (o *Outbox) WithTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := o.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("event: outbox begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("event: outbox commit: %w", err)
	}
	o.Notify()
	return nil
}

// Prune deletes the rows published more than keep ago, a thousand per
// statement so no transaction grows large, and returns how many it
// deleted. The [Relay] calls it (see [RelayConfig.KeepSent]); unsent rows
// are never deleted. A keep that is not positive is an error.
func (o *Outbox) Prune(ctx context.Context, keep time.Duration) (int64, error) {
	t := o.cfg.Table
	// Rows are sent roughly in seq order, so walking the primary key from
	// the oldest finds the expired ones first without an index on sent_at.
	d := o.cfg.Dialect
	q := "DELETE FROM " + t + " WHERE " + d.inSubquery("seq", "SELECT seq FROM "+t+" WHERE sent_at < "+
		d.ago(1)+" ORDER BY seq LIMIT 1000")
	n, err := pruneBatches(ctx, o.cfg.DB, q, keep)
	if err != nil {
		return n, fmt.Errorf("event: prune outbox %s: %w", t, err)
	}
	return n, nil
}

// pruneBatches runs a batched DELETE with keep as its argument until a
// batch comes back short.
func pruneBatches(ctx context.Context, db *sql.DB, q string, keep time.Duration) (int64, error) {
	if keep <= 0 {
		// A cutoff at or after now would delete every row: the inbox would
		// forget every key and let replays apply effects twice.
		return 0, fmt.Errorf("keep must be a positive duration, got %v", keep)
	}
	var total int64
	for {
		res, err := db.ExecContext(ctx, q, keep.Seconds())
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < 1000 {
			return total, nil
		}
	}
}

// queued selects the rows waiting to be published: neither sent nor parked.
const queued = "sent_at IS NULL AND failed_at IS NULL"

// Backlog counts the rows waiting to be published. Rows Kafka rejected for
// good are parked, not counted: see [Relay].
func (o *Outbox) Backlog(ctx context.Context) (int64, error) {
	var n int64
	err := o.cfg.DB.QueryRowContext(ctx, "SELECT count(*) FROM "+o.cfg.Table+" WHERE "+queued).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("event: outbox backlog: %w", err)
	}
	return n, nil
}
