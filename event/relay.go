package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RelayConfig configures a [Relay].
type RelayConfig struct {
	// Outbox is the outbox to drain.
	Outbox *Outbox
	// Producer publishes the rows; its client should keep franz-go's
	// idempotent, acks=all defaults so a key's records keep their order.
	Producer *Producer
	// BatchSize bounds the rows read at a time. The relay keeps two
	// batches in flight: it reads and produces the next while the previous
	// one waits for its acks. Default 500.
	BatchSize int
	// PollInterval is how often the relay looks for rows when nothing wakes
	// it. [Outbox.Notify] wakes the relays of its process and WakeUp those
	// of every process, so it bounds the latency of rows committed by
	// other processes when there is no WakeUp (always on SQLite). It is
	// also how long a session that caught up waits for a wake before it
	// ends: rows trickling in keep one session (up to a second) going.
	// Default 100ms.
	PollInterval time.Duration
	// WakeUp, when set, runs beside the relay in a goroutine of its own for
	// as long as Run runs, and calls wake whenever rows may have been
	// committed by another process, so the relay publishes them at once
	// instead of at its next poll. It must return when ctx ends; Run
	// returns after it has. On PostgreSQL use eventpg.WakeUp(outbox, log)
	// (LISTEN/NOTIFY on the outbox trigger's channel). Default: none.
	WakeUp func(ctx context.Context, wake func())
	// PublishTimeout bounds the wait for a batch's acks; past it the
	// unacknowledged rows stay queued and the relay backs off and tries
	// again. Default 10s.
	PublishTimeout time.Duration
	// KeepSent is how long published rows stay in the outbox, for audit and
	// debugging, before the relay deletes them ([Outbox.Prune], hourly or
	// more often for a shorter KeepSent). Default 7 days; negative keeps
	// them forever.
	KeepSent time.Duration
	// MaxShards bounds the shards (PostgreSQL) one relay session (up to a
	// second of batches) takes. Default: all free ones. With N relays,
	// Shards/N spreads the work among them.
	MaxShards int
	// Observer receives the outbox backlog and parked rows: any value
	// implementing [OutboxBacklogObserver] or [OutboxParkedObserver], such
	// as eventprom's Metrics. Default: none.
	Observer Observer
	// Logger receives publish failures and parked rows. Default:
	// [slog.Default], so a row Kafka rejects is never silently parked.
	Logger *slog.Logger
}

func (c *RelayConfig) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.KeepSent == 0 {
		c.KeepSent = 7 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a config that cannot work.
func (c *RelayConfig) Validate() error {
	if c.Outbox == nil || c.Producer == nil {
		return errors.New("event: relay needs an Outbox and a Producer")
	}
	return checkObserver("RelayConfig.Observer", c.Observer)
}

// Relay publishes outbox rows to Kafka in order per key and marks them
// sent, keeping the next batch in flight while one waits for its acks. On
// SQLite run one relay per database; on PostgreSQL any number may run: each
// session locks a set of key shards with FOR UPDATE SKIP LOCKED, so two
// relays never publish the same key at once.
//
// Delivery is at least once: a row whose publish succeeded but whose
// "sent" mark did not commit is published again. Marks are written once
// BatchSize rows are acknowledged or when the session ends, within about a
// second, so that is the window. Consumers dedupe by event id (the [Inbox]
// does).
//
// A row Kafka rejects for good (too large for the topic, an invalid or
// forbidden topic) is parked: it gets failed_at and last_error, is logged
// at error level, and its key's later rows go on. Kafka rejects a whole
// batch for one record too large, so such rows are first published alone,
// and only those rejected alone are parked. [Outbox.Parked] lists parked
// rows and [Outbox.Requeue] (or `ksuite outbox requeue`) queues them again
// once the cause is fixed. Every other failure is retried.
type Relay struct {
	cfg        RelayConfig
	obs        observers
	o          *Outbox
	rotor      int           // first shard of the next cycle (Run's goroutine only)
	sessionFor time.Duration // see sessionFor; tests lengthen it
}

// NewRelay returns a relay; Run it.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Relay{cfg: cfg, obs: resolveObserver(cfg.Observer), o: cfg.Outbox, sessionFor: sessionFor}, nil
}

