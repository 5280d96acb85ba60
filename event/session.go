package event

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sessionFor bounds how long a relay session goes on reading new rows. On
// PostgreSQL a session's transaction holds its shards and its marks, so
// ending it every so often commits the marks and lets other relays take
// shards; then a new session starts at once. A session that caught up
// lingers for the next wake (see linger) within that bound.
const sessionFor = time.Second

// A session publishes queued rows as a pipeline: it reads and produces the
// next batch while the previous one waits for its acks, so two batches are
// in flight and the relay does not idle for a round trip to Kafka and its
// database marks between batches (with PostgreSQL writers flat out on a
// real cluster, a relay that did fell behind them).
//
// Order per key: a row is produced only when no earlier row of its key is
// unresolved; until then it is held. So a key's rows are produced together
// only when they were read together (franz-go keeps those in order, and a
// failure fails the rest of the partition's buffer with it), and a later
// batch's row never goes out after an earlier row of its key failed: once
// one fails, the key's later rows stay queued for the next session. A row
// is marked sent only after its ack, and not when an earlier row of its key
// failed (it goes out again, in order, next time).
//
// The session runs in one goroutine; franz-go's callbacks only queue their
// results for it (see acks).
type session struct {
	r     *Relay
	ctx   context.Context // Run's: publishing stops with it
	dbCtx context.Context // reads and marks, detached from ctx
	st    store
	begun time.Time
	acks  acks

	inflight map[string]int         // key → rows produced and not yet resolved
	held     map[string][]outboxRow // key → rows waiting for its rows in flight
	nFlight  int
	nReads   int             // batches read with rows in flight or held
	release  []outboxRow     // held rows whose key is free again, to produce
	groups   []*produceGroup // in creation order, hence deadline order
	failed   map[string]bool // keys with a row that failed and will be retried
	blocked  map[string]bool // keys with a row to probe alone
	probe    []outboxRow     // rows rejected in company, to publish alone
	sent     []int64         // acknowledged, to mark
	parks    []parked        // rejected alone, to park
	err      error           // the first failure worth another try
	cursor   int64           // the highest seq read
	floor    int64           // PostgreSQL: the lowest seq of the first read, 0 before it
	holes    map[int64]bool  // PostgreSQL: seqs between floor and cursor not read yet
	more     bool            // the last read was full, or a wake came: read again
	stop     bool            // read nothing more
}

// readBatch is the rows one read brought that are still in flight or held.
type readBatch struct{ left int }

// produceGroup is rows produced together under one deadline.
type produceGroup struct {
	deadline time.Time
	cancel   context.CancelFunc
	pending  map[int64]outboxRow
	expired  bool
}

// result is franz-go's answer for one row.
type result struct {
	g   *produceGroup
	row outboxRow
	err error
}

// acks collects produce results. franz-go calls promises from its own
// goroutines, which must never block, so they append under a lock and
// signal; after the session ends, late results land here unread.
type acks struct {
	mu     sync.Mutex
	buf    []result
	signal chan struct{}
}

func (a *acks) add(res result) {
	a.mu.Lock()
	a.buf = append(a.buf, res)
	a.mu.Unlock()
	select {
	case a.signal <- struct{}{}:
	default:
	}
}

func (a *acks) take() []result {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.buf
	a.buf = nil
	return out
}

func (r *Relay) newSession(ctx, dbCtx context.Context, st store) *session {
	return &session{
		r: r, ctx: ctx, dbCtx: dbCtx, st: st, begun: time.Now(),
		acks:     acks{signal: make(chan struct{}, 1)},
		inflight: make(map[string]int),
		held:     make(map[string][]outboxRow),
		failed:   make(map[string]bool),
		blocked:  make(map[string]bool),
		holes:    make(map[int64]bool),
		more:     true,
	}
}

