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

// Produce sends one record per line of in (or the single Value) and waits
// until every record is acknowledged. It returns how many were acknowledged;
// on failure the error names the first record that failed.
func Produce(ctx context.Context, cl *kgo.Client, o ProduceOptions, in io.Reader) (int, error) {
	if o.Topic == "" {
		return 0, errors.New("no topic given")
	}
	var (
		mu       sync.Mutex
		acked    int
		firstErr error
		wg       sync.WaitGroup
	)
	send := func(n int, r *kgo.Record) {
		wg.Add(1)
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("record %d to %s: %w", n, o.Topic, err)
				}
				return
			}
			acked++
		})
	}
	if o.Value != nil {
		send(1, o.record([]byte(*o.Value)))
	} else {
		lines := &lineReader{r: in}
		for n := 1; ; n++ {
			line, err := lines.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				wg.Wait()
				return acked, fmt.Errorf("reading input line %d: %w", n, err)
			}
			send(n, o.record(line))
		}
	}
	wg.Wait()
	return acked, firstErr
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
