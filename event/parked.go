package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ParkedRow is an outbox row the relay parked because Kafka rejected it for
// good (see [Relay]): it waits, with its error, until it is requeued.
type ParkedRow struct {
	// Seq is the row's sequence number, what [Outbox.Requeue] takes.
	Seq int64
	// Record is what the relay publishes for the row: topic, key (the
	// event's subject), value and headers.
	Record *kgo.Record
	// CreatedAt is when the row was added, FailedAt when it was parked.
	CreatedAt, FailedAt time.Time
	// Error is why Kafka rejected it, e.g. MESSAGE_TOO_LARGE.
	Error string
}

// Parked lists the parked rows, oldest first, at most limit of them (all
// when limit is not positive).
func (o *Outbox) Parked(ctx context.Context, limit int) ([]ParkedRow, error) {
	q := "SELECT seq, topic, record_key, value, headers, created_at, failed_at, last_error FROM " + o.cfg.Table +
		" WHERE " + parkedRows + " ORDER BY seq"
	if limit > 0 {
		q += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := o.cfg.DB.QueryContext(ctx, q)
	if err != nil {
		return nil, o.tableErr(ctx, "list parked rows", err)
	}
	defer rows.Close()
	var out []ParkedRow
	for rows.Next() {
		var (
			p              ParkedRow
			topic          string
			key, val, hdrs []byte
			lastErr        sql.NullString
		)
		if err := rows.Scan(&p.Seq, &topic, &key, &val, &hdrs, &p.CreatedAt, &p.FailedAt, &lastErr); err != nil {
			return nil, fmt.Errorf("event: list parked rows of %s: %w", o.cfg.Table, err)
		}
		if p.Record, err = rowRecord(p.Seq, topic, key, val, hdrs); err != nil {
			return nil, fmt.Errorf("event: list parked rows of %s: %w", o.cfg.Table, err)
		}
		p.Error = lastErr.String
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event: list parked rows of %s: %w", o.cfg.Table, err)
	}
	return out, nil
}

// parkedRows selects the parked rows.
const parkedRows = "failed_at IS NOT NULL AND sent_at IS NULL"

// Requeue puts parked rows back in the queue once the cause is fixed (the
// topic's max.message.bytes raised, an ACL granted); the relays publish
// them next. It is all or nothing: when a seq is not a parked row (unknown,
// queued or sent already) nothing changes and the error lists the seqs at
// fault. A requeued row goes out after the rows of its key that were
// published while it was parked.
func (o *Outbox) Requeue(ctx context.Context, seqs ...int64) error {
	seqs = slices.Compact(slices.Sorted(slices.Values(seqs)))
	if len(seqs) == 0 {
		return errors.New("event: Requeue needs the seqs of parked rows (Outbox.Parked lists them)")
	}
	requeued, err := o.requeue(ctx, seqs)
	if err != nil {
		return err
	}
	if len(requeued) != len(seqs) {
		var missing []string
		for _, s := range seqs {
			if !slices.Contains(requeued, s) {
				missing = append(missing, strconv.FormatInt(s, 10))
			}
		}
		return fmt.Errorf("event: outbox %s rows %s are not parked (unknown, queued or already sent): nothing requeued",
			o.cfg.Table, strings.Join(missing, ", "))
	}
	return nil
}

// RequeueAll puts every parked row back in the queue and returns their
// seqs, in order.
func (o *Outbox) RequeueAll(ctx context.Context) ([]int64, error) { return o.requeue(ctx, nil) }

// requeue clears the parked state of seqs (every parked row when nil) in
// one transaction, which it rolls back unless every seq was parked; it
// returns the seqs requeued and wakes the relays.
func (o *Outbox) requeue(ctx context.Context, seqs []int64) ([]int64, error) {
	d, t := o.cfg.Dialect, o.cfg.Table
	tx, err := o.cfg.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("event: requeue outbox rows: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	base := "UPDATE " + t + " SET failed_at = NULL, last_error = NULL WHERE " + parkedRows
	var requeued []int64
	update := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, q+" RETURNING seq", args...)
		if err != nil {
			return o.tableErr(ctx, "requeue parked rows", err)
		}
		defer rows.Close()
		for rows.Next() {
			var s int64
			if err := rows.Scan(&s); err != nil {
				return err
			}
			requeued = append(requeued, s)
		}
		return rows.Err()
	}
	if seqs == nil {
		err = update(base)
	}
	for chunk := range slices.Chunk(seqs, 500) {
		args := make([]any, len(chunk))
		for i, s := range chunk {
			args[i] = s
		}
		if err = update(base+" AND seq IN ("+d.args(1, len(chunk))+")", args...); err != nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(requeued)
	if seqs != nil && len(requeued) != len(seqs) {
		return requeued, nil // the caller reports the rest; the deferred rollback undoes this
	}
	if d == Postgres && len(requeued) > 0 {
		// The trigger notifies only on insert: wake other processes' relays
		// (eventpg.WakeUp) for the update too, at commit.
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", o.Channel()); err != nil {
			return nil, fmt.Errorf("event: requeue outbox rows: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("event: requeue outbox rows: %w", err)
	}
	o.Notify()
	return requeued, nil
}

// tableErr wraps a query failure, saying so plainly when the reason is
// that the outbox table does not exist.
func (o *Outbox) tableErr(ctx context.Context, doing string, err error) error {
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	args := []any{o.cfg.Table}
	if o.cfg.Dialect == Postgres {
		q, args = "SELECT count(*) FROM (SELECT to_regclass($1) AS t) r WHERE t IS NOT NULL", []any{o.cfg.Table}
	} else if schema, table, ok := strings.Cut(o.cfg.Table, "."); ok {
		q, args = "SELECT count(*) FROM "+schema+".sqlite_master WHERE type = 'table' AND name = ?", []any{table}
	}
	var n int
	if qerr := o.cfg.DB.QueryRowContext(ctx, q, args...).Scan(&n); qerr == nil && n == 0 {
		return fmt.Errorf("event: %s: there is no outbox table %s in this database (check the table name, or create it with Outbox.Migrate)", doing, o.cfg.Table)
	}
	return fmt.Errorf("event: %s of %s: %w", doing, o.cfg.Table, err)
}

// rowRecord is the record an outbox row publishes.
func rowRecord(seq int64, topic string, key, val, hdrs []byte) (*kgo.Record, error) {
	r := &kgo.Record{Topic: topic, Key: key, Value: val}
	if len(hdrs) > 0 {
		if err := json.Unmarshal(hdrs, &r.Headers); err != nil {
			return nil, fmt.Errorf("outbox row %d headers: %w", seq, err)
		}
	}
	return r, nil
}
