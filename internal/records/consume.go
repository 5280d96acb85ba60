package records

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Output formats of consume.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// ConsumeOptions says where to start, what to read and how to print it.
type ConsumeOptions struct {
	Topic string
	// FromBeginning starts at the earliest offset (for a group: only while it
	// has no committed offset, as kafka-console-consumer does).
	FromBeginning bool
	// Offset starts every partition at this offset; negative counts back from
	// the end (kcat's -o -N). Not with a group.
	Offset *int64
	// Since starts at the first record at most this long ago.
	Since time.Duration
	// Partition reads only this partition; -1 reads all. Not with a group.
	Partition int32
	// Group consumes as a member of this consumer group; what was printed is
	// committed before Consume returns.
	Group string
	// Count stops after this many records; 0 reads until ctx ends.
	Count int
	// Output is "text" (the value, one per line) or "json" (one object per line).
	Output string
	// Now is the clock for Since; nil means time.Now.
	Now func() time.Time
	// Timeout bounds every wait that is not for records: committing and
	// leaving the group at the end, and how long the cluster may stay
	// unreachable before Consume reports the lost connection. 0 means 10s.
	Timeout time.Duration
	// Logger receives what is worth a warning but does not end consuming:
	// records the cluster lost (the client resumes where the log now ends,
	// as Kafka's consumers do). Nil discards them.
	Logger *slog.Logger
}

func (o ConsumeOptions) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 10 * time.Second
	}
	return o.Timeout
}

func (o ConsumeOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Validate rejects combinations Kafka's own tools reject too.
func (o ConsumeOptions) Validate() error {
	starts := 0
	for _, set := range []bool{o.FromBeginning, o.Offset != nil, o.Since > 0} {
		if set {
			starts++
		}
	}
	switch {
	case o.Topic == "":
		return errors.New("no topic given")
	case starts > 1:
		return errors.New("--from-beginning, --offset and --since each choose where to start: give one")
	case o.Group != "" && o.Offset != nil:
		return errors.New("--offset cannot be used with --group (a group starts at its committed offset): use --from-beginning or --since, or drop --group")
	case o.Group != "" && o.Partition >= 0:
		return errors.New("--partition cannot be used with --group (the group assigns partitions): drop one of them")
	case o.Count < 0:
		return fmt.Errorf("--count %d: must be 0 (no limit) or more", o.Count)
	case o.Since < 0:
		return fmt.Errorf("--since %s: must be a positive duration like 10m", o.Since)
	case o.Since > 0 && o.now().Add(-o.Since).Before(time.Unix(0, 0)):
		return fmt.Errorf("--since %s: that is before 1970-01-01, the earliest time a record can have: use --from-beginning", o.Since)
	case o.Output != "" && o.Output != OutputText && o.Output != OutputJSON:
		return fmt.Errorf("--output %q: use text or json", o.Output)
	}
	return nil
}

// start is the offset where consumption starts (or resets to, for a group).
func (o ConsumeOptions) start() kgo.Offset {
	switch {
	case o.FromBeginning:
		return kgo.NewOffset().AtStart()
	case o.Offset != nil && *o.Offset < 0:
		return kgo.NewOffset().AtEnd().Relative(*o.Offset)
	case o.Offset != nil:
		return kgo.NewOffset().At(*o.Offset)
	case o.Since > 0:
		return kgo.NewOffset().AfterMilli(o.now().Add(-o.Since).UnixMilli())
	}
	return kgo.NewOffset().AtEnd()
}

// ClientOpts are the client options consume needs for o.
func (o ConsumeOptions) ClientOpts() []kgo.Opt {
	start := o.start()
	switch {
	case o.Group != "":
		return []kgo.Opt{
			kgo.ConsumeTopics(o.Topic),
			kgo.ConsumerGroup(o.Group),
			kgo.ConsumeResetOffset(start),
			// Commit exactly what was printed: marks, committed on revoke and at exit.
			kgo.AutoCommitMarks(),
			kgo.BlockRebalanceOnPoll(),
		}
	case o.Partition >= 0:
		return []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{o.Topic: {o.Partition: start}})}
	default:
		return []kgo.Opt{kgo.ConsumeTopics(o.Topic), kgo.ConsumeResetOffset(start)}
	}
}

// JSONRecord is one line of --output json.
type JSONRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp time.Time         `json:"timestamp"`
	Key       *string           `json:"key"`
	Headers   map[string]string `json:"headers"`
	Value     *string           `json:"value"`
}

// ToJSONRecord converts a record to the --output json shape; a nil key or
// value stays null. [AppendJSON] writes the same bytes json.Marshal would
// write for it, without reflection.
func ToJSONRecord(r *kgo.Record) JSONRecord {
	j := JSONRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UTC(),
		Headers:   make(map[string]string, len(r.Headers)),
	}
	if r.Key != nil {
		k := string(r.Key)
		j.Key = &k
	}
	if r.Value != nil {
		v := string(r.Value)
		j.Value = &v
	}
	for _, h := range r.Headers {
		j.Headers[h.Key] = string(h.Value)
	}
	return j
}

