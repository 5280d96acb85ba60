package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RelayConfig configures a [Relay].
type RelayConfig struct {
	// Outbox is the outbox to drain.
	Outbox *Outbox
	// Producer publishes the rows; its client should keep franz-go's
	// idempotent, acks=all defaults so a key's records keep their order.
	Producer *Producer
	// BatchSize bounds the rows published per cycle. Default 500.
	BatchSize int
	// PollInterval is how often the relay looks for rows when nothing wakes
	// it. [Outbox.Notify] wakes the relays of its process and WakeUp those
	// of every process, so it bounds the latency of rows committed by
	// other processes when there is no WakeUp (always on SQLite). Default
	// 100ms.
	PollInterval time.Duration
	// WakeUp, when set, runs beside the relay in a goroutine of its own for
	// as long as Run runs, and calls wake whenever rows may have been
	// committed by another process, so the relay publishes them at once
	// instead of at its next poll. It must return when ctx ends; Run
	// returns after it has. On PostgreSQL use eventpg.WakeUp(outbox, log)
	// (LISTEN/NOTIFY on the outbox trigger's channel). Default: none.
	WakeUp func(ctx context.Context, wake func())
	// PublishTimeout bounds one cycle's wait for Kafka; past it the unsent
	// rows stay for the next cycle. Default 10s.
	PublishTimeout time.Duration
	// KeepSent is how long published rows stay in the outbox, for audit and
	// debugging, before the relay deletes them ([Outbox.Prune], hourly or
	// more often for a shorter KeepSent). Default 7 days; negative keeps
	// them forever.
	KeepSent time.Duration
	// MaxShards bounds the shards (PostgreSQL) one cycle takes. Default: all
	// free ones. With N relays, Shards/N spreads the work among them.
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

// Relay publishes outbox rows to Kafka in order per key and marks them sent.
// On SQLite run one relay per database; on PostgreSQL any number may run:
// each cycle locks a set of key shards with FOR UPDATE SKIP LOCKED, so two
// relays never publish the same key at once.
//
// Delivery is at least once: a row whose publish succeeded but whose
// "sent" mark did not commit is published again. Consumers dedupe by event
// id (the [Inbox] does).
//
// A row Kafka rejects for good (too large for the topic, an invalid or
// forbidden topic) is parked: it gets failed_at and last_error, is logged
// at error level, and its key's later rows go on. Requeue it with
// UPDATE <table> SET failed_at = NULL, last_error = NULL WHERE seq = ...
// once the cause is fixed. Every other failure is retried.
type Relay struct {
	cfg   RelayConfig
	obs   observers
	o     *Outbox
	rotor int // first shard of the next cycle (Run's goroutine only)
}

// NewRelay returns a relay; Run it.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Relay{cfg: cfg, obs: resolveObserver(cfg.Observer), o: cfg.Outbox}, nil
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
	var lastBacklog, lastPrune time.Time
	for ctx.Err() == nil {
		if r.cfg.KeepSent > 0 && time.Since(lastPrune) >= min(time.Hour, r.cfg.KeepSent/2) {
			r.prune(ctx)
			lastPrune = time.Now()
		}
		n, err := r.cycle(ctx)
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
		if n == r.cfg.BatchSize {
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
}

// cycle publishes one batch and returns the rows it handled.
// Its database work runs on dbCtx, detached from ctx: a shutdown must not
// roll back the marks of rows Kafka already acknowledged.
func (r *Relay) cycle(ctx context.Context) (int, error) {
	dbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.PublishTimeout+30*time.Second)
	defer cancel()
	if r.o.cfg.Dialect == Postgres {
		return r.cyclePostgres(ctx, dbCtx)
	}
	return r.cycleSQLite(ctx, dbCtx)
}

// cycleSQLite reads without a transaction: a SQLite database has one relay,
// and holding a transaction open while Kafka answers would block writers.
func (r *Relay) cycleSQLite(ctx, dbCtx context.Context) (int, error) {
	db, t := r.o.cfg.DB, r.o.cfg.Table
	rows, err := r.load(dbCtx, db.QueryContext, "SELECT seq, topic, record_key, value, headers FROM "+t+
		" WHERE "+queued+" ORDER BY seq LIMIT ?", r.cfg.BatchSize)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	out := r.publish(ctx, rows)
	if err := r.mark(dbCtx, db.ExecContext, out, "CURRENT_TIMESTAMP"); err != nil {
		return 0, err
	}
	return len(rows), out.err
}

// cyclePostgres locks free shards, publishes their oldest rows and marks
// them sent in the same transaction, so a crash or a competing relay can
// never publish a key out of order.
func (r *Relay) cyclePostgres(ctx, dbCtx context.Context) (n int, err error) {
	db, t := r.o.cfg.DB, r.o.cfg.Table
	tx, err := db.BeginTx(dbCtx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// Start each cycle at a different shard: with MaxShards, always taking
	// the lowest free shards would starve the others whenever the relays'
	// cycles do not overlap.
	q := fmt.Sprintf("SELECT shard FROM %s ORDER BY (shard + %d) %% %d FOR UPDATE SKIP LOCKED",
		r.o.shardTable(), r.rotor, r.o.cfg.Shards)
	if r.cfg.MaxShards > 0 {
		q += fmt.Sprintf(" LIMIT %d", r.cfg.MaxShards)
		r.rotor = (r.rotor + r.cfg.MaxShards) % r.o.cfg.Shards
	}
	srows, err := tx.QueryContext(dbCtx, q)
	if err != nil {
		return 0, fmt.Errorf("lock shards: %w", err)
	}
	var shards []int32
	for srows.Next() {
		var s int32
		if err = srows.Scan(&s); err != nil {
			srows.Close()
			return 0, err
		}
		shards = append(shards, s)
	}
	if err = srows.Close(); err != nil {
		return 0, err
	}
	if len(shards) == 0 {
		return 0, tx.Commit()
	}
	rows, err := r.load(dbCtx, tx.QueryContext, "SELECT seq, topic, record_key, value, headers FROM "+t+
		" WHERE "+queued+" AND shard = ANY($1) ORDER BY seq LIMIT $2", shards, r.cfg.BatchSize)
	if err != nil {
		return 0, err
	}
	out := r.publish(ctx, rows)
	if err = r.mark(dbCtx, tx.ExecContext, out, "now()"); err != nil {
		return 0, err
	}
	if err = tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return len(rows), out.err
}

type queryFunc func(context.Context, string, ...any) (*sql.Rows, error)
type execFunc func(context.Context, string, ...any) (sql.Result, error)

func (r *Relay) load(ctx context.Context, query queryFunc, q string, args ...any) ([]outboxRow, error) {
	rows, err := query(ctx, q, args...)
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
		row.record = &kgo.Record{Topic: topic, Key: key, Value: val}
		if len(hdrs) > 0 {
			if err := json.Unmarshal(hdrs, &row.record.Headers); err != nil {
				return nil, fmt.Errorf("outbox row %d headers: %w", row.seq, err)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// outcome is what publishing a batch of rows came to.
type outcome struct {
	sent   []int64 // acknowledged and safe to mark sent
	parked []parked
	err    error // the first failure worth another try, if any
}

// parked is a row Kafka rejected for good.
type parked struct {
	seq   int64
	topic string
	err   error
}

// rejected reports whether Kafka refused the record itself, so that no
// retry can succeed: it is too large, or its topic is invalid or not
// allowed. Everything else (a broker down, a leader moving, a timeout) is
// worth retrying.
func rejected(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord,
		kerr.InvalidTopicException, kerr.TopicAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// publish produces rows. A row is safe to mark sent when it was
// acknowledged with no earlier failed row of the same key in the batch, so
// a key's rows are never marked out of order. A row Kafka rejected for good
// is parked instead, and its key moves on: holding the key would stop it
// for ever, and a full batch of a stopped key would stop the whole outbox.
func (r *Relay) publish(ctx context.Context, rows []outboxRow) outcome {
	pctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
	defer cancel()
	recs := make([]*kgo.Record, len(rows))
	for i := range rows {
		recs[i] = rows[i].record
	}
	errs := r.cfg.Producer.produce(pctx, recs)
	failed := make(map[string]bool)
	var out outcome
	for i, err := range errs {
		row := rows[i]
		k := string(row.record.Key)
		switch {
		case err == nil:
			if !failed[k] {
				out.sent = append(out.sent, row.seq)
			}
		case rejected(err):
			out.parked = append(out.parked, parked{row.seq, row.record.Topic, err})
		default:
			failed[k] = true
			if out.err == nil {
				out.err = fmt.Errorf("publish to %s: %w", row.record.Topic, err)
			}
		}
	}
	return out
}

// mark records a batch's outcome: sent rows get sent_at, parked rows
// failed_at and their error.
func (r *Relay) mark(ctx context.Context, exec execFunc, out outcome, now string) error {
	d, t := r.o.cfg.Dialect, r.o.cfg.Table
	const chunk = 500
	for seqs := out.sent; len(seqs) > 0; {
		n := min(len(seqs), chunk)
		args := make([]any, n)
		for i := range n {
			args[i] = seqs[i]
		}
		q := "UPDATE " + t + " SET sent_at = " + now + " WHERE seq IN (" + d.args(1, n) + ")"
		if _, err := exec(ctx, q, args...); err != nil {
			return fmt.Errorf("mark sent: %w", err)
		}
		seqs = seqs[n:]
	}
	for _, p := range out.parked {
		q := "UPDATE " + t + " SET failed_at = " + now + ", last_error = " + d.arg(1) + " WHERE seq = " + d.arg(2)
		if _, err := exec(ctx, q, p.err.Error(), p.seq); err != nil {
			return fmt.Errorf("park row %d: %w", p.seq, err)
		}
		r.obs.parked(t, p.topic)
		r.cfg.Logger.Error("event: outbox row rejected by Kafka and parked; its key moves on",
			"table", t, "seq", p.seq, "topic", p.topic, "err", p.err,
			"requeue", "UPDATE "+t+" SET failed_at = NULL, last_error = NULL WHERE seq = "+strconv.FormatInt(p.seq, 10))
	}
	return nil
}
