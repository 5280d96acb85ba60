// Package records is the engine of the kcat-like developer commands
// `ksuite produce` and `ksuite consume`: lines in, records out, and records
// in, lines (text or JSON) out.
package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// MaxLine is the longest stdin line produce accepts (Kafka's default
// message.max.bytes is about 1 MiB).
const MaxLine = 4 << 20

// ProduceOptions says what to send.
type ProduceOptions struct {
	Topic string
	// Key is every record's key; nil sends no key.
	Key *string
	// KeyDelimiter, when set, splits each input line into key and value at
	// its first occurrence (kcat's -K).
	KeyDelimiter string
	// Value, when set, sends exactly one record with it instead of reading lines.
	Value *string
	// Headers are added to every record.
	Headers []kgo.RecordHeader
	// Partition pins every record to a partition; -1 lets the partitioner choose
	// (by key hash, sticky for nil keys). The client must be built with
	// [ClientOpts] for a pinned partition to take effect.
	Partition int32
}

// ClientOpts are the client options produce needs for o.
func (o ProduceOptions) ClientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.DefaultProduceTopic(o.Topic)}
	if o.Partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	return opts
}

// ParseHeader parses "k=v" into a header.
func ParseHeader(s string) (kgo.RecordHeader, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return kgo.RecordHeader{}, fmt.Errorf("header %q is not key=value: write --header name=value", s)
	}
	return kgo.RecordHeader{Key: k, Value: []byte(v)}, nil
}

// ProduceResult counts the records Produce handed to the client.
type ProduceResult struct {
	// Sent is how many records were read and handed to the client.
	Sent int
	// Acked is how many of them the cluster acknowledged.
	Acked int
}

// NotAcked is how many records were sent but not acknowledged: failed, or
// still unanswered when Produce gave up on them. Their fate is unknown to
// the cluster's readers only if they were in flight; none is retried.
func (r ProduceResult) NotAcked() int { return r.Sent - r.Acked }

// ErrNoAnswer is why Produce gave up when the cluster acknowledged nothing
// for the whole timeout while records were outstanding.
var ErrNoAnswer = errors.New("the cluster acknowledged nothing")

// ErrInterrupted is why Produce gave up after ctx ended and the
// outstanding records were still unanswered a timeout later.
var ErrInterrupted = errors.New("interrupted")

// Produce sends one record per line of in (or the single Value) and waits
// until every record is acknowledged. Every wait is bounded: when the
// cluster acknowledges nothing for timeout while records are outstanding,
// or ctx ends (a signal) and the outstanding records are not answered
// within timeout, Produce stops reading and gives up on them. A signal
// with every record read so far acknowledged is a normal end.
//
// Records are sent concurrently, so when some fail, the acknowledged ones
// need not be the first lines (within one partition they are, in order).
// The result counts what was acknowledged; the error names the first
// record that failed.
func Produce(ctx context.Context, cl *kgo.Client, o ProduceOptions, in io.Reader, timeout time.Duration) (ProduceResult, error) {
	if o.Topic == "" {
		return ProduceResult{}, errors.New("no topic given")
	}
	// Records carry their own context: a signal stops the reading, and
	// only giveUp fails what is still buffered.
	pctx, giveUp := context.WithCancelCause(context.WithoutCancel(ctx))
	defer giveUp(nil)
	t := newProduceTracker()
	send := func(n int, r *kgo.Record) {
		t.sent()
		cl.Produce(pctx, r, func(_ *kgo.Record, err error) { t.done(n, o.Topic, err) })
	}

	go t.watch(ctx, pctx, giveUp, timeout)
	var readErr error
	if o.Value != nil {
		send(1, o.record([]byte(*o.Value)))
	} else {
		// Reading runs apart: a read from a terminal or a pipe with no
		// writer blocks, and must not keep a signal from ending Produce.
		lines := readLines(pctx, in)
	read:
		for n := 1; ; {
			select {
			case <-ctx.Done():
				break read
			case <-pctx.Done():
				break read
			case b, ok := <-lines:
				if !ok {
					break read
				}
				for _, line := range b.lines {
					send(n, o.record(line))
					n++
				}
				if b.err != nil {
					readErr = fmt.Errorf("reading input line %d: %w", n, b.err)
					break read
				}
			}
		}
	}
	// Wait for every answer, or for the watchdog to give up; after that
	// buffered records fail at once, and records in flight to a broker
	// that stopped answering get a moment before they count as unanswered.
	t.wait(pctx.Done())
	if pctx.Err() != nil {
		grace := make(chan struct{})
		time.AfterFunc(time.Second, func() { close(grace) })
		t.wait(grace)
	}
	res, firstErr := t.result()
	cause := context.Cause(pctx)
	switch {
	case readErr != nil:
		return res, readErr
	case firstErr != nil && !errors.Is(firstErr, context.Canceled):
		return res, firstErr
	case res.NotAcked() > 0 && errors.Is(cause, ErrNoAnswer):
		return res, fmt.Errorf("%w within %s", ErrNoAnswer, timeout)
	case res.NotAcked() > 0:
		return res, ErrInterrupted
	}
	return res, nil
}