// ErrConnectionLost is returned when the cluster stayed unreachable for
// the timeout while Consume waited for records.
var ErrConnectionLost = errors.New("lost the connection to the cluster")

// Consume prints records from cl (built with o.ClientOpts()) to out until
// Count records were printed or ctx ends; both are a normal end and return
// nil. For a group, the printed records are committed and the group left
// before Consume returns, within o.Timeout. While no record arrives, the
// cluster is checked every o.Timeout: when it cannot be reached, Consume
// returns an error wrapping ErrConnectionLost.
func Consume(ctx context.Context, cl *kgo.Client, o ConsumeOptions, out io.Writer) (int, error) {
	w := bufio.NewWriter(out)
	var line []byte
	printed := 0
	var err error
	for err == nil && (o.Count == 0 || printed < o.Count) {
		pctx, cancel := context.WithTimeout(ctx, o.timeout())
		fetches := cl.PollFetches(pctx)
		idle := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(t string, p int32, ferr error) {
			var lost *kgo.ErrDataLoss
			switch {
			case errors.Is(ferr, context.Canceled), errors.Is(ferr, context.DeadlineExceeded):
			case errors.As(ferr, &lost):
				// Informational: the client has already reset.
				if o.Logger != nil {
					o.Logger.Warn(ferr.Error())
				}
				if o.Group != "" {
					// The group's position moves back to where reading
					// resumed, as a Kafka consumer's does after log
					// truncation; else the client would refuse to
					// commit an offset below the one the group had.
					// (This runs in the polling goroutine, before
					// AllowRebalance, as SetOffsets asks.)
					cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{t: {p: {Epoch: lost.ResetToEpoch, Offset: lost.ResetTo}}})
				}
			case err == nil:
				err = fmt.Errorf("fetching %s[%d]: %w", t, p, ferr)
			}
		})
		if err == nil && idle && fetches.NumRecords() == 0 {
			err = checkAlive(ctx, cl, o.timeout())
		}
		iter := fetches.RecordIter()
		for err == nil && !iter.Done() && (o.Count == 0 || printed < o.Count) {
			r := iter.Next()
			if o.Output == OutputJSON {
				line = append(AppendJSON(line[:0], r), '\n')
				_, err = w.Write(line)
			} else {
				_, err = fmt.Fprintf(w, "%s\n", r.Value)
			}
			if err == nil {
				printed++
				if o.Group != "" {
					cl.MarkCommitRecords(r)
				}
			}
		}
		// Flush per poll so a reader of a pipe sees records promptly.
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
		cl.AllowRebalance()
	}
	if o.Group != "" {
		if gerr := finishGroup(ctx, cl, o); err == nil {
			err = gerr
		}
	}
	return printed, err
}

// finishGroup commits what was printed and leaves the group, both within
// one o.Timeout: an interrupted consume exits promptly even when the
// cluster stopped answering. Leaving here, with rebalancing allowed (the
// poll loop may have broken off before allowing it), is what keeps the
// client's Close from blocking.
func finishGroup(ctx context.Context, cl *kgo.Client, o ConsumeOptions) error {
	cl.AllowRebalance()
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.timeout())
	defer cancel()
	// A commit first waits for any commit in flight (an autocommit), which
	// the client never cancels: the bound is kept here, not by the client.
	committed, left := make(chan error, 1), make(chan struct{})
	go func() {
		committed <- cl.CommitMarkedOffsets(fctx)
		_ = cl.LeaveGroupContext(fctx) // a group left by its session timeout is fine too
		close(left)
	}()
	var err error
	select {
	case err = <-committed:
	case <-fctx.Done():
		select {
		case err = <-committed:
		default:
			err = fmt.Errorf("no answer within %s: %w", o.timeout(), fctx.Err())
		}
	}
	select {
	case <-left:
	case <-fctx.Done():
	}
	if err != nil {
		return &CommitError{Group: o.Group, Err: err}
	}
	return nil
}

// CommitError is a group's failure to commit what Consume printed: the
// group's next consumer reads those records again.
type CommitError struct {
	Group string
	Err   error
}

func (e *CommitError) Error() string {
	return fmt.Sprintf("group %q: the records printed were not committed, the group will read them again: %v", e.Group, e.Err)
}

func (e *CommitError) Unwrap() error { return e.Err }

// checkAlive reports ErrConnectionLost when no broker answers within d.
func checkAlive(ctx context.Context, cl *kgo.Client, d time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := cl.Ping(pctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: no broker answered within %s (%w)", ErrConnectionLost, d, err)
	}
	return nil
}