// Run relays until ctx is cancelled and returns nil then. Database and
// Kafka failures are logged and retried with backoff (up to 5s), never
// returned: an outbox exists to ride out outages.
func (r *Relay) Run(ctx context.Context) error {
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	if r.cfg.WakeUp != nil {
		wctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { r.cfg.WakeUp(wctx, r.o.Notify) })
		defer wg.Wait() // Run returns once the wake-up has
		defer cancel()
	} else if r.o.cfg.Dialect == Postgres {
		r.cfg.Logger.Info("event: outbox relay without WakeUp: rows committed by other processes wait for the next poll; "+
			"set RelayConfig.WakeUp to eventpg.WakeUp(outbox, logger) to publish them at commit",
			"table", r.o.cfg.Table, "poll", r.cfg.PollInterval)
	}
	backoff := RetryPolicy{InitialBackoff: 50 * time.Millisecond, MaxBackoff: 5 * time.Second}
	failures := 0
	// The backlog is observed between sessions, and a session may linger
	// for a second: observe it at once too, so the gauge exists from the
	// start.
	r.observeBacklog(ctx)
	lastBacklog, lastPrune := time.Now(), time.Time{}
	for ctx.Err() == nil {
		if r.cfg.KeepSent > 0 && time.Since(lastPrune) >= min(time.Hour, r.cfg.KeepSent/2) {
			r.prune(ctx)
			lastPrune = time.Now()
		}
		caughtUp, err := r.cycle(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			r.cfg.Logger.Warn("event: outbox relay", "table", r.o.cfg.Table, "err", err)
			r.observeBacklog(ctx)
			wait(ctx, nil, backoff.backoff(failures))
			continue
		}
		failures = 0
		if !caughtUp {
			continue // more rows are waiting
		}
		if time.Since(lastBacklog) > time.Second {
			r.observeBacklog(ctx)
			lastBacklog = time.Now()
		}
		select {
		case <-ctx.Done():
		case <-r.o.wake:
		case <-poll.C:
		}
	}
	return nil
}

// prune deletes the rows sent more than KeepSent ago.
func (r *Relay) prune(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	n, err := r.o.Prune(pctx, r.cfg.KeepSent)
	if err != nil && ctx.Err() == nil {
		r.cfg.Logger.Warn("event: outbox relay", "table", r.o.cfg.Table, "err", err)
	}
	if n > 0 {
		r.cfg.Logger.Info("event: outbox pruned", "table", r.o.cfg.Table, "rows", n, "keep", r.cfg.KeepSent)
	}
}

func (r *Relay) observeBacklog(ctx context.Context) {
	if !r.obs.wantBacklog {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if n, err := r.o.Backlog(qctx); err == nil {
		r.obs.backlog(r.o.cfg.Table, n)
	}
}

// outboxRow is one unsent row.
type outboxRow struct {
	seq    int64
	record *kgo.Record
	batch  *readBatch // the read that brought it, in a relay session
}

// cycle runs one session (see [session]) and reports whether it caught up
// with the queue. Its database work runs on a context detached from ctx: a
// shutdown must not roll back the marks of rows Kafka already acknowledged.
func (r *Relay) cycle(ctx context.Context) (caughtUp bool, err error) {
	dbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.sessionFor+r.cfg.PublishTimeout+30*time.Second)
	defer cancel()
	if r.o.cfg.Dialect == Postgres {
		return r.cyclePostgres(ctx, dbCtx)
	}
	db := r.o.cfg.DB
	// SQLite reads and marks without a transaction: a SQLite database has
	// one relay, and holding a transaction open while Kafka answers would
	// block the writers. It has one writer at a time, so rows commit in seq
	// order and reading on from the last seq read misses none.
	return r.newSession(ctx, dbCtx, store{
		query: db.QueryContext,
		exec:  db.ExecContext,
		now:   "CURRENT_TIMESTAMP",
		load: "SELECT seq, topic, record_key, value, headers FROM " + r.o.cfg.Table +
			" WHERE " + queued + " AND seq > ? ORDER BY seq LIMIT ?",
	}).run()
}

