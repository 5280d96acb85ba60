package event

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers the router adds to a dead-letter record, after the original
// record's own headers (a replayed dead letter that fails again carries two
// sets; the router's new ones come last, which is what [ParseDeadLetter]
// reads).
//
// Dead letters are written at least once. The router writes the dead
// letter, then marks the record for commit; a router that crashes (or
// loses the partition) in between leaves the record uncommitted, and its
// next owner dead-letters it again. Every copy carries the same original
// position, and no two records share one, so the dedupe key of a dead
// letter is (group, original topic, partition, offset):
// [HeaderDLTGroup], [HeaderDLTOriginalTopic], [HeaderDLTOriginalPartition]
// and [HeaderDLTOriginalOffset], or [DeadLetter.Key]. Count, alert on or
// replay dead letters by that key, not by DLT offset.
const (
	// HeaderDLTOriginalTopic is the topic the record was consumed from.
	HeaderDLTOriginalTopic = "ksuite-dlt-original-topic"
	// HeaderDLTOriginalPartition is its partition, in decimal.
	HeaderDLTOriginalPartition = "ksuite-dlt-original-partition"
	// HeaderDLTOriginalOffset is its offset, in decimal.
	HeaderDLTOriginalOffset = "ksuite-dlt-original-offset"
	// HeaderDLTError is the error text, cut to 4 KiB.
	HeaderDLTError = "ksuite-dlt-error"
	// HeaderDLTAttempts is how many times the handler ran; "0" when the
	// record could not be decoded and no handler ran.
	HeaderDLTAttempts = "ksuite-dlt-attempts"
	// HeaderDLTGroup is the consumer group whose handler gave up on it.
	HeaderDLTGroup = "ksuite-dlt-group"
	// HeaderDLTOriginalTimestamp is the record's timestamp, in milliseconds
	// since the Unix epoch, decimal. The dead letter itself is stamped with
	// the time it was written: an old timestamp would make brokers that
	// bound message.timestamp.before.max.ms refuse it, the dead-letter
	// topic's retention.ms delete it early, and franz-go's
	// RecordDeliveryTimeout fail it at once.
	HeaderDLTOriginalTimestamp = "ksuite-dlt-original-timestamp"
)

// DeadLetter is what the router recorded about a dead-letter record.
type DeadLetter struct {
	// Group is the consumer group whose handler gave up on the record.
	Group string
	// Topic, Partition and Offset are where the record was consumed from.
	Topic     string
	Partition int32
	Offset    int64
	// Error is the handler's (or the decoder's) error text.
	Error string
	// Attempts is how many times the handler ran; 0 for a record that
	// could not be decoded.
	Attempts int
	// Timestamp is the record's own timestamp; zero for dead letters
	// written before ksuite recorded it.
	Timestamp time.Time
}

// Key is the dead letter's dedupe key, "<group>/<topic>/<partition>/<offset>":
// the same for every copy of it (see [HeaderDLTOriginalTopic]).
func (d DeadLetter) Key() string {
	return d.Group + "/" + d.Topic + "/" + strconv.Itoa(int(d.Partition)) + "/" + strconv.FormatInt(d.Offset, 10)
}

// ParseDeadLetter reads the router's headers of a dead-letter record. It
// fails when one is missing or malformed: the record was not written by
// the router.
func ParseDeadLetter(r *kgo.Record) (DeadLetter, error) {
	last := func(key string) (string, bool) {
		for i := len(r.Headers) - 1; i >= 0; i-- {
			if r.Headers[i].Key == key {
				return string(r.Headers[i].Value), true
			}
		}
		return "", false
	}
	var d DeadLetter
	var missing []string
	get := func(key string) string {
		v, ok := last(key)
		if !ok {
			missing = append(missing, key)
		}
		return v
	}
	d.Group, d.Topic, d.Error = get(HeaderDLTGroup), get(HeaderDLTOriginalTopic), get(HeaderDLTError)
	partition, offset, attempts := get(HeaderDLTOriginalPartition), get(HeaderDLTOriginalOffset), get(HeaderDLTAttempts)
	if len(missing) > 0 {
		return DeadLetter{}, fmt.Errorf("event: not a dead letter: no %s header", strings.Join(missing, ", "))
	}
	p, err1 := strconv.ParseInt(partition, 10, 32)
	o, err2 := strconv.ParseInt(offset, 10, 64)
	a, err3 := strconv.Atoi(attempts)
	if err := errors.Join(err1, err2, err3); err != nil {
		return DeadLetter{}, fmt.Errorf("event: malformed dead-letter header: %w", err)
	}
	d.Partition, d.Offset, d.Attempts = int32(p), o, a
	if ts, ok := last(HeaderDLTOriginalTimestamp); ok {
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return DeadLetter{}, fmt.Errorf("event: malformed dead-letter header %s: %w", HeaderDLTOriginalTimestamp, err)
		}
		d.Timestamp = time.UnixMilli(ms)
	}
	return d, nil
}

// DeadLetterSuffix is appended to a topic's name to name its dead-letter
// topic.
const DeadLetterSuffix = ".DLT"

// DeadLetterTopic is the dead-letter topic of topic: "<topic>.DLT". Create
// it beside the topic (same partition count is a good default) unless the
// brokers auto-create topics.
func DeadLetterTopic(topic string) string { return topic + DeadLetterSuffix }

const maxErrorHeader = 4 << 10

// deadLetterRecord copies r's key, value and headers to r's dead-letter
// topic and adds where it came from and why it failed. Keeping the key keeps
// the entity's dead letters in order; keeping the value byte-for-byte lets
// an operator replay it unchanged.
func deadLetterRecord(r *kgo.Record, group string, cause error, attempts int) *kgo.Record {
	msg := cause.Error()
	if len(msg) > maxErrorHeader {
		// Cut on a character boundary: consumers read the header as text.
		n := maxErrorHeader
		for n > 0 && !utf8.RuneStart(msg[n]) {
			n--
		}
		msg = msg[:n]
	}
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+7)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderDLTOriginalTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderDLTOriginalPartition, Value: strconv.AppendInt(nil, int64(r.Partition), 10)},
		kgo.RecordHeader{Key: HeaderDLTOriginalOffset, Value: strconv.AppendInt(nil, r.Offset, 10)},
		kgo.RecordHeader{Key: HeaderDLTError, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderDLTAttempts, Value: strconv.AppendInt(nil, int64(attempts), 10)},
		kgo.RecordHeader{Key: HeaderDLTGroup, Value: []byte(group)},
	)
	if !r.Timestamp.IsZero() {
		headers = append(headers, kgo.RecordHeader{Key: HeaderDLTOriginalTimestamp, Value: strconv.AppendInt(nil, r.Timestamp.UnixMilli(), 10)})
	}
	// No Timestamp: franz-go stamps the dead letter when it is produced
	// (see HeaderDLTOriginalTimestamp).
	return &kgo.Record{
		Topic:   DeadLetterTopic(r.Topic),
		Key:     r.Key,
		Value:   r.Value,
		Headers: headers,
	}
}
