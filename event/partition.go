package event

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// partitionWork handles one partition's records of one poll round.
type partitionWork struct {
	gc   *groupConsumer
	rt   *route
	recs []*kgo.Record
	// slab serves the goroutine working through the records in order
	// (lanes have one each).
	slab slab
	stop <-chan struct{}

	mu         sync.Mutex
	done       []bool        // done[i]: recs[i] handled, skipped or dead-lettered
	next       int           // recs[:next] are all done
	marked     int           // recs[:marked] are marked for commit
	retryAfter time.Duration // > 0: a record failed and is retried after this
}

// stopped reports whether the round was told to start nothing new.
func (pw *partitionWork) stopped() bool {
	select {
	case <-pw.stop:
		return true
	default:
		return false
	}
}

// finish records that recs[i] is done. The longest finished prefix is
// marked for commit — every markEvery records and when the partition's work
// ends ([partitionWork.flush]) — so the committed offset never passes an
// unfinished record, and marking (a lock in the client) stays off the
// per-record path.
func (pw *partitionWork) finish(i int) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.done[i] = true
	for pw.next < len(pw.done) && pw.done[pw.next] {
		pw.next++
	}
	if pw.next-pw.marked >= markEvery {
		pw.markLocked()
	}
}

// markEvery bounds the records finished but not yet marked.
const markEvery = 64

func (pw *partitionWork) markLocked() {
	if pw.next > pw.marked {
		pw.gc.cl.MarkCommitRecords(pw.recs[pw.next-1])
		pw.marked = pw.next
	}
}

// flush marks everything finished.
func (pw *partitionWork) flush() {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.markLocked()
}

// firstUndone is the offset of the first record not done, if any.
func (pw *partitionWork) firstUndone() (int64, bool) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.next == len(pw.recs) {
		return 0, false
	}
	return pw.recs[pw.next].Offset, true
}

func (pw *partitionWork) process(ctx context.Context) {
	switch {
	case pw.rt.batch != nil:
		pw.batches(ctx)
	case pw.gc.cfg().KeyConcurrency > 1:
		pw.lanes(ctx, pw.gc.cfg().KeyConcurrency)
	default:
		pw.sequence(ctx)
	}
}

// sequence handles the records in order, stopping at the first record it
// has to abandon.
func (pw *partitionWork) sequence(ctx context.Context) {
	for i := range pw.recs {
		if pw.stopped() || !pw.handle(ctx, i, &pw.slab) {
			return
		}
		pw.finish(i)
	}
}

// lanes handles the records of distinct keys in parallel: a key always maps
// to the same lane and a lane is sequential, so per-key order holds.
func (pw *partitionWork) lanes(ctx context.Context, n int) {
	idx := make([][]int, n)
	for i, r := range pw.recs {
		lane := laneOf(r.Key, n)
		idx[lane] = append(idx[lane], i)
	}
	var wg sync.WaitGroup
	for _, lane := range idx {
		if len(lane) == 0 {
			continue
		}
		wg.Go(func() {
			var sl slab
			for _, i := range lane {
				if pw.stopped() || !pw.handle(ctx, i, &sl) {
					return
				}
				pw.finish(i)
			}
		})
	}
	wg.Wait()
}

// laneOf maps a key to one of n lanes.
func laneOf(key []byte, n int) int {
	h := fnv.New32a()
	h.Write(key)
	return int(h.Sum32() % uint32(n))
}