// cyclePostgres locks free shards for one session, in a transaction that
// also marks the rows it publishes, so a crash or a competing relay can
// never publish a key out of order.
func (r *Relay) cyclePostgres(ctx, dbCtx context.Context) (caughtUp bool, err error) {
	tx, err := r.o.cfg.DB.BeginTx(dbCtx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// Start each session at a different shard: with MaxShards, always
	// taking the lowest free shards would starve the others whenever the
	// relays' sessions do not overlap.
	q := fmt.Sprintf("SELECT shard FROM %s ORDER BY (shard + %d) %% %d FOR UPDATE SKIP LOCKED",
		r.o.shardTable(), r.rotor, r.o.cfg.Shards)
	if r.cfg.MaxShards > 0 {
		q += fmt.Sprintf(" LIMIT %d", r.cfg.MaxShards)
		r.rotor = (r.rotor + r.cfg.MaxShards) % r.o.cfg.Shards
	}
	srows, err := tx.QueryContext(dbCtx, q)
	if err != nil {
		return false, fmt.Errorf("lock shards: %w", err)
	}
	var shards []int32
	for srows.Next() {
		var s int32
		if err = srows.Scan(&s); err != nil {
			srows.Close()
			return false, err
		}
		shards = append(shards, s)
	}
	if err = srows.Close(); err != nil {
		return false, err
	}
	if len(shards) == 0 {
		return true, tx.Commit() // other relays hold every shard
	}
	caughtUp, err = r.newSession(ctx, dbCtx, store{
		query:  tx.QueryContext,
		exec:   tx.ExecContext,
		now:    "now()",
		load:   r.postgresLoad(),
		shards: shards,
	}).run()
	// Commit even after a failure: the marks of what was acknowledged
	// stand, the rest stays queued.
	if cerr := tx.Commit(); cerr != nil {
		return false, fmt.Errorf("commit: %w", cerr)
	}
	return caughtUp, err
}

// lateWindow is how far below a PostgreSQL session's first read a late row
// ends the session (see postgresLoad): more transactions than this would
// have to take a seq after it and commit before it.
const lateWindow = 64

type queryFunc func(context.Context, string, ...any) (*sql.Rows, error)
type execFunc func(context.Context, string, ...any) (sql.Result, error)

// postgresLoad reads a session's next rows on PostgreSQL. Reading on from
// the last seq read (the cursor, $2) is not enough there: seqs are handed
// out at insert and transactions commit in any order, so a row can become
// visible after a higher seq was read, and its key's next rows must not
// overtake it. So each read also takes the holes, the seqs between the
// first and the last row read that were missing ($3), as they become
// visible; and it leaves alone the rows of a key with a queued row below
// the session's first row read ($4), which the next session reads first.
// Either way a key's rows go out in order. The read also brings a late row
// below the floor, if there is one within lateWindow seqs of it: the
// session, which may linger for a second, is not the one to publish it and
// ends so that the next one does at once (see session.read). The window
// keeps that probe to a few index entries however long the table is; a
// row later still waits for the session's end.
func (r *Relay) postgresLoad() string {
	t := r.o.cfg.Table
	cols := "o.seq, o.topic, o.record_key, o.value, o.headers"
	mine := "o.sent_at IS NULL AND o.failed_at IS NULL AND o.shard = ANY($1)"
	noEarlier := "NOT EXISTS (SELECT 1 FROM " + t + " l WHERE l.shard = o.shard AND l.record_key = o.record_key" +
		" AND l.seq < $4 AND l.sent_at IS NULL AND l.failed_at IS NULL)"
	return "(SELECT " + cols + " FROM " + t + " o WHERE " + mine + " AND o.seq < $4 AND o.seq >= $4 - " + strconv.Itoa(lateWindow) + " LIMIT 1)" +
		" UNION ALL (SELECT " + cols + " FROM " + t + " o WHERE " + mine + " AND o.seq = ANY($3) AND " + noEarlier + ")" +
		" UNION ALL (SELECT " + cols + " FROM " + t + " o WHERE " + mine + " AND o.seq > $2 AND " + noEarlier +
		" ORDER BY o.seq LIMIT $5) ORDER BY 1 LIMIT $5"
}

// store is where a session reads rows and records their outcomes: the
// outbox table itself (SQLite), or through the transaction that holds the
// session's shards (PostgreSQL).
type store struct {
	query  queryFunc
	exec   execFunc
	now    string  // SQL for the current time
	load   string  // the next rows: see next
	shards []int32 // PostgreSQL: the shards this session holds
}

// postgres reports whether the store is PostgreSQL's (see postgresLoad).
func (st store) postgres() bool { return st.shards != nil }

// next reads up to limit queued rows in seq order after seq after; on
// PostgreSQL also the rows at the seqs in holes, leaving out the keys that
// have a queued row below floor.
func (st store) next(ctx context.Context, after int64, holes []int64, floor int64, limit int) ([]outboxRow, error) {
	args := []any{after, limit}
	if st.postgres() {
		args = []any{st.shards, after, holes, floor, limit}
	}
	rows, err := st.query(ctx, st.load, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var (
			row            outboxRow
			topic          string
			key, val, hdrs []byte
		)
		if err := rows.Scan(&row.seq, &topic, &key, &val, &hdrs); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		var err error
		if row.record, err = rowRecord(row.seq, topic, key, val, hdrs); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// parked is a row Kafka rejected for good.
type parked struct {
	seq   int64
	topic string
	err   error
}

// mark records outcomes: sent rows get sent_at, parked rows failed_at and
// their error.
func (r *Relay) mark(ctx context.Context, st store, sent []int64, parks []parked) error {
	d, t := r.o.cfg.Dialect, r.o.cfg.Table
	for chunk := range slices.Chunk(sent, 500) {
		args := make([]any, len(chunk))
		for i, seq := range chunk {
			args[i] = seq
		}
		q := "UPDATE " + t + " SET sent_at = " + st.now + " WHERE seq IN (" + d.args(1, len(chunk)) + ")"
		if _, err := st.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("mark sent: %w", err)
		}
	}
	for _, p := range parks {
		q := "UPDATE " + t + " SET failed_at = " + st.now + ", last_error = " + d.arg(1) + " WHERE seq = " + d.arg(2)
		if _, err := st.exec(ctx, q, p.err.Error(), p.seq); err != nil {
			return fmt.Errorf("park row %d: %w", p.seq, err)
		}
		r.obs.parked(t, p.topic)
		r.cfg.Logger.Error("event: outbox row rejected by Kafka and parked; its key moves on",
			"table", t, "seq", p.seq, "topic", p.topic, "err", p.err,
			"requeue", fmt.Sprintf("once the cause is fixed: ksuite outbox requeue --db DSN --table %s %d (or Outbox.Requeue)", t, p.seq))
	}
	return nil
}
