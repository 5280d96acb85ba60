package event

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RetryPolicy bounds how a failing handler is retried before its record is
// dead-lettered. The zero value means the defaults.
type RetryPolicy struct {
	// MaxAttempts is the number of handler calls per record, the first
	// included. Default 5; 1 disables retries.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt; each later wait
	// doubles. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps one wait. Default 5s. While a record waits, only its
	// partition is paused (the record is fetched again afterwards), so the
	// group's other partitions, rebalances and shutdown never wait for a
	// backoff. A partition that moves to another member starts its count
	// afresh there.
	MaxBackoff time.Duration
}

// validate reports a negative field. Zero means the default; a negative
// value is a mistake, not a setting (MaxAttempts -1 does not mean "retry
// forever": a record that keeps failing ends in the dead-letter topic).
func (p RetryPolicy) validate(name string) error {
	return errors.Join(
		notNegative(name+".MaxAttempts", p.MaxAttempts),
		notNegative(name+".InitialBackoff", p.InitialBackoff),
		notNegative(name+".MaxBackoff", p.MaxBackoff))
}

// notNegative reports a config field below zero, naming it and the fix.
func notNegative[T int | time.Duration](field string, v T) error {
	if v < 0 {
		return fmt.Errorf("event: %s is %v: use 0 for its default or a positive value", field, v)
	}
	return nil
}

func (p *RetryPolicy) setDefaults() {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.InitialBackoff <= 0 {
		p.InitialBackoff = 100 * time.Millisecond
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 5 * time.Second
	}
	if p.MaxBackoff < p.InitialBackoff {
		p.MaxBackoff = p.InitialBackoff
	}
}

// backoff is the wait after the given failed attempt (from 1): exponential,
// capped, with ±20% jitter so partitions retrying together spread out.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return d + jitter
}

// wait sleeps for d; it returns false early when stop closes or ctx ends.
func wait(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// recordPos identifies a record.
type recordPos struct {
	topic     string
	partition int32
	offset    int64
}

// retryBook counts the attempts made on records that failed and wait to be
// fetched again, remembers the records whose handler gave up but whose
// dead letter is not written yet, and holds the timers that resume their
// paused partitions. It is cleared for partitions this member loses, whose
// records start over with their next owner.
type retryBook struct {
	// waiting is len(attempts)+len(givenUp), read without the lock so the
	// common case, no record waiting, costs no lock per record.
	waiting  atomic.Int64
	mu       sync.Mutex
	attempts map[recordPos]int
	givenUp  map[recordPos]gaveUp
	timers   map[string]map[int32]*time.Timer
}

// gaveUp is why and after how many attempts a handler gave up on a record.
type gaveUp struct {
	cause    error
	attempts int
}

func posOf(r *kgo.Record) recordPos { return recordPos{r.Topic, r.Partition, r.Offset} }

// made is the number of attempts already made on r.
func (b *retryBook) made(r *kgo.Record) int {
	if b.waiting.Load() == 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.attempts[posOf(r)]
}

func (b *retryBook) failed(r *kgo.Record, attempts int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.attempts == nil {
		b.attempts = make(map[recordPos]int)
	}
	b.attempts[posOf(r)] = attempts
	b.count()
}

// gaveUp records that r's handler gave up on it, so that when r is fetched
// again its dead letter is written without running the handler again.
func (b *retryBook) gaveUp(r *kgo.Record, g gaveUp) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.givenUp == nil {
		b.givenUp = make(map[recordPos]gaveUp)
	}
	b.givenUp[posOf(r)] = g
	b.count()
}

// hasGivenUp tells whether r's handler gave up on it in an earlier round.
func (b *retryBook) hasGivenUp(r *kgo.Record) (gaveUp, bool) {
	if b.waiting.Load() == 0 {
		return gaveUp{}, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.givenUp[posOf(r)]
	return g, ok
}

func (b *retryBook) forget(r *kgo.Record) {
	if b.waiting.Load() == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.attempts, posOf(r))
	delete(b.givenUp, posOf(r))
	b.count()
}

// count updates waiting; b.mu is held.
func (b *retryBook) count() { b.waiting.Store(int64(len(b.attempts) + len(b.givenUp))) }

// pause stops fetching a partition for d, then resumes it.
func (b *retryBook) pause(cl *kgo.Client, topic string, partition int32, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cl.PauseFetchPartitions(map[string][]int32{topic: {partition}})
	if b.timers == nil {
		b.timers = make(map[string]map[int32]*time.Timer)
	}
	if b.timers[topic] == nil {
		b.timers[topic] = make(map[int32]*time.Timer)
	}
	if t := b.timers[topic][partition]; t != nil {
		t.Stop()
	}
	b.timers[topic][partition] = time.AfterFunc(d, func() {
		cl.ResumeFetchPartitions(map[string][]int32{topic: {partition}})
	})
}

// drop forgets the partitions' attempts and resumes them, for partitions
// this member no longer owns; nil means every partition (shutdown).
func (b *retryBook) drop(cl *kgo.Client, partitions map[string][]int32) {
	b.mu.Lock()
	defer b.mu.Unlock()
	owned := func(topic string, p int32) bool {
		if partitions == nil {
			return true
		}
		for _, q := range partitions[topic] {
			if q == p {
				return true
			}
		}
		return false
	}
	for pos := range b.attempts {
		if owned(pos.topic, pos.partition) {
			delete(b.attempts, pos)
		}
	}
	for pos := range b.givenUp {
		if owned(pos.topic, pos.partition) {
			delete(b.givenUp, pos)
		}
	}
	b.count()
	for topic, ps := range b.timers {
		for p, t := range ps {
			if owned(topic, p) {
				t.Stop()
				delete(ps, p)
				cl.ResumeFetchPartitions(map[string][]int32{topic: {p}})
			}
		}
	}
}
