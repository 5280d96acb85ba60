package event

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// TxBatchHandlerFunc applies events inside one inbox transaction: write
// their effects with tx. msgs are consecutive events of one partition in
// offset order, holding only those the inbox had not seen. Do not commit or
// roll back tx.
type TxBatchHandlerFunc func(ctx context.Context, tx *sql.Tx, msgs []*Message) error

// claimChunk bounds the rows of one inbox insert: 3 parameters each stay
// well inside SQLite's and PostgreSQL's parameter limits.
const claimChunk = 1000

// TxBatchHandler returns a batch handler (see [Router.HandleBatch]) that
// claims the keys of a whole batch with one multi-row insert and calls h
// once with the events not handled before, all in one transaction. It is
// [Inbox.BatchHandler] for handlers that apply a batch with set-based SQL
// (one multi-row statement for many events) instead of statement by
// statement: one transaction, a few statements, hundreds of events.
//
// If h fails, the transaction is rolled back and the router handles the
// events again one at a time (h called with one event each), with the usual
// retries and dead letters; so an error should name its event, and be
// [Permanent] when the event can never apply.
//
// The insert uses RETURNING: SQLite 3.35 or later, PostgreSQL 12 or later.
func (i *Inbox) TxBatchHandler(h TxBatchHandlerFunc) BatchHandlerFunc {
	return func(ctx context.Context, msgs []*Message) error {
		return i.inTx(ctx, func(tx *sql.Tx) error {
			fresh, err := i.claimBatch(ctx, tx, msgs)
			if err != nil || len(fresh) == 0 {
				return err
			}
			return h(ctx, tx, fresh)
		})
	}
}

// inboxKey is one row of the inbox.
type inboxKey struct{ consumer, source, id string }

// claimBatch inserts the keys of msgs and returns, in order, the messages
// whose key was new; the others are marked as duplicates. A key repeated
// inside msgs (an event produced twice and read in one batch) counts once,
// for its first message.
func (i *Inbox) claimBatch(ctx context.Context, tx *sql.Tx, msgs []*Message) ([]*Message, error) {
	keys := make([]inboxKey, 0, len(msgs))
	first := make(map[inboxKey]int, len(msgs)) // key → index of its first message
	for n, msg := range msgs {
		source, id := dedupKey(msg)
		k := inboxKey{i.consumer(msg), source, id}
		if _, dup := first[k]; !dup {
			first[k] = n
			keys = append(keys, k)
		}
	}
	isNew := make([]bool, len(msgs))
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), claimChunk)]
		keys = keys[len(chunk):]
		inserted, err := i.insertKeys(ctx, tx, chunk)
		if err != nil {
			return nil, err
		}
		for _, k := range inserted {
			isNew[first[k]] = true
		}
	}
	fresh := msgs[:0:0]
	for n, msg := range msgs {
		// Every attempt's transaction decides anew, as in Handler; the
		// router reports the duplicates once the batch commits.
		msg.duplicate = !isNew[n]
		if isNew[n] {
			fresh = append(fresh, msg)
		}
	}
	return fresh, nil
}

// insertKeys inserts keys with one statement and returns those that were
// not there yet.
func (i *Inbox) insertKeys(ctx context.Context, tx *sql.Tx, keys []inboxKey) ([]inboxKey, error) {
	d := i.cfg.Dialect
	var q strings.Builder
	q.Grow(64 + len(keys)*16)
	q.WriteString("INSERT INTO ")
	q.WriteString(i.cfg.Table)
	q.WriteString(" (consumer_group, source, id) VALUES ")
	args := make([]any, 0, 3*len(keys))
	for n, k := range keys {
		if n > 0 {
			q.WriteByte(',')
		}
		q.WriteByte('(')
		q.WriteString(d.args(3*n+1, 3))
		q.WriteByte(')')
		args = append(args, k.consumer, k.source, k.id)
	}
	q.WriteString(" ON CONFLICT DO NOTHING RETURNING consumer_group, source, id")
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("event: inbox insert: %w", err)
	}
	defer rows.Close()
	var inserted []inboxKey
	for rows.Next() {
		var k inboxKey
		if err := rows.Scan(&k.consumer, &k.source, &k.id); err != nil {
			return nil, fmt.Errorf("event: inbox insert: %w", err)
		}
		inserted = append(inserted, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event: inbox insert: %w", err)
	}
	return inserted, nil
}
