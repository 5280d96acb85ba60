package records

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
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
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		return kgo.NewOffset().AfterMilli(now().Add(-o.Since).UnixMilli())
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

// Consume prints records from cl (built with o.ClientOpts()) to out until
// Count records were printed or ctx ends; both are a normal end and return
// nil. For a group, the printed records are committed before returning.
func Consume(ctx context.Context, cl *kgo.Client, o ConsumeOptions, out io.Writer) (int, error) {
	w := bufio.NewWriter(out)
	var line []byte
	printed := 0
	var err error
	for err == nil && (o.Count == 0 || printed < o.Count) {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(t string, p int32, ferr error) {
			if err == nil && !errors.Is(ferr, context.Canceled) {
				err = fmt.Errorf("fetching %s[%d]: %w", t, p, ferr)
			}
		})
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
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("committing group %s: %w", o.Group, cerr)
		}
	}
	return printed, err
}