// batches gives runs of consecutive decodable records to the batch handler.
// An undecodable record is dead-lettered between runs; a failed run is
// handled again record by record.
func (pw *partitionWork) batches(ctx context.Context) {
	gc, maxBatch := pw.gc, pw.gc.cfg().MaxBatch
	single := func(ctx context.Context, msg *Message) error {
		return callBatch(ctx, pw.rt.batch, []*Message{msg})
	}
	for i := 0; i < len(pw.recs); {
		if pw.stopped() {
			return
		}
		msgs := make([]*Message, 0, min(maxBatch, len(pw.recs)-i))
		for j := i; j < len(pw.recs) && len(msgs) < maxBatch; j++ {
			msg, err := pw.slab.message(pw.recs[j], gc.group)
			if err != nil {
				if len(msgs) == 0 {
					if !pw.deadLetter(ctx, pw.recs[j], err, 0) {
						return
					}
					pw.finish(j)
					i++
				}
				break
			}
			msg.Attempt = 1
			msgs = append(msgs, msg)
		}
		if len(msgs) == 0 {
			continue
		}
		start := time.Now()
		err := callBatch(ctx, pw.rt.batch, msgs)
		d := time.Since(start)
		if err == nil {
			for k, msg := range msgs {
				gc.r.obs.handled(gc.group, msg.Record.Topic, d/time.Duration(len(msgs)))
				if msg.duplicate {
					gc.r.obs.duplicate(gc.group, msg.Record.Topic)
				}
				pw.finish(i + k)
			}
			i += len(msgs)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		gc.r.obs.failed(gc.group, msgs[0].Record.Topic, d, err)
		for _, msg := range msgs {
			if pw.stopped() || !pw.deliver(ctx, msg, single) {
				return
			}
			pw.finish(i)
			i++
		}
	}
}

// handle delivers recs[i] to its handler. It returns true when the record
// is done (handled, skipped or dead-lettered) and false when it was
// abandoned and must be fetched again.
func (pw *partitionWork) handle(ctx context.Context, i int, sl *slab) bool {
	r := pw.recs[i]
	msg, err := sl.message(r, pw.gc.group)
	if err != nil {
		return pw.deadLetter(ctx, r, err, 0)
	}
	h := pw.rt.handler(msg.Event.Type)
	if h == nil {
		return true // no handler for this type in this group: skip it
	}
	if tp := traceparentOf(r); tp != "" {
		ctx = ContextWithTraceparent(ctx, tp)
	}
	return pw.deliver(ctx, msg, h)
}

// delivery is a message and its event, allocated together.
type delivery struct {
	msg Message
	ev  Event
}

// slab allocates the messages, events and event strings of one goroutine's
// records in blocks, instead of one message and one string per record: a
// poll of a thousand records costs a few dozen allocations. A handler that
// keeps a message keeps its block's memory alive too, never its contents'
// meaning: each message is written once, before its handler sees it.
type slab struct {
	msgs []delivery // not handed out yet
	strs strArena
}

// slabMsgs is the number of messages per block: about 7 KiB, below the
// 32 KiB past which Go allocates fresh zeroed pages per object.
const slabMsgs = 32

// message decodes r into a message for group.
func (sl *slab) message(r *kgo.Record, group string) (*Message, error) {
	if len(sl.msgs) == 0 {
		sl.msgs = make([]delivery, slabMsgs)
	}
	// Taken even when decoding fails: the event is zero only once.
	d := &sl.msgs[0]
	sl.msgs = sl.msgs[1:]
	if err := decodeInto(&d.ev, r.Topic, r.Value, r.Headers, r.Timestamp, &sl.strs); err != nil {
		return nil, err
	}
	d.msg = Message{Event: &d.ev, Record: r, Group: group}
	return &d.msg, nil
}

// deliver calls h once. On success, or on a failure that goes to the
// dead-letter topic, the record is done. On a failure to retry it is not:
// the attempt is counted, the partition is asked to pause for the backoff
// (see [partitionWork.retryAfter]) and the record is fetched again when it
// resumes. Waiting outside the poll round keeps one failing record from
// holding the group's other partitions and its rebalances.
func (pw *partitionWork) deliver(ctx context.Context, msg *Message, h HandlerFunc) bool {
	gc, obs, policy := pw.gc, &pw.gc.r.obs, pw.rt.retry
	r := msg.Record
	if g, ok := gc.retries.hasGivenUp(r); ok {
		// A round ended before the dead letter could be written: write it
		// now, without running the handler again.
		return pw.giveUp(ctx, r, g)
	}
	attempt := gc.retries.made(r) + 1
	msg.Attempt = attempt
	var start time.Time
	if obs.timed {
		start = time.Now()
	}
	err := callHandler(ctx, h, msg)
	var d time.Duration
	if obs.timed {
		d = time.Since(start)
	}
	if err == nil {
		gc.retries.forget(r)
		obs.handled(gc.group, r.Topic, d)
		if msg.duplicate {
			obs.duplicate(gc.group, r.Topic)
		}
		return true
	}
	obs.failed(gc.group, r.Topic, d, err)
	if ctx.Err() != nil {
		return false // shutdown cut the handler short: not its fault
	}
	if IsPermanent(err) || attempt >= policy.MaxAttempts {
		return pw.giveUp(ctx, r, gaveUp{err, attempt})
	}
	gc.retries.failed(r, attempt)
	pw.retryIn(policy.backoff(attempt))
	obs.retried(gc.group, r.Topic)
	return false
}

// retryIn asks for the partition to pause at least d before its first
// unfinished record is fetched again.
func (pw *partitionWork) retryIn(d time.Duration) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.retryAfter = max(pw.retryAfter, d)
}

// giveUp dead-letters r, whose handler gave up on it. If the round ends
// first, r is remembered as given up, so that when it is fetched again
// only its dead letter is retried.
func (pw *partitionWork) giveUp(ctx context.Context, r *kgo.Record, g gaveUp) bool {
	if !pw.deadLetter(ctx, r, g.cause, g.attempts) {
		pw.gc.retries.gaveUp(r, g)
		return false
	}
	pw.gc.retries.forget(r)
	return true
}

// deadLetter writes r to its dead-letter topic, retrying until the write
// succeeds or the round ends. Losing the record is not an option, so a
// dead-letter topic that cannot be written holds the partition.
func (pw *partitionWork) deadLetter(ctx context.Context, r *kgo.Record, cause error, attempts int) bool {
	gc, cfg := pw.gc, pw.gc.cfg()
	for try := 1; ; try++ {
		// A fresh record per attempt: franz-go keeps the first produce's
		// context in Record.Context, so reusing the record would fail
		// every later attempt at once with that cancelled context.
		dl := deadLetterRecord(r, gc.group, cause, attempts)
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := gc.dlt.ProduceSync(pctx, dl).FirstErr()
		cancel()
		if err == nil {
			cfg.Logger.Warn("event: dead-lettered", "group", gc.group, "topic", r.Topic,
				"partition", r.Partition, "offset", r.Offset, "attempts", attempts, "err", cause)
			gc.r.obs.deadLettered(gc.group, r.Topic)
			return true
		}
		cfg.Logger.Error("event: dead-letter write failed", "topic", dl.Topic, "err", err)
		if !wait(ctx, pw.stop, cfg.Retry.backoff(try)) {
			return false
		}
	}
}