// lineBatch is lines of input read at once, or the error that ended them.
type lineBatch struct {
	lines [][]byte
	err   error
}

// readLines sends the lines of in, in batches of what one read brought,
// until its end (then it closes the channel), a read error, or ctx's end.
func readLines(ctx context.Context, in io.Reader) <-chan lineBatch {
	ch := make(chan lineBatch, 4)
	go func() {
		defer close(ch)
		lines := &lineReader{r: in}
		for {
			var b lineBatch
			for len(b.lines) < 1024 && (len(b.lines) == 0 || lines.hasLine()) {
				line, err := lines.next()
				if err != nil {
					b.err = err
					break
				}
				b.lines = append(b.lines, line)
			}
			end := b.err != nil
			if errors.Is(b.err, io.EOF) {
				b.err = nil
			}
			if len(b.lines) > 0 || b.err != nil {
				select {
				case ch <- b:
				case <-ctx.Done():
					return
				}
			}
			if end {
				return
			}
		}
	}()
	return ch
}

// produceTracker counts records and answers for Produce.
type produceTracker struct {
	mu        sync.Mutex
	nSent     int
	nAcked    int
	nAnswered int
	firstErr  error
	firstLine int
	changed   chan struct{} // closed, and replaced, whenever a record is answered
	// waiting is since when the cluster owes an answer: the last answer,
	// or the send that ended a time with nothing outstanding.
	waiting time.Time
}

func newProduceTracker() *produceTracker {
	return &produceTracker{changed: make(chan struct{})}
}

func (t *produceTracker) sent() {
	t.mu.Lock()
	if t.nSent == t.nAnswered {
		t.waiting = time.Now()
	}
	t.nSent++
	t.mu.Unlock()
}

func (t *produceTracker) done(n int, topic string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nAnswered++
	t.waiting = time.Now()
	if err == nil {
		t.nAcked++
	} else if t.firstErr == nil || n < t.firstLine {
		t.firstErr, t.firstLine = fmt.Errorf("record %d to %s: %w", n, topic, err), n
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// state is how many records await an answer, and a channel closed at the
// next answer.
func (t *produceTracker) state() (int, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nSent - t.nAnswered, t.changed
}

// owed is how long the cluster has owed an answer: zero with nothing
// outstanding.
func (t *produceTracker) owed() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nSent == t.nAnswered {
		return 0
	}
	return time.Since(t.waiting)
}

// wait returns once every record sent is answered (call it after reading
// ended) or stop is closed.
func (t *produceTracker) wait(stop <-chan struct{}) {
	for {
		n, changed := t.state()
		if n == 0 {
			return
		}
		select {
		case <-changed:
		case <-stop:
			return
		}
	}
}

func (t *produceTracker) result() (ProduceResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ProduceResult{Sent: t.nSent, Acked: t.nAcked}, t.firstErr
}

// watch gives up on the outstanding records when the cluster has owed an
// answer for timeout, or timeout after ctx ends.
func (t *produceTracker) watch(ctx, pctx context.Context, giveUp context.CancelCauseFunc, timeout time.Duration) {
	stall := time.NewTimer(timeout)
	defer stall.Stop()
	signalled := ctx.Done()
	var interrupted <-chan time.Time
	for {
		_, changed := t.state()
		select {
		case <-pctx.Done():
			return
		case <-changed:
			stall.Reset(timeout)
		case <-stall.C:
			// Measured from when the answer became owed, not from the
			// timer's start: records sent after a quiet spell get the
			// whole timeout, and no more.
			owed := t.owed()
			if owed >= timeout {
				giveUp(ErrNoAnswer)
				return
			}
			stall.Reset(timeout - owed)
		case <-signalled:
			signalled = nil
			interrupted = time.After(timeout)
		case <-interrupted:
			giveUp(ErrInterrupted)
			return
		}
	}
}

// record builds the record for one input line.
func (o ProduceOptions) record(line []byte) *kgo.Record {
	r := &kgo.Record{Topic: o.Topic, Value: line, Partition: o.Partition}
	if o.Key != nil {
		r.Key = []byte(*o.Key)
	}
	if o.KeyDelimiter != "" {
		if k, v, ok := bytes.Cut(line, []byte(o.KeyDelimiter)); ok {
			r.Key, r.Value = k, v
		}
	}
	if len(o.Headers) > 0 {
		r.Headers = append([]kgo.RecordHeader(nil), o.Headers...)
	}
	return r
}