// run publishes until it has caught up, the session's time is up or
// something failed, then waits for what is in flight, publishes alone the
// rows Kafka rejected in company, and marks the outcomes. It reports
// whether it caught up with the queue.
func (s *session) run() (caughtUp bool, err error) {
	defer func() {
		for _, g := range s.groups {
			g.cancel()
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if s.ctx.Err() != nil { // shutting down: take the acks that came, wait for nothing more
			s.stop = true
			s.handleAll()
			s.expire(time.Time{})
		}
		if !s.stop && time.Since(s.begun) >= s.r.sessionFor {
			s.stop = true
		}
		// The next batch is read while at most one is outstanding: two in
		// flight at most, and at moderate load one read per round trip to
		// Kafka rather than one per wake-up.
		if !s.stop && s.more && s.nReads < 2 {
			if err := s.read(); err != nil {
				s.failWith(err)
			}
		}
		if s.nFlight == 0 { // nothing is held either: rows are held only behind rows in flight
			if s.stop || !s.more && !s.linger(timer) {
				break
			}
			continue
		}
		if len(s.sent)+len(s.parks) >= s.r.cfg.BatchSize {
			if err := s.flush(); err != nil {
				s.failWith(err)
			}
		}
		timer.Reset(time.Until(s.groups[0].deadline))
		select {
		case <-s.acks.signal:
			s.handleAll()
		case <-s.r.o.wake:
			s.more = true
		case <-timer.C:
			s.expire(time.Now())
		case <-s.ctx.Done():
		}
	}
	s.probeAlone()
	if err := s.flush(); err != nil && s.err == nil {
		s.err = err
	}
	return !s.more && s.err == nil, s.err
}

// linger waits, caught up with nothing in flight, for a wake: under a
// steady trickle of rows (sign-ups one at a time) one session then serves
// them all, and marks them together at its end or once BatchSize are
// acknowledged. Ending it whenever it caught up cost every row a session
// and a mark of its own: on PostgreSQL a transaction, a lock of the shards
// and a read; on SQLite an extra write on the one connection the writers
// queue for. Those statements were most of the relay's database work and
// made the tail of the writers' queue. It reports whether to read again:
// false when no wake came within PollInterval or the session's time.
func (s *session) linger(timer *time.Timer) bool {
	left := s.r.sessionFor - time.Since(s.begun)
	if left <= 0 {
		return false
	}
	timer.Reset(min(left, s.r.cfg.PollInterval))
	select {
	case <-s.r.o.wake:
		s.more = true
		return true
	case <-timer.C:
	case <-s.ctx.Done():
	}
	return false
}

// read reads a batch and produces the rows whose key has nothing in
// flight; the others wait behind it.
func (s *session) read() error {
	limit := s.r.cfg.BatchSize
	var holes []int64
	if s.st.postgres() {
		holes = slices.AppendSeq(make([]int64, 0, len(s.holes)), maps.Keys(s.holes)) // never nil: ANY(NULL) matches nothing
	}
	rows, err := s.st.next(s.dbCtx, s.cursor, holes, s.floor, limit)
	if err != nil {
		return err
	}
	s.more = len(rows) == limit
	if s.st.postgres() {
		if len(rows) > 0 && rows[0].seq < s.floor {
			// A row committed late below the floor (see postgresLoad): it
			// stays queued, the session ends after what it read, and the
			// next one starts with it.
			rows = rows[1:]
			s.more, s.stop = true, true
		}
		s.trackHoles(rows)
	}
	var ready []outboxRow
	b := &readBatch{}
	for _, row := range rows {
		row.batch = b
		s.cursor = max(s.cursor, row.seq)
		k := string(row.record.Key)
		switch {
		case s.failed[k] || s.blocked[k]:
			s.more = true // left queued: the next session reads it again, in order
		case s.inflight[k] > 0 || len(s.held[k]) > 0:
			s.held[k] = append(s.held[k], row)
			b.left++
		default:
			ready = append(ready, row)
			b.left++
		}
	}
	if b.left > 0 {
		s.nReads++
	}
	s.produce(ready)
	return nil
}

// produce sends rows under one deadline, PublishTimeout from now.
func (s *session) produce(rows []outboxRow) {
	if len(rows) == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(s.ctx, s.r.cfg.PublishTimeout)
	g := &produceGroup{deadline: time.Now().Add(s.r.cfg.PublishTimeout), cancel: cancel,
		pending: make(map[int64]outboxRow, len(rows))}
	s.groups = append(s.groups, g)
	cl := s.r.cfg.Producer.cl
	for _, row := range rows {
		g.pending[row.seq] = row
		s.inflight[string(row.record.Key)]++
		s.nFlight++
		cl.Produce(pctx, row.record, func(_ *kgo.Record, err error) { s.acks.add(result{g, row, err}) })
	}
}

// resolved retires a group none of whose rows is waiting any more.
func (s *session) resolved(g *produceGroup) {
	g.cancel()
	s.groups = slices.DeleteFunc(s.groups, func(x *produceGroup) bool { return x == g })
}

// handleAll settles the results that came and produces the rows they
// freed, also in a session that stopped reading: they were read already.
// Only a shutdown leaves them queued for the next run.
func (s *session) handleAll() {
	for _, res := range s.acks.take() {
		s.handle(res)
	}
	rows := s.release
	s.release = nil
	if s.ctx.Err() == nil {
		s.produce(rows)
		return
	}
	for _, row := range rows {
		s.done(row)
	}
}

// handle settles one row's result.
func (s *session) handle(res result) {
	g, row := res.g, res.row
	if g.expired {
		return // already counted as failed
	}
	delete(g.pending, row.seq)
	if len(g.pending) == 0 {
		s.resolved(g)
	}
	k := string(row.record.Key)
	switch err := res.err; {
	case err == nil:
		if !s.failed[k] {
			s.sent = append(s.sent, row.seq)
		}
	case rejectedInCompany(err):
		// The broker rejects a whole batch for one record too large or
		// invalid: find out which rows it was by publishing them alone.
		s.probe = append(s.probe, row)
		s.blocked[k] = true
		s.stop = true
	case rejected(err):
		s.parks = append(s.parks, parked{row.seq, row.record.Topic, err})
	default:
		s.failed[k] = true
		s.failWith(fmt.Errorf("publish to %s: %w", row.record.Topic, err))
	}
	s.settled(row)
}

// done counts row out of its read batch: it is neither in flight nor held
// any more.
func (s *session) done(row outboxRow) {
	if row.batch.left--; row.batch.left == 0 {
		s.nReads--
	}
}

// settled counts row as resolved and frees the held rows of its key when
// it was the last in flight.
func (s *session) settled(row outboxRow) {
	s.done(row)
	k := string(row.record.Key)
	s.nFlight--
	if s.inflight[k]--; s.inflight[k] > 0 {
		return
	}
	delete(s.inflight, k)
	held := s.held[k]
	delete(s.held, k)
	if !s.failed[k] && !s.blocked[k] {
		s.release = append(s.release, held...)
		return
	}
	for _, h := range held {
		s.more = true // left queued for the next session
		s.done(h)
	}
}

// expire fails the unresolved rows of the groups whose deadline is not
// after now (every group when now is zero): franz-go may still be waiting
// for a broker, and the relay does not wait longer. A late ack changes
// nothing; the row is published again, in order.
func (s *session) expire(now time.Time) {
	for _, g := range slices.Clone(s.groups) {
		if !now.IsZero() && g.deadline.After(now) {
			continue
		}
		g.expired = true
		for _, row := range g.pending {
			s.failed[string(row.record.Key)] = true
			s.failWith(fmt.Errorf("publish to %s: %w", row.record.Topic, context.DeadlineExceeded))
			s.settled(row)
		}
		s.resolved(g)
	}
}

func (s *session) failWith(err error) {
	if s.err == nil {
		s.err = err
	}
	s.stop = true
}

// probeAlone publishes the rows rejected in company one at a time, with
// nothing else in flight, so each is in a batch of its own: a row rejected
// alone is parked, the others go out. It runs after the session drained.
func (s *session) probeAlone() {
	slices.SortFunc(s.probe, func(a, b outboxRow) int { return int(a.seq - b.seq) })
	for _, row := range s.probe {
		if s.ctx.Err() != nil {
			return // left queued
		}
		// A new record: franz-go keeps the first produce's (cancelled)
		// context in the one that was rejected.
		rec := &kgo.Record{Topic: row.record.Topic, Key: row.record.Key, Value: row.record.Value, Headers: row.record.Headers}
		pctx, cancel := context.WithTimeout(s.ctx, s.r.cfg.PublishTimeout)
		err := s.r.cfg.Producer.produce(pctx, []*kgo.Record{rec})[0]
		cancel()
		switch {
		case err == nil:
			s.sent = append(s.sent, row.seq)
		case rejected(err):
			s.parks = append(s.parks, parked{row.seq, row.record.Topic, err})
		default:
			s.failWith(fmt.Errorf("publish to %s: %w", row.record.Topic, err))
			return // this row and the rest stay queued
		}
	}
}

// flush marks the outcomes gathered so far.
func (s *session) flush() error {
	if len(s.sent) == 0 && len(s.parks) == 0 {
		return nil
	}
	err := s.r.mark(s.dbCtx, s.st, s.sent, s.parks)
	s.sent, s.parks = s.sent[:0], nil
	return err
}

// maxHoles bounds the holes a PostgreSQL session keeps track of. Holes are
// the seqs of transactions still running when their seq was passed (a few,
// one per concurrent writer), of rolled-back inserts, and with MaxShards of
// other relays' shards; past the bound the session ends, and the next one
// starts afresh from the oldest queued row.
const maxHoles = 256

// trackHoles records the seqs a PostgreSQL read passed without reading
// them, and forgets those it read.
func (s *session) trackHoles(rows []outboxRow) {
	if len(rows) == 0 {
		return
	}
	from := s.cursor + 1
	if s.floor == 0 {
		s.floor, from = rows[0].seq, rows[0].seq
	}
	next := from
	for _, row := range rows {
		if row.seq < from {
			delete(s.holes, row.seq) // a hole filled
			continue
		}
		for ; next < row.seq && len(s.holes) <= maxHoles; next++ {
			s.holes[next] = true
		}
		next = row.seq + 1
	}
	if len(s.holes) > maxHoles {
		s.stop = true
	}
}

// rejected reports whether Kafka refused the record itself, so that no
// retry can succeed: it is too large, or its topic is invalid or not
// allowed. Everything else (a broker down, a leader moving, a timeout) is
// worth retrying.
func rejected(err error) bool {
	return rejectedInCompany(err) || errors.Is(err, kerr.InvalidTopicException) || errors.Is(err, kerr.TopicAuthorizationFailed)
}

// rejectedInCompany reports a rejection that may be another record's
// fault: the broker refuses a whole batch when one of its records is too
// large or invalid, and every record of the batch gets the error.
func rejectedInCompany(err error) bool {
	return errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) || errors.Is(err, kerr.InvalidRecord)
}
